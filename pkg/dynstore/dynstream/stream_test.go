package dynstream

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/signal"
)

// streamSampleCommits covers what an item can hold: several events, unicode
// ids and payloads, non-UTF-8 payloads (stored as B), Final, and the
// optional ids, fingerprint and actor both present and absent.
func streamSampleCommits() []signal.Commit {
	at := time.UnixMilli(1_700_000_000_123).UTC()
	return []signal.Commit{
		{
			Stream: signal.StreamID{Type: "cart", ID: "c-1"}, Version: 1, CommandID: "cmd-1", Time: at,
			Events: []signal.RawEvent{{ID: "e-1", Name: "CartOpened", SchemaVersion: 1, Data: []byte(`{"owner":"ann"}`)}},
		},
		{
			Stream: signal.StreamID{Type: "cart", ID: "ünïcødé 🛒 Ω"}, Version: 7, CommandID: "cmd-2", Fingerprint: "q1Zb0yJ4dXvWk3-_8aQy7w",
			CorrelationID: "corr-ä", CausationID: "cause-1", Actor: "auth0|ünïcødé sub #1", Time: at.Add(time.Millisecond),
			Events: []signal.RawEvent{
				{ID: "e-2", Name: "ItemAdded", SchemaVersion: 2, Data: []byte(`{"sku":"tée","name":"日本語 ✓"}`)},
				{ID: "e-3", Name: "ItemAdded", SchemaVersion: 2, Data: []byte(`{"sku":"x"}`)},
				{ID: "e-4", Name: "ItemRemoved", SchemaVersion: 1, Data: []byte(`null`)},
			},
		},
		{
			Stream: signal.StreamID{Type: "blob", ID: "b-1"}, Version: 3, CommandID: "cmd-3", Actor: "policy:close-blob", Time: at.Add(time.Hour), Final: true,
			Events: []signal.RawEvent{
				{ID: "e-5", Name: "Stored", SchemaVersion: 1, Data: []byte{0xff, 0x00, 0xfe, 'a', 0x80}},
				{ID: "e-6", Name: "Closed", SchemaVersion: 3, Data: []byte(`{}`)},
			},
		},
	}
}

// lambdaJSONValue renders an attribute value in the JSON Lambda receives
// ({"S": "..."}, {"B": "<base64>"}, ...), independently of the decoder.
func lambdaJSONValue(av types.AttributeValue) any {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": v.Value} // encoding/json writes []byte as base64, as AWS does
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	case *types.AttributeValueMemberBS:
		return map[string]any{"BS": v.Value}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = lambdaJSONValue(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": lambdaJSONImage(v.Value)}
	}
	panic(fmt.Sprintf("lambdaJSONValue: %T", av))
}

func lambdaJSONImage(item map[string]types.AttributeValue) map[string]any {
	m := make(map[string]any, len(item))
	for k, v := range item {
		m[k] = lambdaJSONValue(v)
	}
	return m
}

// lambdaRecordJSON is one record of a DynamoDB Streams event as Lambda
// delivers it. img nil leaves NewImage out.
func lambdaRecordJSON(id, eventName, seq string, img map[string]types.AttributeValue) map[string]any {
	ddb := map[string]any{
		"ApproximateCreationDateTime": 1700000000,
		"SequenceNumber":              seq,
		"SizeBytes":                   120,
		"StreamViewType":              "NEW_IMAGE",
	}
	if img != nil {
		keys := map[string]any{}
		for _, k := range []string{attrPK, attrSK} {
			if v, ok := img[k]; ok {
				keys[k] = lambdaJSONValue(v)
			}
		}
		ddb["Keys"] = keys
		ddb["NewImage"] = lambdaJSONImage(img)
	}
	return map[string]any{
		"eventID": id, "eventName": eventName, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
		"awsRegion": "us-east-1", "dynamodb": ddb,
		"eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/events/stream/2024-01-01T00:00:00.000",
	}
}

