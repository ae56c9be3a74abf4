package dynstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

func newService(t testing.TB, st signal.Store) *signal.Service {
	t.Helper()
	svc, err := signal.New(signal.Config{Store: st, Types: tab.Types()})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func add(item string, q int64) tab.OrderItem {
	return tab.OrderItem{Item: item, Quantity: q, Price: 100}
}

// requests returns the meter's calls by operation, for messages.
func requests(m *Meter) string {
	s := ""
	for _, op := range m.Operations() {
		st := m.Stats()[op]
		s += fmt.Sprintf("%s=%d/%d ", op, st.Calls, st.Attempts)
	}
	return s
}

func TestConflictReturnsExistingCommit(t *testing.T) {
	st := newTestStore(t)
	c := signal.Commit{Stream: signal.StreamID{Type: "tab", ID: "c1"}, Version: 1, CommandID: "winner", Time: time.Now(),
		Events: []signal.RawEvent{{ID: "e1", Name: "ItemOrdered", SchemaVersion: 1, Data: []byte(`{"item":"a","quantity":1,"price":1}`)}}}
	if err := st.Append(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	c.CommandID = "loser"
	err := st.Append(t.Context(), c)
	ce, ok := signal.ConflictOf(err)
	if !ok || ce.Existing == nil || ce.Existing.CommandID != "winner" || string(ce.Existing.Events[0].Data) != string(c.Events[0].Data) {
		t.Fatalf("conflict must carry the winning commit (ALL_OLD): %#v", err)
	}
}

// TestCommandCost asserts the handbook's cost targets through the meter.
func TestCommandCost(t *testing.T) {
	st := newTestStore(t)
	ctx := t.Context()
	svc := newService(t, st)
	if _, _, err := signal.Bind(svc, tab.Type).Handle(ctx, "c1", add("lager", 1)); err != nil {
		t.Fatal(err)
	}

	t.Run("warm command is exactly one request", func(t *testing.T) {
		st.meter.Reset()
		if _, _, err := signal.Bind(svc, tab.Type).Handle(ctx, "c1", add("lager", 1)); err != nil {
			t.Fatal(err)
		}
		if tot := st.meter.Total(); tot.Calls != 1 || tot.Attempts != 1 || st.meter.Stats()["PutItem"].Calls != 1 {
			t.Fatalf("warm command: %s", requests(st.meter))
		}
	})

	t.Run("warm command with a principal is one request and one WCU", func(t *testing.T) {
		caller := signal.WithPrincipal(ctx, &signal.Principal{Subject: "auth0|5f7c8ec7c33c6c004bbafe82"})
		st.meter.Reset()
		if _, _, err := signal.Bind(svc, tab.Type).Handle(caller, "c1", add("lager", 1)); err != nil {
			t.Fatal(err)
		}
		if tot := st.meter.Total(); tot.Calls != 1 || tot.Attempts != 1 || st.meter.Stats()["PutItem"].Capacity != 1 {
			t.Fatalf("warm command with a principal: %s, %v WCU", requests(st.meter), st.meter.Stats()["PutItem"].Capacity)
		}
	})

	t.Run("conflict costs no blind re-read", func(t *testing.T) {
		other := newService(t, st.Store)
		if _, _, err := signal.Bind(other, tab.Type).Handle(ctx, "c1", add("mead", 1)); err != nil { // other is now warm and current
			t.Fatal(err)
		}
		if _, _, err := signal.Bind(svc, tab.Type).Handle(ctx, "c1", add("lager", 1)); err != nil { // svc is stale by one commit
			t.Fatal(err)
		}
		st.meter.Reset()
		if _, _, err := signal.Bind(other, tab.Type).Handle(ctx, "c1", add("gin", 1)); err != nil { // other is stale by one commit
			t.Fatal(err)
		}
		s := st.meter.Stats()
		// 1 failed PutItem that returns the winning commit (folded, no
		// read), 1 PutItem that succeeds.
		if s["PutItem"].Calls != 2 || s["PutItem"].Errors != 1 || st.meter.Total().Calls != 2 {
			t.Fatalf("conflict: %s", requests(st.meter))
		}
		if other.Stats().Conflicts != 1 {
			t.Fatalf("stats %+v", other.Stats())
		}
	})
}

// TestColdCommandWithSnapshot: a 5,000-event tab whose snapshot exists
// costs exactly 1 read (the descending Query that finds the snapshot at the
// tip and the commits after it) and 1 write for the first command of a new
// container.
func TestColdCommandWithSnapshot(t *testing.T) {
	st := newTestStore(t)
	ctx := t.Context()
	stream := signal.StreamID{Type: "tab", ID: "big"}
	seedTab(t, st, stream, 5000)
	warm := newService(t, st.Store)
	if err := warm.Snapshot(ctx, "tab", "big"); err != nil {
		t.Fatal(err)
	}

	cold := newService(t, st.Store)
	st.meter.Reset()
	c, r, err := signal.Bind(cold, tab.Type).Handle(ctx, "big", add("tap-1", 1))
	if err != nil {
		t.Fatal(err)
	}
	s := st.meter.Stats()
	if s["Query"].Calls != 1 || s["PutItem"].Calls != 1 || st.meter.Total().Calls != 2 || st.meter.Total().Attempts != 2 {
		t.Fatalf("cold command on 5,000 events: %s, want Query=1/1 PutItem=1/1", requests(st.meter))
	}
	if r.Version != 5001 || c.Items["tap-1"].Quantity != 1+5000/50 {
		t.Fatalf("state after cold load: v%d %+v", r.Version, c.Items["tap-1"])
	}
}

// seedTab writes n ItemOrdered commits (50 items in turn) with BatchWriteItem.
func seedTab(t testing.TB, st *testStore, stream signal.StreamID, n int) {
	t.Helper()
	seedTabRange(t, st, stream, 1, n)
}

// seedTabRange writes the ItemOrdered commits of versions from to to (item
// tap-<version mod 50>) with BatchWriteItem.
func seedTabRange(t testing.TB, st *testStore, stream signal.StreamID, from, to int) {
	t.Helper()
	var batch []types.WriteRequest
	flush := func() {
		for len(batch) > 0 {
			out, err := st.client.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{st.tables.Events: batch}})
			if err != nil {
				t.Fatal(err)
			}
			batch = out.UnprocessedItems[st.tables.Events]
		}
	}
	for v := from; v <= to; v++ {
		c := signal.Commit{Stream: stream, Version: int64(v), CommandID: fmt.Sprint("seed-", v), Time: time.Now(),
			Events: []signal.RawEvent{{ID: fmt.Sprint("e-", v), Name: "ItemOrdered", SchemaVersion: 1,
				Data: fmt.Appendf(nil, `{"item":"tap-%d","quantity":1,"price":100}`, v%50)}}}
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: commitItem(&c)}})
		if len(batch) == 25 {
			flush()
		}
	}
	flush()
}
