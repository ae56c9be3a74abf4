package dynstream

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// DynamoDB Streams hands the same record over in two shapes: as JSON to a
// Lambda function (events.DynamoDBEventRecord) and through the Streams API
// to a poller (dynamodbstreams types.Record). Both are converted into the
// dynamodb attribute values dynstore.DecodeCommitItem reads, so a commit
// decodes the same way, with the same checks, wherever it comes from.

// Stream event names (OperationType).
const (
	eventInsert = "INSERT"
	eventModify = "MODIFY"
	eventRemove = "REMOVE"
)

const opStream = "dynstream.Decode"

// DecodedRecord is the outcome of decoding one stream record of a batch.
// Exactly one of three holds: IsCommit (Commit is set), Err != nil (the
// record is malformed), or neither (the record is not a commit).
type DecodedRecord struct {
	// EventID and SequenceNumber identify the record; the projector reports
	// SequenceNumber in BatchItemFailures.
	EventID        string
	SequenceNumber string
	Commit         signal.Commit
	IsCommit       bool
	// Err is the *signal.Error DecodeLambdaRecord returned.
	Err error
}

// DecodeLambdaEvent decodes every record of a Lambda DynamoDB Streams
// event, in order, one DecodedRecord per record (so len(result) ==
// len(ev.Records)). A malformed record yields a DecodedRecord with Err set
// and does not stop the others from being decoded: the caller decides
// which records to fail, e.g. every record of the affected aggregate from
// the first bad one on.
func DecodeLambdaEvent(ev events.DynamoDBEvent) []DecodedRecord {
	out := make([]DecodedRecord, len(ev.Records))
	for i := range ev.Records {
		r := &ev.Records[i]
		c, ok, err := DecodeLambdaRecord(*r)
		out[i] = DecodedRecord{EventID: r.EventID, SequenceNumber: r.Change.SequenceNumber, Commit: c, IsCommit: ok, Err: err}
	}
	return out
}

// DecodeLambdaRecord decodes a DynamoDB Streams record as Lambda delivers
// it. Outcomes:
//   - (commit, true, nil): an INSERT of an item of kind "commit".
//   - (zero, false, nil): not a commit: a MODIFY or REMOVE (commit items
//     are only ever inserted, so these are snapshots being replaced or
//     items being deleted), an item of another kind (snapshot, tombstone),
//     or a record without NewImage (the stream view type carries no image).
//   - (zero, false, err): the record is malformed: no sequence number, an
//     unknown event name, an item without a string "kind", an attribute
//     value that cannot be read, or a commit item dynstore.DecodeCommit rejects.
//     err is a *signal.Error of KindInternal (the table holds something
//     this code did not write: a bug or corruption, which retrying cannot
//     fix) whose Message names the record's EventID and sequence number
//     and what is wrong, and whose Stream is the item's stream when its pk
//     could be read.
//
// It never panics, whatever the record holds.
func DecodeLambdaRecord(r events.DynamoDBEventRecord) (signal.Commit, bool, error) {
	img := r.Change.NewImage
	return decodeRecord(r.EventID, r.Change.SequenceNumber, r.EventName, len(img) > 0,
		func() (map[string]types.AttributeValue, error) { return fromLambdaImage(img) })
}

// DecodeStreamRecord decodes a record returned by the DynamoDB Streams API
// (GetRecords). Its outcomes are DecodeLambdaRecord's; in addition a record
// without its "dynamodb" part is malformed.
func DecodeStreamRecord(r streamtypes.Record) (signal.Commit, bool, error) {
	id := aws.ToString(r.EventID)
	if r.Dynamodb == nil {
		return signal.Commit{}, false, recordError(id, "", signal.StreamID{}, "the record has no dynamodb part")
	}
	img := r.Dynamodb.NewImage
	return decodeRecord(id, aws.ToString(r.Dynamodb.SequenceNumber), string(r.EventName), len(img) > 0,
		func() (map[string]types.AttributeValue, error) { return fromStreamImage(img) })
}

// decodeRecord is the one decoding path of both record shapes. image is
// called only for INSERTs that carry an image, so records that cannot be
// commits cost no conversion.
func decodeRecord(id, seq, eventName string, hasImage bool, image func() (map[string]types.AttributeValue, error)) (signal.Commit, bool, error) {
	if seq == "" {
		return signal.Commit{}, false, recordError(id, seq, signal.StreamID{}, "the record has no sequence number")
	}
	switch eventName {
	case eventInsert:
	case eventModify, eventRemove:
		return signal.Commit{}, false, nil
	default:
		return signal.Commit{}, false, recordError(id, seq, signal.StreamID{}, "event name %q is not INSERT, MODIFY or REMOVE", eventName)
	}
	if !hasImage {
		return signal.Commit{}, false, nil
	}
	item, err := image()
	if err != nil {
		return signal.Commit{}, false, recordError(id, seq, signal.StreamID{}, "NewImage: %v", err)
	}
	c, ok, err := dynstore.DecodeCommitItem(item)
	if err != nil {
		msg, stream := err.Error(), signal.StreamID{}
		var se *signal.Error
		if errors.As(err, &se) {
			msg, stream = cmp.Or(se.Message, msg), se.Stream
		}
		return signal.Commit{}, false, recordError(id, seq, stream, "%s", msg)
	}
	if !ok {
		return signal.Commit{}, false, nil
	}
	return c, true, nil
}

