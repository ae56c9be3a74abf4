package dynstream

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestLambdaRecordRoundTrip: a streams-API record converted to the Lambda
// shape, sent through JSON as Lambda would, decodes to the same commit as
// the streams-API record itself.
func TestLambdaRecordRoundTrip(t *testing.T) {
	c := signal.Commit{Stream: signal.StreamID{Type: "cart", ID: "ü-1"}, Version: 3, CommandID: "cmd", CorrelationID: "corr",
		Actor: "policy:open-order", Time: time.UnixMilli(1700000000123).UTC(), Final: true,
		Events: []signal.RawEvent{{ID: "e1", Name: "A", SchemaVersion: 2, Data: []byte(`{"x":"\u00e9"}`)}, {ID: "e2", Name: "B", SchemaVersion: 1, Data: []byte{0xff, 0x00}}}}
	img := map[string]streamtypes.AttributeValue{}
	for k, v := range commitItem(&c) {
		img[k] = toStreamValue(v)
	}
	img["extra"] = &streamtypes.AttributeValueMemberSS{Value: []string{"a", "b"}}
	img["nul"] = &streamtypes.AttributeValueMemberNULL{Value: true}
	rec := streamtypes.Record{EventID: aws.String("id-1"), EventName: streamtypes.OperationTypeInsert,
		Dynamodb: &streamtypes.StreamRecord{SequenceNumber: aws.String("100"), NewImage: img, StreamViewType: streamtypes.StreamViewTypeNewImage,
			ApproximateCreationDateTime: aws.Time(time.Unix(1700000000, 0))}}
	lr, err := LambdaRecord(rec, "arn:aws:dynamodb:us-east-1:1:table/t/stream/x")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{lr}})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	got, ok, err := DecodeLambdaRecord(ev.Records[0])
	want, ok2, err2 := DecodeStreamRecord(rec)
	if err != nil || err2 != nil || !ok || !ok2 {
		t.Fatal(err, err2, ok, ok2)
	}
	if gb, wb := mustJSON(t, got), mustJSON(t, want); gb != wb || ev.Records[0].Change.SequenceNumber != "100" || ev.Records[0].EventSourceArn == "" {
		t.Fatalf("lambda %s\nstream %s", gb, wb)
	}
	if _, err := LambdaRecord(streamtypes.Record{EventID: aws.String("x")}, ""); err == nil {
		t.Fatal("a record without its dynamodb part must be an error")
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
