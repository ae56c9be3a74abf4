// Command hello is the smallest Go Lambda function: the aws-lambda-go
// runtime loop and a handler that returns fixed JSON. Its cold start is the
// floor every Signal function is measured against (docs/BENCHMARKS.md).
// It lives under testdata so that `go build ./...` and `go vet ./...` skip it.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

type response struct {
	OK       bool   `json:"ok"`
	Function string `json:"function"`
}

func handle(ctx context.Context, _ map[string]any) (response, error) {
	return response{OK: true, Function: "hello"}, nil
}

func main() {
	lambda.Start(handle)
}
