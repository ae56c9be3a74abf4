package lambdastream

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// record builds the stream record DynamoDB sends for a commit item (the
// layout of dynstore's item.go), with the given sequence number.
func record(c signal.Commit, seq int) events.DynamoDBEventRecord {
	evs := make([]events.DynamoDBAttributeValue, len(c.Events))
	for i, e := range c.Events {
		evs[i] = events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{
			"id": events.NewStringAttribute(e.ID), "n": events.NewStringAttribute(e.Name),
			"v": events.NewNumberAttribute(strconv.Itoa(e.SchemaVersion)), "d": events.NewStringAttribute(string(e.Data)),
		})
	}
	img := map[string]events.DynamoDBAttributeValue{
		"pk": events.NewStringAttribute(c.Stream.Type + "#" + c.Stream.ID), "sk": events.NewNumberAttribute(fmt.Sprint(c.Version)),
		"kind": events.NewStringAttribute("commit"), "last": events.NewNumberAttribute(fmt.Sprint(c.LastVersion())),
		"ts": events.NewNumberAttribute(fmt.Sprint(c.Time.UnixMilli())), "cmd": events.NewStringAttribute(c.CommandID),
		"ev": events.NewListAttribute(evs),
	}
	return events.DynamoDBEventRecord{
		EventID: fmt.Sprint("ev-", seq), EventName: "INSERT", EventSource: "aws:dynamodb",
		Change: events.DynamoDBStreamRecord{
			SequenceNumber: fmt.Sprintf("%021d", seq), NewImage: img, StreamViewType: "NEW_IMAGE",
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: c.Time},
		},
	}
}

