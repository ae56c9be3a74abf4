// Command echo is the fixture for the harness's own tests: it returns the
// event it was given together with what it sees of its environment, fails
// or takes its time on request, counts invokes so a test can tell a warm
// container from a fresh one, and sleeps at init for INIT_SLEEP (a Go
// duration) so a test can check what InitDuration measures. It lives under
// testdata so that `go build ./...` skips it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Fail  string          `json:"fail,omitempty"`
	Panic bool            `json:"panic,omitempty"`
	Print string          `json:"print,omitempty"`
	Sleep string          `json:"sleep,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

type response struct {
	Data      json.RawMessage `json:"data,omitempty"`
	Function  string          `json:"function"`
	Region    string          `json:"region"`
	Greeting  string          `json:"greeting"`
	RequestID string          `json:"requestId"`
	Invokes   int             `json:"invokes"`
	PID       int             `json:"pid"`
}

var invokes int

func handle(ctx context.Context, e event) (response, error) {
	invokes++
	if e.Sleep != "" {
		d, err := time.ParseDuration(e.Sleep)
		if err != nil {
			return response{}, err
		}
		time.Sleep(d)
	}
	if e.Print != "" {
		fmt.Println(e.Print)
	}
	if e.Panic {
		panic("asked to panic")
	}
	if e.Fail != "" {
		return response{}, errors.New(e.Fail)
	}
	var id string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		id = lc.AwsRequestID
	}
	return response{
		Data:      e.Data,
		Function:  lambdacontext.FunctionName,
		Region:    os.Getenv("AWS_REGION"),
		Greeting:  os.Getenv("GREETING"),
		RequestID: id,
		Invokes:   invokes,
		PID:       os.Getpid(),
	}, nil
}

func main() {
	if s := os.Getenv("INIT_SLEEP"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			log.Fatalf("INIT_SLEEP: %v", err)
		}
		time.Sleep(d)
	}
	lambda.Start(handle)
}