// lambdaEvent marshals records into the event JSON and unmarshals it the
// way the Lambda runtime does.
func lambdaEvent(t testing.TB, records ...map[string]any) events.DynamoDBEvent {
	t.Helper()
	if records == nil {
		records = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return ev
}

func lambdaRecord(t testing.TB, id, eventName, seq string, img map[string]types.AttributeValue) events.DynamoDBEventRecord {
	t.Helper()
	return lambdaEvent(t, lambdaRecordJSON(id, eventName, seq, img)).Records[0]
}

// toStreamValue converts the other way from fromStreamValue, for building
// Streams API records in tests.
func toStreamValue(av types.AttributeValue) streamtypes.AttributeValue {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return &streamtypes.AttributeValueMemberS{Value: v.Value}
	case *types.AttributeValueMemberN:
		return &streamtypes.AttributeValueMemberN{Value: v.Value}
	case *types.AttributeValueMemberB:
		return &streamtypes.AttributeValueMemberB{Value: v.Value}
	case *types.AttributeValueMemberBOOL:
		return &streamtypes.AttributeValueMemberBOOL{Value: v.Value}
	case *types.AttributeValueMemberNULL:
		return &streamtypes.AttributeValueMemberNULL{Value: v.Value}
	case *types.AttributeValueMemberSS:
		return &streamtypes.AttributeValueMemberSS{Value: v.Value}
	case *types.AttributeValueMemberNS:
		return &streamtypes.AttributeValueMemberNS{Value: v.Value}
	case *types.AttributeValueMemberBS:
		return &streamtypes.AttributeValueMemberBS{Value: v.Value}
	case *types.AttributeValueMemberL:
		l := make([]streamtypes.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = toStreamValue(e)
		}
		return &streamtypes.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberM:
		return &streamtypes.AttributeValueMemberM{Value: toStreamImage(v.Value)}
	}
	panic(fmt.Sprintf("toStreamValue: %T", av))
}

func toStreamImage(item map[string]types.AttributeValue) map[string]streamtypes.AttributeValue {
	if item == nil {
		return nil
	}
	m := make(map[string]streamtypes.AttributeValue, len(item))
	for k, v := range item {
		m[k] = toStreamValue(v)
	}
	return m
}

func streamRecord(id, eventName, seq string, img map[string]types.AttributeValue) streamtypes.Record {
	return streamtypes.Record{
		EventID: aws.String(id), EventName: streamtypes.OperationType(eventName),
		EventSource: aws.String("aws:dynamodb"), AwsRegion: aws.String("us-east-1"),
		Dynamodb: &streamtypes.StreamRecord{
			SequenceNumber: aws.String(seq), NewImage: toStreamImage(img),
			StreamViewType: streamtypes.StreamViewTypeNewImage,
		},
	}
}

// recordDecoders runs a test case through both record shapes.
var recordDecoders = []struct {
	name   string
	decode func(t testing.TB, id, eventName, seq string, img map[string]types.AttributeValue) (signal.Commit, bool, error)
}{
	{"lambda", func(t testing.TB, id, eventName, seq string, img map[string]types.AttributeValue) (signal.Commit, bool, error) {
		return DecodeLambdaRecord(lambdaRecord(t, id, eventName, seq, img))
	}},
	{"streams", func(_ testing.TB, id, eventName, seq string, img map[string]types.AttributeValue) (signal.Commit, bool, error) {
		return DecodeStreamRecord(streamRecord(id, eventName, seq, img))
	}},
}

