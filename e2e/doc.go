// Package e2e holds the end-to-end tests: the real bootstrap binaries of
// functions/ run under the AWS Lambda Runtime Interface Emulator, one RIE
// per simulated container, against moto_server (DynamoDB + Streams), driven
// with API Gateway v1 and v2 events (pkg/lambdatest). A stand-in for the
// event source mapping (dynamotest.Pump) reads the table's stream and
// invokes the projector with the records Lambda would send, honouring its
// partial batch failures.
//
// `make test` runs them; under CI=true a missing moto_server or
// aws-lambda-rie fails the run.
package e2e
