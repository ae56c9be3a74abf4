// Command ddbclient is hello plus what every Signal function does at init:
// load the AWS configuration and build a DynamoDB client. The difference
// between its cold start and hello's is the SDK's share of a cold start
// (docs/BENCHMARKS.md). No request is made, so it needs no endpoint.
// It lives under testdata so that `go build ./...` and `go vet ./...` skip it.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

type response struct {
	OK       bool   `json:"ok"`
	Function string `json:"function"`
	Region   string `json:"region"`
}

// client is built once per container, as in a real function, so its cost
// lands in the init phase rather than in every invoke.
var client *dynamodb.Client

func handle(ctx context.Context, _ map[string]any) (response, error) {
	return response{OK: true, Function: "ddbclient", Region: client.Options().Region}, nil
}

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	client = dynamodb.NewFromConfig(cfg)
	lambda.Start(handle)
}