func TestDecodeRecordRoundTrip(t *testing.T) {
	for _, d := range recordDecoders {
		for i, want := range streamSampleCommits() {
			t.Run(fmt.Sprintf("%s/%s", d.name, want.Stream), func(t *testing.T) {
				got, ok, err := d.decode(t, fmt.Sprintf("ev-%d", i), "INSERT", strconv.Itoa(100+i), commitItem(&want))
				if err != nil || !ok {
					t.Fatalf("got ok=%v err=%v", ok, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("decoded\n%+v\nwant\n%+v", got, want)
				}
			})
		}
	}
}

// TestDecodeLambdaEventLiteral decodes an event written out by hand in the
// shape AWS documents, so the test does not only agree with its own helpers.
func TestDecodeLambdaEventLiteral(t *testing.T) {
	const literal = `{"Records":[{
		"eventID":"c4ca4238a0b923820dcc509a6f75849b","eventName":"INSERT","eventVersion":"1.1",
		"eventSource":"aws:dynamodb","awsRegion":"eu-west-1",
		"dynamodb":{
			"ApproximateCreationDateTime":1700000000,
			"Keys":{"pk":{"S":"blob#b-9"},"sk":{"N":"4"}},
			"NewImage":{
				"pk":{"S":"blob#b-9"},"sk":{"N":"4"},"kind":{"S":"commit"},"last":{"N":"5"},
				"ts":{"N":"1700000000123"},"cmd":{"S":"cmd-9"},"fp":{"S":"q1Zb0yJ4dXvWk3-_8aQy7w"},"corr":{"S":"corr-9"},"ac":{"S":"auth0|u-9"},"final":{"BOOL":true},
				"ev":{"L":[
					{"M":{"id":{"S":"e-1"},"n":{"S":"Stored"},"v":{"N":"1"},"d":{"B":"/wD+"}}},
					{"M":{"id":{"S":"e-2"},"n":{"S":"Noted"},"v":{"N":"2"},"d":{"S":"{\"ü\":1}"}}}
				]}
			},
			"SequenceNumber":"4421584500000000017450439091","SizeBytes":200,"StreamViewType":"NEW_IMAGE"},
		"eventSourceARN":"arn:aws:dynamodb:eu-west-1:123456789012:table/events/stream/2024-01-01T00:00:00.000"
	}]}`
	var ev events.DynamoDBEvent
	if err := json.Unmarshal([]byte(literal), &ev); err != nil {
		t.Fatal(err)
	}
	got := DecodeLambdaEvent(ev)
	want := []DecodedRecord{{
		EventID: "c4ca4238a0b923820dcc509a6f75849b", SequenceNumber: "4421584500000000017450439091", IsCommit: true,
		Commit: signal.Commit{
			Stream: signal.StreamID{Type: "blob", ID: "b-9"}, Version: 4, CommandID: "cmd-9", Fingerprint: "q1Zb0yJ4dXvWk3-_8aQy7w", CorrelationID: "corr-9",
			Actor: "auth0|u-9", Time: time.UnixMilli(1700000000123).UTC(), Final: true,
			Events: []signal.RawEvent{
				{ID: "e-1", Name: "Stored", SchemaVersion: 1, Data: []byte{0xff, 0x00, 0xfe}},
				{ID: "e-2", Name: "Noted", SchemaVersion: 2, Data: []byte(`{"ü":1}`)},
			},
		},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestDecodeRecordNotCommit(t *testing.T) {
	c := streamSampleCommits()[2]
	snapshot := snapshotKey(c.Stream)
	snapshot[attrKind] = str(dynstore.KindSnapshot)
	snapshot[attrData] = str(`{"n":1}`)
	cases := []struct {
		name, eventName string
		img             map[string]types.AttributeValue
	}{
		{"remove of a commit", "REMOVE", commitItem(&c)},
		{"modify of a commit", "MODIFY", commitItem(&c)},
		{"snapshot", "INSERT", snapshot},
		{"snapshot replaced", "MODIFY", snapshot},
		{"tombstone", "INSERT", tombstoneItem(&c)},
		{"no new image", "INSERT", nil},
	}
	for _, d := range recordDecoders {
		for _, tc := range cases {
			t.Run(d.name+"/"+tc.name, func(t *testing.T) {
				got, ok, err := d.decode(t, "ev-1", tc.eventName, "42", tc.img)
				if err != nil || ok || !reflect.DeepEqual(got, signal.Commit{}) {
					t.Fatalf("got (%+v, %v, %v), want a zero commit, false, nil", got, ok, err)
				}
			})
		}
	}
}

// wantRecordError checks that err is the typed error naming the record.
func wantRecordError(t testing.TB, err error, id, seq, what string) *signal.Error {
	t.Helper()
	var se *signal.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *signal.Error", err, err)
	}
	if se.Kind != signal.KindInternal || se.Op != opStream {
		t.Fatalf("error %v: kind %v op %q, want internal, %q", err, se.Kind, se.Op, opStream)
	}
	for _, s := range []string{strconv.Quote(id), strconv.Quote(seq), what} {
		if !strings.Contains(se.Message, s) {
			t.Fatalf("message %q does not contain %q", se.Message, s)
		}
	}
	return se
}

func TestDecodeRecordMalformed(t *testing.T) {
	good := streamSampleCommits()[1]
	set := func(name string, v types.AttributeValue) func(map[string]types.AttributeValue) {
		return func(item map[string]types.AttributeValue) { item[name] = v }
	}
	del := func(name string) func(map[string]types.AttributeValue) {
		return func(item map[string]types.AttributeValue) { delete(item, name) }
	}
	event := func(i int, f func(map[string]types.AttributeValue)) func(map[string]types.AttributeValue) {
		return func(item map[string]types.AttributeValue) {
			f(item[attrEvents].(*types.AttributeValueMemberL).Value[i].(*types.AttributeValueMemberM).Value)
		}
	}
	cases := []malformedRecord{
		{name: "missing pk", mutate: del(attrPK), what: "pk"},
		{name: "pk without separator", mutate: set(attrPK, str("cart")), what: "pk is not"},
		{name: "missing sk", mutate: del(attrSK), what: "sk", stream: true},
		{name: "sk is a string", mutate: set(attrSK, str("7")), what: "sk", stream: true},
		{name: "sk is zero", mutate: set(attrSK, num(0)), what: "sk", stream: true},
		{name: "sk is fractional", mutate: set(attrSK, &types.AttributeValueMemberN{Value: "7.5"}), what: "sk", stream: true},
		{name: "missing last", mutate: del(attrLast), what: "last", stream: true},
		{name: "wrong last", mutate: set(attrLast, num(8)), what: "last is 8", stream: true},
		{name: "missing ts", mutate: del(attrTime), what: "ts", stream: true},
		{name: "events not a list", mutate: set(attrEvents, str("[]")), what: "no events", stream: true},
		{name: "events empty", mutate: set(attrEvents, &types.AttributeValueMemberL{}), what: "no events", stream: true},
		{name: "event not a map", mutate: set(attrEvents, &types.AttributeValueMemberL{Value: []types.AttributeValue{str("e")}}), what: "event 0 is not a map", stream: true},
		{name: "event without data", mutate: event(1, del(attrData)), what: "event 1 has no data", stream: true},
		{name: "data is a number", mutate: event(2, set(attrData, num(1))), what: "event 2 has no data", stream: true},
		{name: "event without name", mutate: event(0, del(attrName)), what: "event 0 lacks", stream: true},
		{name: "schema version not a number", mutate: event(0, set(attrSchema, str("1"))), what: "event 0 lacks", stream: true},
		{name: "missing kind", mutate: del(attrKind), what: `no string attribute "kind"`, stream: true},
		{name: "kind not a string", mutate: set(attrKind, num(1)), what: `no string attribute "kind"`, stream: true},
		{name: "unknown event name", eventName: "UPSERT", what: `"UPSERT"`},
		{name: "no sequence number", seq: "-", what: "no sequence number"},
	}
	for _, d := range recordDecoders {
		for _, tc := range cases {
			t.Run(d.name+"/"+tc.name, func(t *testing.T) { tc.check(t, good, d.decode) })
		}
	}
}

// malformedRecord is a case of TestDecodeRecordMalformed: a good commit's
// item changed by mutate, or a record with another event name or
// sequence number ("-": none), and what its error must say.
type malformedRecord struct {
	name      string
	eventName string
	seq       string
	mutate    func(map[string]types.AttributeValue)
	what      string
	stream    bool // the error names the item's stream
}

// check decodes the malformed record of good with decode: no commit,
// the error wantRecordError describes, naming good's stream when
// tc.stream.
func (tc malformedRecord) check(t *testing.T, good signal.Commit, decode func(t testing.TB, id, eventName, seq string, img map[string]types.AttributeValue) (signal.Commit, bool, error)) {
	item := commitItem(&good)
	if tc.mutate != nil {
		tc.mutate(item)
	}
	eventName, seq := cmp.Or(tc.eventName, "INSERT"), cmp.Or(tc.seq, "4421584500000000017450439091")
	if seq == "-" {
		seq = ""
	}
	got, ok, err := decode(t, "ev-77", eventName, seq, item)
	if ok || !reflect.DeepEqual(got, signal.Commit{}) {
		t.Fatalf("got (%+v, %v), want a zero commit, false", got, ok)
	}
	se := wantRecordError(t, err, "ev-77", seq, tc.what)
	if wantStream := tc.stream; wantStream != (se.Stream == good.Stream) {
		t.Fatalf("error stream %v, want the item's stream: %v", se.Stream, wantStream)
	}
}

// TestDecodeRecordMalformedShape covers what only one record shape can
// hold: values the JSON decoder never produces but a Go caller can.
func TestDecodeRecordMalformedShape(t *testing.T) {
	good := streamSampleCommits()[0]
	lambdaCases := []struct {
		name string
		img  map[string]events.DynamoDBAttributeValue
		what string
	}{
		{"zero value", map[string]events.DynamoDBAttributeValue{attrPK: {}}, `attribute "pk": empty attribute value`},
		{"zero value in a list", map[string]events.DynamoDBAttributeValue{
			"x": events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewStringAttribute("a"), {}}),
		}, `attribute "x": element 1: empty attribute value`},
		{"zero value in a map", map[string]events.DynamoDBAttributeValue{
			"x": events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{"y": {}}),
		}, `attribute "x": attribute "y": empty`},
	}
	for _, tc := range lambdaCases {
		t.Run("lambda/"+tc.name, func(t *testing.T) {
			r := events.DynamoDBEventRecord{EventID: "ev-1", EventName: "INSERT",
				Change: events.DynamoDBStreamRecord{SequenceNumber: "9", NewImage: tc.img}}
			_, ok, err := DecodeLambdaRecord(r)
			if ok {
				t.Fatal("decoded")
			}
			wantRecordError(t, err, "ev-1", "9", tc.what)
		})
	}

	withValue := func(name string, v streamtypes.AttributeValue) streamtypes.Record {
		r := streamRecord("ev-2", "INSERT", "10", commitItem(&good))
		r.Dynamodb.NewImage[name] = v
		return r
	}
	noDynamodb := streamRecord("ev-2", "INSERT", "", nil)
	noDynamodb.Dynamodb = nil
	streamCases := []struct {
		name string
		r    streamtypes.Record
		seq  string
		what string
	}{
		{"no dynamodb part", noDynamodb, "", "no dynamodb part"},
		{"nil value", withValue(attrCommand, nil), "10", `attribute "cmd": missing attribute value`},
		{"typed nil member", withValue(attrCorr, (*streamtypes.AttributeValueMemberS)(nil)), "10", `attribute "corr": missing`},
		{"typed nil list", withValue(attrEvents, (*streamtypes.AttributeValueMemberL)(nil)), "10", `attribute "ev": missing`},
		{"nil in a list", withValue("x", &streamtypes.AttributeValueMemberL{Value: []streamtypes.AttributeValue{nil}}), "10", `element 0: missing`},
		{"unknown member", withValue("x", &streamtypes.UnknownUnionMember{Tag: "VECTOR"}), "10", `unknown attribute type "VECTOR"`},
	}
	for _, tc := range streamCases {
		t.Run("streams/"+tc.name, func(t *testing.T) {
			_, ok, err := DecodeStreamRecord(tc.r)
			if ok {
				t.Fatal("decoded")
			}
			wantRecordError(t, err, "ev-2", tc.seq, tc.what)
		})
	}
}

