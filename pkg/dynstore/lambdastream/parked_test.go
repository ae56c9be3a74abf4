package lambdastream

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/signalforgo/signal/internal/testsupport"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

func TestMain(m *testing.M) { testsupport.Main(m, motoserver.Stop) }

// TestRecordWithoutSequenceNumberFailsTheBatch: a record that cannot be
// named is not taken as done; the batch fails whole (an empty item
// identifier), and is retried.
func TestRecordWithoutSequenceNumberFailsTheBatch(t *testing.T) {
	f := newFixture(t)
	recs := f.records(t)
	nameless := recs[1]
	nameless.Change.SequenceNumber = ""
	recs[1] = nameless
	failed := f.handle(t, recs)
	if !slices.Equal(failed, []string{""}) {
		t.Fatalf("failures %q, want one with an empty identifier (the whole batch)", failed)
	}
}

// TestPoisonParkedAndNoticeSent: a record that keeps failing is reported
// until its subscribers park on it; then the batch succeeds, the shard
// moves on, and each parked subscriber is announced on the dead-letter
// queue (SQS on moto_server) with its stream, version and error.
func TestPoisonParkedAndNoticeSent(t *testing.T) {
	ctx := t.Context()
	client := sqs.NewFromConfig(motoserver.Config(t))
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("dlq-%d", time.Now().UnixNano()))})
	if err != nil {
		t.Fatal(err)
	}
	st := memstore.New()
	h := New(Config{Service: newNoteService(t, st, ParkedNotifier(client, aws.ToString(q.QueueUrl), nil))})
	poison := signal.Commit{Stream: signal.StreamID{Type: "note", ID: "poison"}, Version: 1, CommandID: "p", Time: time.Now().UTC(),
		Events: []signal.RawEvent{{ID: "e", Name: "NoteTeleported", SchemaVersion: 1, Data: []byte(`{}`)}}}
	if err := st.Append(ctx, poison); err != nil {
		t.Fatal(err)
	}
	batch := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{record(poison, 7)}}
	for attempt := 1; attempt <= signal.DefaultParkAfter; attempt++ {
		resp, err := h.Handle(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if attempt == signal.DefaultParkAfter {
			want = 0
		}
		if len(resp.BatchItemFailures) != want {
			t.Fatalf("delivery %d: failures %+v, want %d", attempt, resp.BatchItemFailures, want)
		}
	}
	checkParkedNotices(t, client, q.QueueUrl)
}

// newNoteService is a Service on st for a test domain of its own: notes,
// followed by a projection and a checkpointed observer, with onPark.
func newNoteService(t *testing.T, st signal.Store, onPark func(context.Context, signal.Failure)) *signal.Service {
	type note struct{}
	type noted struct{}
	noteType := signal.MustDefine(signal.Spec[note]{Name: "note",
		Commands: []signal.CommandSpec[note]{signal.Decide("Note", func(note, note) ([]any, error) { return []any{noted{}}, nil }, signal.Genesis)},
		Events:   []signal.EventSpec[note]{signal.Evolve("Noted", func(s note, _ noted) note { return s })}})
	subs := []signal.Subscriber{
		&signal.Projection{Name: "note-index", On: []signal.ProjectionHandler{signal.ProjectAll(func(context.Context, *signal.ViewTx, signal.Event) error { return nil })}},
		&signal.Observer{Name: "note-mailer", On: []signal.ObserverHandler{signal.ObserveAll(func(context.Context, signal.Event) error { return nil })}},
	}
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{noteType}, Subscribers: subs, OnPark: onPark})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// checkParkedNotices checks that the queue holds one parked notice per
// subscriber of the note domain, each naming the poison's stream,
// version, attempts and error.
func checkParkedNotices(t *testing.T, client *sqs.Client, queueURL *string) {
	out, err := client.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: queueURL, MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range out.Messages {
		var pm ParkedMessage
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &pm); err != nil {
			t.Fatalf("message %q: %v", aws.ToString(m.Body), err)
		}
		if pm.Kind != ParkedKind || pm.Stream != "note#poison" || pm.Type != "note" || pm.ID != "poison" || pm.Version != 1 || pm.Attempts != signal.DefaultParkAfter || pm.Error == "" {
			t.Errorf("parked notice %+v", pm)
		}
		got = append(got, pm.Subscriber)
	}
	slices.Sort(got)
	if want := []string{"note-index", "note-mailer"}; !slices.Equal(got, want) {
		t.Errorf("parked notices for %v, want %v", got, want)
	}
}
