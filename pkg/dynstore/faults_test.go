package dynstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/signalforgo/signal/internal/faultproxy"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/dynstore/internal/faultclient"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestFaultDeadlineAfterWrite: the command's context ends while DynamoDB
// has applied its PutItem but not yet answered (a Lambda or client
// deadline). The command fails with ErrUnavailable; a retry with the same
// key, on the same container or another one that had the tab pooled
// before the write, answers the original outcome and appends nothing.
func TestFaultDeadlineAfterWrite(t *testing.T) {
	st := newTestStore(t)
	ctx := t.Context()
	proxy, err := faultproxy.New(faultproxy.Config{Upstream: motoserver.Endpoint(t), Seed: faultproxy.Seed(t),
		Operations: []string{"PutItem"}, MaxLatency: 600 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	svcs := tabContainers(t, 2, func() API { return faultclient.DynamoDB(t, proxy, 5, ClientOptions(nil)) }, st.tables)
	add := tab.OrderItem{Item: "tap-0", Quantity: 1, Price: 100}
	for _, svc := range svcs { // both containers have the tab pooled at version 1
		if _, err := svc.Handle(ctx, "tab", "c", add, signal.WithCommandID("genesis")); err != nil {
			t.Fatal(err)
		}
	}
	if err := proxy.SetRates(faultproxy.Rates{SlowResponse: 1}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = svcs[0].Handle(short, "tab", "c", add, signal.WithCommandID("k1"))
	cancel()
	if signal.KindOf(err) != signal.KindUnavailable {
		t.Fatalf("a command whose deadline passed: %v, want unavailable", err)
	}
	if err := proxy.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}
	// The write landed (the proxy forwarded it before holding the answer).
	waitForCommitsAfter(t, st, "c", 1, 1)
	for i, svc := range []*signal.Service{svcs[1], svcs[0]} {
		r, err := svc.Handle(ctx, "tab", "c", add, signal.WithCommandID("k1"))
		if err != nil || !r.Duplicate || r.Version != 2 {
			t.Fatalf("retry %d: %+v %v, want the duplicate at version 2", i, r, err)
		}
	}
	if versions := tabVersions(t, st, "c"); fmt.Sprint(versions) != "[1 2]" {
		t.Fatalf("versions %v, want [1 2]", versions)
	}
	if st := proxy.Stats(); st.Faults[faultproxy.SlowResponse] != 1 {
		t.Fatalf("proxy: %v", st)
	}
}

// waitForCommitsAfter waits up to 5 s for tab id to hold want commits
// after version from, read directly, and fails t if it does not.
func waitForCommitsAfter(t *testing.T, st *testStore, id string, from int64, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		for _, err := range st.Load(t.Context(), signal.StreamID{Type: "tab", ID: id}, from) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d commits after version %d, want the one whose answer was lost", n, from)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tabContainers returns n Services on the tab domain, each on its own
// client from client: n Lambda containers.
func tabContainers(t *testing.T, n int, client func() API, tables Tables) []*signal.Service {
	t.Helper()
	var svcs []*signal.Service
	for range n {
		s, err := New(client(), tables)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := signal.New(signal.Config{Store: s, Types: tab.Types()})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	return svcs
}
