// Command notprojector answers every invoke with a JSON string, not a
// batch response: the fixture for a Pump pointed at the wrong function.
// It lives under testdata so that `go build ./...` skips it.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (string, error) { return "hello", nil })
}
