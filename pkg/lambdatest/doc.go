// Package lambdatest runs Lambda function binaries the way Lambda does, for
// tests: each Function is one aws-lambda-rie (the AWS Lambda Runtime
// Interface Emulator) on its own free loopback ports, with the function's
// bootstrap behind it speaking the real Runtime API. That is one simulated
// execution environment: RIE starts the bootstrap lazily on the first
// invoke (the cold start) and serves one invoke at a time. Two Starts of one
// bootstrap are two warm containers.
//
// A test builds its function as `make build` does, starts it, and invokes
// it; everything stops when the test ends:
//
//	bootstrap := lambdatest.Build(t, "./cmd/myfunction", t.TempDir())
//	fn := lambdatest.Start(t, bootstrap, map[string]string{
//		"EVENTS_TABLE": tables.Events, "AWS_ENDPOINT_URL": dynamotest.Endpoint(t),
//	})
//	out, err := fn.Invoke(t.Context(), map[string]any{"hello": "world"})
//
// HTTP functions take API Gateway events; HTTPv2 (HTTP API, payload 2.0)
// and HTTPv1 (REST API, payload 1.0) build them and decode the answer:
//
//	r, err := fn.HTTPv2(t.Context(), lambdatest.HTTPRequest{
//		Method: "POST", Path: "/aggregates/account/a1/Open", Body: `{"owner":"ann"}`,
//	})
//	// r.Status, r.Header("ETag"), r.Body
//
// A caller rides in the event where API Gateway's authorizer writes it,
// trusted by the function as it is: Claims as a JWT (HTTP API) or Cognito
// (REST API) authorizer's claims, IAM as a SigV4 caller. Without them the
// call is anonymous. Nothing is signed, so a test can be anyone:
//
//	r, err = fn.HTTPv1(t.Context(), lambdatest.HTTPRequest{
//		Path: "/aggregates/account/a1", Claims: map[string]string{"sub": "ann"},
//	})
//
// Func[In, Out] gives a function under RIE the shape of an in-process
// handler, e.g. a stream projector for dynamotest.Pump. Logs returns what
// RIE and the function printed (a failed test shows it), InitDuration the
// cold start as Lambda reports it.
//
// RIE itself: AWS_LAMBDA_RIE names it, else .tools/bin/aws-lambda-rie in
// the module (`make tools` in the Signal repository), else PATH; install
// it with
//
//	go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
//
// A missing RIE skips the test, except under CI=true, where it fails: CI
// must never pass by not testing.
//
// Linux only: RIE itself is, and the harness relies on process groups,
// parent-death signals and /proc to leave nothing running behind a test.
package lambdatest
