package dynstore

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

func TestLatestLoaderConformance(t *testing.T) {
	storetest.RunLatestLoader(t, func(t *testing.T) signal.Store { return newTestStore(t).Store })
}

// TestColdLoadCost: the requests of a cold command (tab takes a snapshot
// every 100 events, so LoadLatest's first page is the tip and 101 items)
// in each way the snapshot and the commits after it can lie.
func TestColdLoadCost(t *testing.T) {
	cases := []struct {
		name string
		// seed, snapshot the first snap versions (none if 0), then seed to total.
		snap, total int
		legacy      bool // move the snapshot to sk = 0, where older versions kept it
		want        map[string]int64
	}{
		{"no snapshot, short stream", 0, 40, false, map[string]int64{"Query": 1, "PutItem": 1}},
		{"snapshot, 40 commits after", 300, 340, false, map[string]int64{"Query": 1, "PutItem": 1}},
		{"snapshot, 150 commits after", 300, 450, false, map[string]int64{"Query": 2, "PutItem": 1}},
		{"no snapshot, long stream", 0, 300, false, map[string]int64{"Query": 2, "GetItem": 1, "PutItem": 1}},
		{"old table, short stream", 40, 40, true, map[string]int64{"Query": 1, "PutItem": 1}},
		{"old table, long stream", 300, 320, true, map[string]int64{"Query": 1, "GetItem": 1, "PutItem": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := newTestStore(t)
			stream := signal.StreamID{Type: "tab", ID: "cold"}
			seedTab(t, st, stream, max(tc.snap, 1))
			if tc.snap > 0 {
				if err := newService(t, st.Store).Snapshot(t.Context(), "tab", "cold"); err != nil {
					t.Fatal(err)
				}
			}
			if tc.legacy {
				moveTipToLegacy(t, st, stream)
			}
			seedTabRange(t, st, stream, max(tc.snap, 1)+1, tc.total)

			st.meter.Reset()
			c, r, err := signal.Bind(newService(t, st.Store), tab.Type).Handle(t.Context(), "cold", add("tap-1", 1))
			if err != nil {
				t.Fatal(err)
			}
			calls := map[string]int64{}
			for op, s := range st.meter.Stats() {
				calls[op] = s.Calls
			}
			if !maps.Equal(calls, tc.want) {
				t.Errorf("cold command: %s, want %v", requests(st.meter), tc.want)
			}
			if r.Version != int64(tc.total)+1 || c.Items["tap-1"].Quantity != 1+int64(tc.total+49)/50 {
				t.Errorf("state after cold load: v%d %+v", r.Version, c.Items["tap-1"])
			}
		})
	}
}

// moveTipToLegacy moves a stream's snapshot from the tip to sk = 0, as a
// table written before the tip existed holds it.
func moveTipToLegacy(t *testing.T, st *testStore, stream signal.StreamID) {
	t.Helper()
	ctx := t.Context()
	out, err := st.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.tables.Events), Key: tipKey(stream), ConsistentRead: aws.Bool(true)})
	if err != nil || len(out.Item) == 0 {
		t.Fatalf("no tip to move: %v", err)
	}
	maps.Copy(out.Item, keyItem(streamKey(stream), legacySnapshotSK))
	if _, err := st.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.tables.Events), Item: out.Item}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(st.tables.Events), Key: tipKey(stream)}); err != nil {
		t.Fatal(err)
	}
}

// TestLegacySnapshot: a snapshot an older version of the store left at
// sk = 0 is still found, by LoadSnapshot and LoadLatest, until a tip
// exists, which then wins; Load never returns it.
func TestLegacySnapshot(t *testing.T) {
	st := newTestStore(t)
	ctx := t.Context()
	stream := signal.StreamID{Type: "cart", ID: "old"}
	history := []signal.Commit{storetest.Commit(stream, 1, 2), storetest.Commit(stream, 3, 1), storetest.Commit(stream, 4, 1)}
	for _, c := range history {
		storetest.MustAppend(t, st, c)
	}
	old := signal.Snapshot{Stream: stream, Version: 3, SchemaVersion: 1, Data: []byte(`{"old":true}`), Time: history[1].Time}
	if err := st.SaveSnapshot(ctx, old); err != nil {
		t.Fatal(err)
	}
	moveTipToLegacy(t, st, stream)

	check := func(when string, want signal.Snapshot, wantFirst int64) {
		t.Helper()
		if got, err := st.LoadSnapshot(ctx, stream); err != nil || got.Version != want.Version || string(got.Data) != string(want.Data) {
			t.Errorf("%s: LoadSnapshot = v%d %s, %v; want v%d", when, got.Version, got.Data, err, want.Version)
		}
		for _, expect := range []int{0, 1} {
			snap, found, commits := st.LoadLatest(ctx, stream, expect)
			var got []int64
			for c, err := range commits {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, c.Version)
			}
			if !found || snap.Version != want.Version || len(got) == 0 || got[0] != wantFirst {
				t.Errorf("%s: LoadLatest(expect %d) = found %v v%d, commits %v; want v%d then commits from %d", when, expect, found, snap.Version, got, want.Version, wantFirst)
			}
		}
		if got := storetest.LoadAll(t, st, stream, -1); len(got) != len(history) {
			t.Errorf("%s: Load(after -1) returned %d commits, want %d", when, len(got), len(history))
		}
	}
	check("snapshot at sk 0 only", old, 4)
	tip := signal.Snapshot{Stream: stream, Version: 1 + 1, SchemaVersion: 1, Data: []byte(`{"tip":true}`), Time: history[0].Time}
	if err := st.SaveSnapshot(ctx, tip); err != nil {
		t.Fatal(err)
	}
	check("an older tip beside it", tip, 3)
}

// scanCounter passes every call on and sums the items Queries read
// (ScannedCount, which DynamoDB bills by), since moto_server reports a
// flat capacity for any Query.
type scanCounter struct {
	API
	scanned int32
}

func (c *scanCounter) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.API.Query(ctx, in, opts...)
	if err == nil {
		c.scanned += out.ScannedCount
	}
	return out, err
}

// TestLoadLeavesTip: Load reads only versions, never the tip, so a large
// snapshot costs nothing to a catch-up read; LoadLatest reads it.
func TestLoadLeavesTip(t *testing.T) {
	ts := newTestStore(t)
	counter := &scanCounter{API: ts.client}
	st, err := New(counter, ts.tables)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	stream := signal.StreamID{Type: "cart", ID: "tip"}
	history := []signal.Commit{storetest.Commit(stream, 1, 1), storetest.Commit(stream, 2, 1)}
	for _, c := range history {
		storetest.MustAppend(t, st, c)
	}
	big := signal.Snapshot{Stream: stream, Version: 1, SchemaVersion: 1, Data: []byte(`"` + strings.Repeat("x", 300*1024) + `"`), Time: history[0].Time}
	if err := st.SaveSnapshot(ctx, big); err != nil {
		t.Fatal(err)
	}
	for after, want := range map[int64]int32{0: 2, 1: 1, 2: 0} {
		counter.scanned = 0
		storetest.LoadAll(t, st, stream, after)
		if counter.scanned != want {
			t.Errorf("Load(after %d) read %d items, want %d: only commits, never the tip", after, counter.scanned, want)
		}
	}
	counter.scanned = 0
	snap, found, commits := st.LoadLatest(ctx, stream, 1)
	for range commits {
	}
	if !found || snap.Version != 1 || counter.scanned != 3 {
		t.Errorf("LoadLatest(expect 1) = found %v v%d after reading %d items, want the tip and both commits", found, snap.Version, counter.scanned)
	}
}
