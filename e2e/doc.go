// Package e2e holds the end-to-end tests: the real bootstrap binaries of
// functions/ run under the AWS Lambda Runtime Interface Emulator, one RIE
// per simulated container, against moto_server (DynamoDB + Streams), driven
// with API Gateway v1 and v2 events (pkg/lambdatest), with or without the
// caller an authorizer verified (JWT or Cognito claims, IAM). A stand-in
// for the event source mapping (dynamotest.Pump) reads the table's stream
// and invokes the projector with the records Lambda would send, honouring
// its partial batch failures.
//
// Two services are deployed this way: this repository's cart (functions/)
// and bank/, the user's path: an account service written with only the
// public packages, whose functions are one line each on pkg/lambdafn, as
// a user's would be; bank/tenantfunctions serve the same domain with
// Tenancy, one namespace per tenant. Nothing of bank/ knows the cart.
//
// `make test` runs them; under CI=true a missing moto_server or
// aws-lambda-rie fails the run.
package e2e