// TestDecodeAttributeConversion checks every DynamoDB data type through both
// converters.
func TestDecodeAttributeConversion(t *testing.T) {
	const lambdaJSON = `{
		"b":{"B":"AP8="},"bs":{"BS":["AQ==","Ag=="]},"t":{"BOOL":true},"f":{"BOOL":false},
		"l":{"L":[{"S":"x"},{"N":"1"},{"L":[]}]},"m":{"M":{"k":{"NULL":true},"e":{"M":{}}}},
		"n":{"N":"-1.5E3"},"ns":{"NS":["1","2.5"]},"nul":{"NULL":true},"s":{"S":"ü \u0000"},"es":{"S":""},
		"ss":{"SS":["a","b"]}}`
	want := map[string]types.AttributeValue{
		"b":  &types.AttributeValueMemberB{Value: []byte{0x00, 0xff}},
		"bs": &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"t":  &types.AttributeValueMemberBOOL{Value: true},
		"f":  &types.AttributeValueMemberBOOL{Value: false},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberN{Value: "1"},
			&types.AttributeValueMemberL{Value: []types.AttributeValue{}},
		}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"k": &types.AttributeValueMemberNULL{Value: true},
			"e": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		}},
		"n":   &types.AttributeValueMemberN{Value: "-1.5E3"},
		"ns":  &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		"nul": &types.AttributeValueMemberNULL{Value: true},
		"s":   &types.AttributeValueMemberS{Value: "ü \x00"},
		"es":  &types.AttributeValueMemberS{Value: ""},
		"ss":  &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
	}
	var img map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal([]byte(lambdaJSON), &img); err != nil {
		t.Fatal(err)
	}
	got, err := fromLambdaImage(img)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lambda: got %#v\nwant %#v", got, want)
	}
	got, err = fromStreamImage(toStreamImage(want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("streams: got %#v\nwant %#v", got, want)
	}
}