type fixture struct {
	store   *memstore.Store
	svc     *signal.Service
	handler *Handler
	batches []BatchInfo
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{store: memstore.New()}
	var err error
	f.svc, err = signal.New(signal.Config{Store: f.store, Types: tab.Types(), Subscribers: tab.Subscribers()})
	if err != nil {
		t.Fatal(err)
	}
	f.handler = New(Config{Service: f.svc, OnBatch: func(_ context.Context, b BatchInfo) { f.batches = append(f.batches, b) }})
	ctx := t.Context()
	for i := range 3 {
		id := fmt.Sprint("c", i)
		for j := range 3 {
			if _, err := f.svc.Handle(ctx, "tab", id, tab.OrderItem{Item: fmt.Sprint("s", j), Quantity: 1, Price: 10}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.Handle(ctx, "tab", id, tab.Pay{}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) records(t *testing.T) []events.DynamoDBEventRecord {
	changes, err := f.store.Changes(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []events.DynamoDBEventRecord
	for _, c := range changes {
		out = append(out, record(c.Commit, int(c.Position)))
	}
	return out
}

func (f *fixture) views(t *testing.T) string {
	s := ""
	for _, key := range []string{"c0", "c1", "c2"} {
		v, err := f.svc.View(t.Context(), tab.TabSummaryView, key)
		s += fmt.Sprintf("%s %s %v\n", key, v.Data, err)
	}
	for _, key := range []string{"s0", "s1", "s2"} {
		v, err := f.svc.View(t.Context(), tab.ItemSalesView, key)
		s += fmt.Sprintf("%s %s %v\n", key, v.Data, err)
	}
	return s
}

func (f *fixture) handle(t *testing.T, recs []events.DynamoDBEventRecord) []string {
	resp, err := f.handler.Handle(t.Context(), events.DynamoDBEvent{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []string
	for _, x := range resp.BatchItemFailures {
		seqs = append(seqs, x.ItemIdentifier)
	}
	return seqs
}

func TestBatchesBuildViewsOnce(t *testing.T) {
	f := newFixture(t)
	recs := f.records(t)
	if failed := f.handle(t, recs); failed != nil {
		t.Fatalf("failures: %v", failed)
	}
	want := f.views(t)
	if want == "" || f.batches[0].Commits != len(recs) {
		t.Fatalf("batch info %+v", f.batches)
	}
	// The policy issued receipts: their commits come in a later batch.
	recs = f.records(t)
	reversed := slices.Clone(recs)
	slices.Reverse(reversed)
	for _, batch := range [][]events.DynamoDBEventRecord{recs, recs, reversed} {
		if failed := f.handle(t, batch); failed != nil {
			t.Fatalf("failures: %v", failed)
		}
	}
	if got := f.views(t); got != want {
		t.Fatalf("views changed on redelivery:\n%s\nwant\n%s", got, want)
	}
	for i := range 3 {
		if _, err := f.svc.Get(t.Context(), "receipt", fmt.Sprint("c", i)); err != nil {
			t.Fatalf("receipt c%d: %v", i, err)
		}
	}
}

func TestPoisonRecordIsReportedAlone(t *testing.T) {
	f := newFixture(t)
	// A commit whose event this build does not know (written by a newer or
	// older deployment), on its own tab.
	poison := signal.Commit{Stream: signal.StreamID{Type: "tab", ID: "poison"}, Version: 1, CommandID: "p", Time: time.Now(),
		Events: []signal.RawEvent{{ID: "e", Name: "ItemTeleported", SchemaVersion: 1, Data: []byte(`{}`)}}}
	if err := f.store.Append(t.Context(), poison); err != nil {
		t.Fatal(err)
	}
	recs := f.records(t)
	// A malformed record too: a commit item without its events.
	bad := record(poison, 999)
	delete(bad.Change.NewImage, "ev")
	// And records that are not commits.
	snap := record(poison, 1000)
	snap.Change.NewImage["kind"] = events.NewStringAttribute("snapshot")
	modify := record(poison, 1001)
	modify.EventName = "MODIFY"
	recs = append(recs, bad, snap, modify)

	failed := f.handle(t, recs)
	poisonSeq := ""
	for _, r := range recs {
		if r.Change.NewImage["pk"].String() == "tab#poison" && r.EventID != bad.EventID && r.EventName == "INSERT" && r.Change.NewImage["kind"].String() == "commit" {
			poisonSeq = r.Change.SequenceNumber
		}
	}
	if !slices.Equal(failed, []string{bad.Change.SequenceNumber, poisonSeq}) {
		t.Fatalf("failures %v, want the malformed record then the poison one (%s)", failed, poisonSeq)
	}
	// Everything else was projected as if the poison were not there.
	clean := newFixture(t)
	if clean.handle(t, clean.records(t)) != nil {
		t.Fatal("clean run failed")
	}
	if got, want := f.views(t), clean.views(t); got != want {
		t.Fatalf("views with a poison record:\n%s\nwant\n%s", got, want)
	}
}

func TestFailureReportsFirstRecordOfAggregate(t *testing.T) {
	f := newFixture(t)
	recs := f.records(t)
	// Deliver c0's records reversed after a poison event appended to c0.
	poison := signal.Commit{Stream: signal.StreamID{Type: "tab", ID: "c9"}, Version: 1, CommandID: "x", Time: time.Now(),
		Events: []signal.RawEvent{{ID: "e1", Name: "ItemOrdered", SchemaVersion: 1, Data: []byte(`{"item":"a","quantity":1,"price":1}`)}}}
	p2 := poison
	p2.Version, p2.CommandID = 2, "y"
	p2.Events = []signal.RawEvent{{ID: "e2", Name: "Unknown", SchemaVersion: 1, Data: []byte(`{}`)}}
	p3 := poison
	p3.Version, p3.CommandID = 3, "z"
	p3.Events = []signal.RawEvent{{ID: "e3", Name: "ItemOrdered", SchemaVersion: 1, Data: []byte(`{"item":"b","quantity":1,"price":1}`)}}
	for _, c := range []signal.Commit{poison, p2, p3} {
		if err := f.store.Append(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	batch := append(recs, record(p3, 503), record(poison, 501), record(p2, 502))
	failed := f.handle(t, batch)
	// v1 applies; v2 fails; the earliest record holding v2 or later is v3's (503, first in batch order).
	if !slices.Equal(failed, []string{fmt.Sprintf("%021d", 503)}) {
		t.Fatalf("failures %v", failed)
	}
	v, err := f.svc.View(t.Context(), tab.TabSummaryView, "c9")
	if err != nil || !strings.Contains(string(v.Data), `"version":1`) {
		t.Fatalf("c9 must be projected up to v1 only: %s %v", v.Data, err)
	}
}
