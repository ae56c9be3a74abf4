// Command projector is the fixture of the pump's test under RIE: a stream
// projector that fails each record whose pk ends in "#flaky" the first
// two times this container sees it, and prints every record it is given.
// It lives under testdata so that `go build ./...` skips it.
package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

var seen = map[string]int{}

func handle(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, r := range ev.Records {
		seq := r.Change.SequenceNumber
		pk := r.Change.NewImage["pk"].String()
		seen[seq]++
		fmt.Printf("record %s %s delivery %d\n", pk, seq, seen[seq])
		if strings.HasSuffix(pk, "#flaky") && seen[seq] <= 2 {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
		}
	}
	return resp, nil
}

func main() {
	lambda.Start(handle)
}