// TestDecodeLambdaEvent checks that each record gets its own outcome, in
// order, and that a malformed record does not hide the ones after it.
func TestDecodeLambdaEvent(t *testing.T) {
	cs := streamSampleCommits()
	bad := commitItem(&cs[1])
	delete(bad, attrTime)
	ev := lambdaEvent(t,
		lambdaRecordJSON("r1", "INSERT", "101", commitItem(&cs[0])),
		lambdaRecordJSON("r2", "INSERT", "102", tombstoneItem(&cs[2])),
		lambdaRecordJSON("r3", "INSERT", "103", bad),
		lambdaRecordJSON("r4", "REMOVE", "104", nil),
		lambdaRecordJSON("r5", "INSERT", "105", commitItem(&cs[2])),
	)
	got := DecodeLambdaEvent(ev)
	if len(got) != 5 {
		t.Fatalf("%d results, want 5", len(got))
	}
	wantCommit := map[int]*signal.Commit{0: &cs[0], 4: &cs[2]}
	for i, r := range got {
		if r.EventID != fmt.Sprintf("r%d", i+1) || r.SequenceNumber != strconv.Itoa(101+i) {
			t.Errorf("record %d: id %q seq %q", i, r.EventID, r.SequenceNumber)
		}
		switch c := wantCommit[i]; {
		case c != nil:
			if !r.IsCommit || r.Err != nil || !reflect.DeepEqual(r.Commit, *c) {
				t.Errorf("record %d: %+v, want commit %+v", i, r, *c)
			}
		case i == 2:
			if r.IsCommit {
				t.Errorf("record %d is a commit", i)
			}
			wantRecordError(t, r.Err, "r3", "103", "ts")
		default:
			if r.IsCommit || r.Err != nil {
				t.Errorf("record %d: %+v, want neither commit nor error", i, r)
			}
		}
	}
	if got := DecodeLambdaEvent(events.DynamoDBEvent{}); len(got) != 0 {
		t.Errorf("empty event: %+v", got)
	}
}

