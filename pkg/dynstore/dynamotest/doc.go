// Package dynamotest gives tests of a Signal service on DynamoDB what the
// deployment has: a real DynamoDB and DynamoDB Streams API, the service's
// tables, and a stand-in for the event source mapping that feeds the
// table's stream to the projector.
//
// The endpoint is moto_server (an independent implementation of the AWS
// APIs, `pip install 'moto[server]'`), started once per test binary on a
// free loopback port, or the endpoint in AWS_ENDPOINT_URL when one is set
// (LocalStack, DynamoDB Local, a shared moto). moto_server runs with its
// DynamoDB requests serialized: moto checks a conditional write's
// condition and then writes without a lock, so two conditional writes on
// one key could both succeed, which DynamoDB never allows and optimistic
// concurrency relies on. A missing moto_server skips the test, except
// under CI=true, where it fails: CI must never pass by not testing.
//
// A test of the projector in-process:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		dynamotest.Stop()
//		os.Exit(code)
//	}
//
//	func TestBalance(t *testing.T) {
//		tables := dynamotest.NewTables(t, "bank") // fresh, deleted at the end
//		client := dynamodb.NewFromConfig(dynamotest.Config(t), dynstore.ClientOptions(nil))
//		store, _ := dynstore.New(client, tables)
//		svc, _ := signal.New(app.Config(store, true))
//		// ... handle commands ...
//		pump := dynamotest.NewPump(t, tables.Events, lambdastream.New(lambdastream.Config{Service: svc}).Handle, dynamotest.PumpConfig{})
//		for {
//			n, err := pump.Drain(t.Context())
//			if err != nil {
//				t.Fatal(err)
//			}
//			if n == 0 {
//				break
//			}
//		}
//		// ... read the views ...
//	}
//
// Or to the projector's bootstrap under aws-lambda-rie (pkg/lambdatest):
//
//	fn := lambdatest.Start(t, lambdatest.Build(t, "./functions/projector", t.TempDir()), env)
//	pump := dynamotest.NewPump(t, tables.Events, dynamotest.Lambda(fn), dynamotest.PumpConfig{})
//
// The Pump delivers as the stack's mapping does: batches of commit
// records in Lambda's shape, partial batch failures redelivered from the
// first failed record, a record given up after its retries (see Pump).
//
// dynamotest imports dynstore and dynstream; their own tests use its
// endpoint part, motoserver, instead.
package dynamotest
