// Package scaffold writes a new Signal service: `signal new DIR -module M`
// (cmd/signal) calls Generate, then Tidy.
//
// The project it writes is a user's service on the public packages only: a
// domain package named after the service with one aggregate (an account),
// a projection (balances), a policy (a welcome notice) and an
// authorization rule (an account belongs to the caller that opened it),
// their tests, the three one-line Lambda functions, the CLI on pkg/cli, an
// end-to-end test under aws-lambda-rie against moto_server, a CDK app on
// infra/signalstack with an assertions test, a LocalStack set-up, a
// Makefile and a README. The files are text/template templates embedded
// from templates/; every name ends in .tmpl (so Go neither builds them
// nor treats a templates/**/go.mod as a nested module), a path segment
// NAME becomes the service's name and a leading "dot-" a dot.
package scaffold