// unmarshalLambdaRecord unmarshals like the Lambda runtime, reporting
// false for JSON the events package rejects. It also reports false when the
// events package panics: aws-lambda-go v1.55.1 does on a "BS" list holding
// a non-string (an unchecked type assertion in unmarshalBinarySet), which
// no AWS-sent event contains; that panic is the library's, not the
// decoder's.
func unmarshalLambdaRecord(data []byte, r *events.DynamoDBEventRecord) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return json.Unmarshal(data, r) == nil
}

// sameCommit compares commits, treating nil and empty payloads alike (an
// empty B and an empty S decode to either).
func sameCommit(a, b signal.Commit) bool {
	ea, eb := a.Events, b.Events
	a.Events, b.Events = nil, nil
	if !reflect.DeepEqual(a, b) || len(ea) != len(eb) {
		return false
	}
	for i := range ea {
		x, y := ea[i], eb[i]
		if !bytes.Equal(x.Data, y.Data) {
			return false
		}
		if x.ID != y.ID || x.Name != y.Name || x.SchemaVersion != y.SchemaVersion {
			return false
		}
	}
	return true
}

func FuzzDecodeLambdaRecord(f *testing.F) {
	cs := streamSampleCommits()
	seed := func(r map[string]any) {
		b, err := json.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for i := range cs {
		seed(lambdaRecordJSON("e", "INSERT", "1", commitItem(&cs[i])))
	}
	seed(lambdaRecordJSON("e", "INSERT", "2", tombstoneItem(&cs[2])))
	seed(lambdaRecordJSON("e", "REMOVE", "3", commitItem(&cs[0])))
	bad := commitItem(&cs[1])
	bad[attrEvents] = &types.AttributeValueMemberL{Value: []types.AttributeValue{
		&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{attrData: &types.AttributeValueMemberBS{Value: [][]byte{{1}}}}},
	}}
	seed(lambdaRecordJSON("e", "INSERT", "4", bad))
	for _, s := range []string{
		`{}`,
		`{"eventName":"INSERT","dynamodb":{"SequenceNumber":"1","NewImage":{"kind":{"S":"commit"}}}}`,
		`{"eventName":"INSERT","dynamodb":{"SequenceNumber":"1","NewImage":{"kind":{"S":"commit"},"pk":{"S":"a#b"},"sk":{"N":"9223372036854775807"},"last":{"N":"-9223372036854775808"},"ts":{"N":"-9223372036854775808"},"ev":{"L":[{"M":{"id":{"S":""},"n":{"S":""},"v":{"N":"1"},"d":{"B":""}}},{"M":{"id":{"S":""},"n":{"S":""},"v":{"N":"-1"},"d":{"S":""}}}]}}}}`,
		`{"eventName":"INSERT","dynamodb":{"SequenceNumber":"1","NewImage":{"kind":{"NULL":true},"x":{"SS":["a"]},"y":{"NS":["1"]},"z":{"BOOL":true}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkLambdaRecordDecode)
}

// checkLambdaRecordDecode decodes data as a Lambda record, when it is
// one: an error is a record error and not ok; not a commit is a zero
// commit; a commit is possible, decodes the same through the Streams
// path, and decodes again from its own item.
func checkLambdaRecordDecode(t *testing.T, data []byte) {
	var r events.DynamoDBEventRecord
	if !unmarshalLambdaRecord(data, &r) {
		return
	}
	c, ok, err := DecodeLambdaRecord(r)
	if err != nil {
		if ok {
			t.Fatal("ok with an error")
		}
		wantRecordError(t, err, r.EventID, r.Change.SequenceNumber, "")
		return
	}
	if !ok {
		if !reflect.DeepEqual(c, signal.Commit{}) {
			t.Fatalf("not a commit, yet %+v", c)
		}
		return
	}
	if c.Version < 1 || len(c.Events) == 0 {
		t.Fatalf("decoded an impossible commit %+v", c)
	}
	// The Streams path must agree: same item, other shape.
	item, err := fromLambdaImage(r.Change.NewImage)
	if err != nil {
		t.Fatal(err)
	}
	c2, ok2, err2 := DecodeStreamRecord(streamRecord(r.EventID, r.EventName, r.Change.SequenceNumber, item))
	if err2 != nil || !ok2 || !sameCommit(c, c2) {
		t.Fatalf("streams path: (%+v, %v, %v), lambda path %+v", c2, ok2, err2, c)
	}
	// Encoding the decoded commit again gives it back.
	c3, err := dynstore.DecodeCommit(commitItem(&c))
	if err != nil || !sameCommit(c, c3) {
		t.Fatalf("re-encoded: (%+v, %v), want %+v", c3, err, c)
	}
}

// streamEnv is a fresh pair of tables in moto_server, with clients for
// DynamoDB and for its Streams API (moto serves both on one port).
type streamEnv struct {
	ddb     *dynamodb.Client
	streams *dynamodbstreams.Client
	tables  dynstore.Tables
	arn     string
	// versions is each stream's last written version (writeCommits).
	versions map[signal.StreamID]int64
}

func newStreamEnv(t testing.TB) *streamEnv {
	t.Helper()
	cfg := motoserver.Config(t)
	suffix := strings.ToLower(rand.Text()[:12])
	e := &streamEnv{
		ddb:     dynamodb.NewFromConfig(cfg),
		streams: dynamodbstreams.NewFromConfig(cfg),
		tables:  dynstore.Tables{Events: "stream-ev-" + suffix, Views: "stream-vw-" + suffix},
	}
	if err := dynstore.CreateTables(t.Context(), e.ddb, e.tables); err != nil {
		t.Fatal(err)
	}
	arn, err := StreamARN(t.Context(), e.ddb, e.tables.Events)
	if err != nil {
		t.Fatal(err)
	}
	e.arn = arn
	return e
}

func (e *streamEnv) put(t testing.TB, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := e.ddb.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(e.tables.Events), Item: item}); err != nil {
		t.Fatal(err)
	}
}

// readAll reads every record of the stream through the Streams API.
func (e *streamEnv) readAll(t testing.TB) []streamtypes.Record {
	t.Helper()
	ctx := t.Context()
	desc, err := e.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(e.arn)})
	if err != nil {
		t.Fatal(err)
	}
	var out []streamtypes.Record
	for _, sh := range desc.StreamDescription.Shards {
		it, err := e.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: aws.String(e.arn), ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			page, err := e.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Records) == 0 {
				break
			}
			out = append(out, page.Records...)
			iter = page.NextShardIterator
		}
	}
	return out
}

// TestDecodeStreamRecordFromMoto decodes records produced by a real
// DynamoDB Streams implementation.
func TestDecodeStreamRecordFromMoto(t *testing.T) {
	e := newStreamEnv(t)
	cs := streamSampleCommits()
	snapshot := snapshotKey(cs[0].Stream)
	snapshot[attrKind] = str(dynstore.KindSnapshot)
	snapshot[attrData] = str(`{}`)
	for i := range cs {
		e.put(t, commitItem(&cs[i]))
	}
	e.put(t, tombstoneItem(&cs[2]))
	e.put(t, snapshot)
	if _, err := e.ddb.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{
		TableName: aws.String(e.tables.Events), Key: snapshotKey(cs[0].Stream),
	}); err != nil {
		t.Fatal(err)
	}
	records := e.readAll(t)
	if len(records) != len(cs)+3 {
		t.Fatalf("%d records, want %d", len(records), len(cs)+3)
	}
	var got []signal.Commit
	for _, r := range records {
		c, ok, err := DecodeStreamRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got = append(got, c)
		}
	}
	if !reflect.DeepEqual(got, cs) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, cs)
	}
}