func recordError(id, seq string, stream signal.StreamID, format string, args ...any) *signal.Error {
	return &signal.Error{Kind: signal.KindInternal, Op: opStream, Stream: stream,
		Message: fmt.Sprintf("stream record %q (sequence number %q): ", id, seq) + fmt.Sprintf(format, args...)}
}

// fromLambdaImage converts an image of a Lambda stream record.
func fromLambdaImage(img map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(img))
	for name, v := range img {
		av, err := fromLambdaValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		out[name] = av
	}
	return out, nil
}

// fromLambdaValue converts one value. The accessors of
// events.DynamoDBAttributeValue panic unless the value holds the type they
// read. DataType says which type it holds, except for the zero
// DynamoDBAttributeValue, which claims to be binary and holds nothing; IsNull
// tells that one apart, so no accessor below can panic.
func fromLambdaValue(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	if v.IsNull() {
		if v.DataType() != events.DataTypeNull {
			return nil, errors.New("empty attribute value")
		}
		return &types.AttributeValueMemberNULL{Value: true}, nil
	}
	switch v.DataType() {
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeList:
		l := v.List()
		out := make([]types.AttributeValue, len(l))
		for i, e := range l {
			av, err := fromLambdaValue(e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = av
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m, err := fromLambdaImage(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	}
	return nil, fmt.Errorf("unsupported attribute data type %d", v.DataType())
}

// fromStreamImage converts an image of a Streams API record.
func fromStreamImage(img map[string]streamtypes.AttributeValue) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(img))
	for name, v := range img {
		av, err := fromStreamValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		out[name] = av
	}
	return out, nil
}

var errNilValue = errors.New("missing attribute value")

// fromStreamValue converts one value: lists and maps element by element,
// scalars and sets by fromStreamScalar. The union members are pointers,
// so each case checks for a typed nil before reading it.
func fromStreamValue(v streamtypes.AttributeValue) (types.AttributeValue, error) {
	switch v := v.(type) {
	case *streamtypes.AttributeValueMemberL:
		if v == nil {
			return nil, errNilValue
		}
		out := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			av, err := fromStreamValue(e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = av
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case *streamtypes.AttributeValueMemberM:
		if v == nil {
			return nil, errNilValue
		}
		m, err := fromStreamImage(v.Value)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	case *streamtypes.UnknownUnionMember:
		if v == nil {
			return nil, errNilValue
		}
		return nil, fmt.Errorf("unknown attribute type %q", v.Tag)
	case nil:
		return nil, errNilValue
	}
	return fromStreamScalar(v)
}

// fromStreamScalar converts a scalar or set value (a copy of the same
// member); a typed nil is errNilValue, any other type unsupported.
func fromStreamScalar(v streamtypes.AttributeValue) (types.AttributeValue, error) {
	switch v := v.(type) {
	case *streamtypes.AttributeValueMemberB:
		if v != nil {
			return &types.AttributeValueMemberB{Value: v.Value}, nil
		}
	case *streamtypes.AttributeValueMemberBS:
		if v != nil {
			return &types.AttributeValueMemberBS{Value: v.Value}, nil
		}
	case *streamtypes.AttributeValueMemberBOOL:
		if v != nil {
			return &types.AttributeValueMemberBOOL{Value: v.Value}, nil
		}
	case *streamtypes.AttributeValueMemberN:
		if v != nil {
			return &types.AttributeValueMemberN{Value: v.Value}, nil
		}
	case *streamtypes.AttributeValueMemberNS:
		if v != nil {
			return &types.AttributeValueMemberNS{Value: v.Value}, nil
		}
	case *streamtypes.AttributeValueMemberNULL:
		if v != nil {
			return &types.AttributeValueMemberNULL{Value: v.Value}, nil
		}
	case *streamtypes.AttributeValueMemberS:
		if v != nil {
			return &types.AttributeValueMemberS{Value: v.Value}, nil
		}
	case *streamtypes.AttributeValueMemberSS:
		if v != nil {
			return &types.AttributeValueMemberSS{Value: v.Value}, nil
		}
	default:
		return nil, fmt.Errorf("unsupported attribute value %T", v)
	}
	return nil, errNilValue
}
