package dynstream

import (
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// LambdaRecord converts a record read with the DynamoDB Streams API into
// the record Lambda's event source mapping would deliver, so the projector
// function can be driven by a poller where there is no event source
// mapping (tests under the Lambda emulator, local endpoints). The error
// names the record when it holds a value that cannot be converted.
func LambdaRecord(r streamtypes.Record, streamARN string) (events.DynamoDBEventRecord, error) {
	out := events.DynamoDBEventRecord{
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    "aws:dynamodb",
		EventVersion:   aws.ToString(r.EventVersion),
		AWSRegion:      aws.ToString(r.AwsRegion),
		EventSourceArn: streamARN,
	}
	if out.EventVersion == "" {
		out.EventVersion = "1.1"
	}
	d := r.Dynamodb
	if d == nil {
		return out, fmt.Errorf("stream record %q has no dynamodb part", out.EventID)
	}
	out.Change = events.DynamoDBStreamRecord{
		SequenceNumber: aws.ToString(d.SequenceNumber),
		SizeBytes:      aws.ToInt64(d.SizeBytes),
		StreamViewType: string(d.StreamViewType),
	}
	if d.ApproximateCreationDateTime != nil {
		out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: d.ApproximateCreationDateTime.Truncate(time.Second)}
	}
	var err error
	conv := func(m map[string]streamtypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
		if m == nil || err != nil {
			return nil
		}
		res := make(map[string]events.DynamoDBAttributeValue, len(m))
		for k, v := range m {
			var av events.DynamoDBAttributeValue
			if av, err = lambdaValue(v); err != nil {
				err = fmt.Errorf("stream record %q, attribute %q: %w", out.EventID, k, err)
				return nil
			}
			res[k] = av
		}
		return res
	}
	out.Change.Keys = conv(d.Keys)
	out.Change.NewImage = conv(d.NewImage)
	out.Change.OldImage = conv(d.OldImage)
	return out, err
}

func lambdaValue(v streamtypes.AttributeValue) (events.DynamoDBAttributeValue, error) {
	switch v := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberNULL:
		return events.NewNullAttribute(), nil
	case *streamtypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value), nil
	case *streamtypes.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, x := range v.Value {
			var err error
			if l[i], err = lambdaValue(x); err != nil {
				return events.DynamoDBAttributeValue{}, err
			}
		}
		return events.NewListAttribute(l), nil
	case *streamtypes.AttributeValueMemberM:
		m := make(map[string]events.DynamoDBAttributeValue, len(v.Value))
		for k, x := range v.Value {
			var err error
			if m[k], err = lambdaValue(x); err != nil {
				return events.DynamoDBAttributeValue{}, err
			}
		}
		return events.NewMapAttribute(m), nil
	}
	return events.DynamoDBAttributeValue{}, fmt.Errorf("unsupported attribute value %T", v)
}
