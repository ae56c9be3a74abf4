package dynstream

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// tabSession is a scripted mix of tabs, refusals and payments.
func tabSession(t *testing.T, svc *signal.Service) {
	t.Helper()
	ctx := t.Context()
	for i := range 6 {
		id := fmt.Sprint("tab-", i)
		for j := range 4 {
			if _, err := svc.Handle(ctx, "tab", id, tab.OrderItem{Item: fmt.Sprint("tap-", (i+j)%5), Quantity: int64(j + 1), Price: 100 + int64(j)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.Handle(ctx, "tab", id, tab.CancelItem{Item: fmt.Sprint("tap-", i%5), Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0:
			if _, err := svc.Handle(ctx, "tab", id, tab.Pay{}); err != nil {
				t.Fatal(err)
			}
		case 1:
			if _, err := svc.End(ctx, "tab", id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// viewDump reads every view document the session can produce, as text.
func viewDump(t *testing.T, svc *signal.Service) string {
	t.Helper()
	var lines []string
	for i := range 6 {
		v, err := svc.View(t.Context(), tab.TabSummaryView, fmt.Sprint("tab-", i))
		lines = append(lines, fmt.Sprintf("%s/tab-%d %s %v", tab.TabSummaryView, i, v.Data, err))
		o, err := svc.Get(t.Context(), "receipt", fmt.Sprint("tab-", i))
		lines = append(lines, fmt.Sprintf("receipt/tab-%d v%d %v %v", i, o.Version, o.State, err))
	}
	for i := range 5 {
		v, err := svc.View(t.Context(), tab.ItemSalesView, fmt.Sprint("tap-", i))
		lines = append(lines, fmt.Sprintf("%s/tap-%d %s %v", tab.ItemSalesView, i, v.Data, err))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestStreamDrivenProjection: commits written to DynamoDB come back through
// its stream (the Poller), and the dispatcher fed by it builds the tab
// views and issues the receipts exactly as in-process dispatch does.
// Redelivering everything, and everything reversed, changes nothing.
func TestStreamDrivenProjection(t *testing.T) {
	want := referenceDump(t)
	st := newTestStore(t)
	svc, err := signal.New(signal.Config{Store: st.Store, Types: tab.Types(), Subscribers: tab.Subscribers()})
	if err != nil {
		t.Fatal(err)
	}
	tabSession(t, svc)
	written := loadTabs(t, st)
	delivered := projectFromStream(t, st, svc)
	seen := map[string]bool{}
	for _, c := range delivered {
		seen[fmt.Sprint(c.Stream, c.Version, c.CommandID)] = true
	}
	for _, c := range written {
		if !seen[fmt.Sprint(c.Stream, c.Version, c.CommandID)] {
			t.Fatalf("commit %s v%d never came through the stream", c.Stream, c.Version)
		}
	}
	if got := viewDump(t, svc); got != want {
		t.Fatalf("stream-built views differ from in-process ones:\n got:\n%s\nwant:\n%s", got, want)
	}
	checkRedeliveryWritesNothing(t, st, svc, delivered, want)
	checkGapFill(t, st, svc, delivered, want)
}

// referenceDump is the views of the tab session dispatched in process
// (memstore, inline), checked to fill every view and issue receipts.
func referenceDump(t *testing.T) string {
	ref, err := signal.New(signal.Config{Store: memstore.New(), Types: tab.Types(), Subscribers: tab.Subscribers(), InlineDispatch: true})
	if err != nil {
		t.Fatal(err)
	}
	tabSession(t, ref)
	want := viewDump(t, ref)
	if strings.Count(want, "not_found") > 0 || !strings.Contains(want, `"payments":`) || !strings.Contains(want, "receipt/tab-0 v1") {
		t.Fatalf("the reference session should fill every view and issue receipts:\n%s", want)
	}
	return want
}

// loadTabs reads the commits of tabs tab-0 .. tab-5 directly.
func loadTabs(t *testing.T, st *testStore) []signal.Commit {
	var written []signal.Commit
	for i := range 6 {
		for c, err := range st.Load(t.Context(), signal.StreamID{Type: "tab", ID: fmt.Sprint("tab-", i)}, 0) {
			if err != nil {
				t.Fatal(err)
			}
			written = append(written, c)
		}
	}
	return written
}

// projectFromStream polls st's stream from its beginning into
// svc.Dispatch until two polls in a row find nothing (the policy's
// receipts are new commits), and returns every commit delivered.
func projectFromStream(t *testing.T, st *testStore, svc *signal.Service) []signal.Commit {
	ctx := t.Context()
	arn, err := StreamARN(ctx, st.client, st.tables.Events)
	if err != nil {
		t.Fatal(err)
	}
	poller := NewPoller(dynamodbstreams.NewFromConfig(motoserver.Config(t)), PollerConfig{StreamARN: arn})
	var delivered []signal.Commit
	for idle := 0; idle < 2; {
		n, err := poller.Poll(ctx, func(ctx context.Context, batch []signal.Commit) error {
			delivered = append(delivered, batch...)
			return svc.Dispatch(ctx, batch)
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			idle++
		}
	}
	return delivered
}

// checkRedeliveryWritesNothing redelivers everything twice, then
// reversed: the views stay want, and no view is written.
func checkRedeliveryWritesNothing(t *testing.T, st *testStore, svc *signal.Service, delivered []signal.Commit, want string) {
	before := st.meter.Stats()["TransactWriteItems"].Calls
	reversed := slices.Clone(delivered)
	slices.Reverse(reversed)
	for _, batch := range [][]signal.Commit{delivered, delivered, reversed} {
		if err := svc.Dispatch(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if got := viewDump(t, svc); got != want {
		t.Fatalf("redelivery changed the views:\n got:\n%s\nwant:\n%s", got, want)
	}
	if after := st.meter.Stats()["TransactWriteItems"].Calls; after != before {
		t.Fatalf("redelivered duplicates wrote views %d times", after-before)
	}
}

// checkGapFill drops the projections' views and dispatches only each
// aggregate's last commit: the projector fills the gaps from the table
// and rebuilds want.
func checkGapFill(t *testing.T, st *testStore, svc *signal.Service, delivered []signal.Commit, want string) {
	ctx := t.Context()
	for _, name := range []struct{ view, sub string }{{tab.TabSummaryView, tab.TabSummaryView}, {tab.ItemSalesView, tab.ItemSalesView}} {
		if err := st.DropView(ctx, name.view, name.sub); err != nil {
			t.Fatal(err)
		}
	}
	last := map[signal.StreamID]signal.Commit{}
	for _, c := range delivered {
		if c.Version >= last[c.Stream].Version {
			last[c.Stream] = c
		}
	}
	var tails []signal.Commit
	for _, c := range last {
		tails = append(tails, c)
	}
	if err := svc.Dispatch(ctx, tails); err != nil {
		t.Fatal(err)
	}
	if got := viewDump(t, svc); got != want {
		t.Fatalf("gap-filled views differ:\n got:\n%s\nwant:\n%s", got, want)
	}
}
