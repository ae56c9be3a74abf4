package dynstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/signalforgo/signal/internal/faultproxy"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// The SDK's schedule in the backoff tests: Retryer's attempts and no
// retry quota, with a fixed wait between attempts instead of a jittered
// one, so that a deadline certainly falls inside the first wait.
const (
	backoffWait     = 600 * time.Millisecond
	backoffDeadline = 200 * time.Millisecond
	// backoffBound is the generous upper bound on how long a call may
	// take once its deadline passed; the whole schedule (4 waits, 2.4 s)
	// is well beyond it.
	backoffBound = backoffDeadline + time.Second
)

// slowClient is a client as a container builds it (ClientOptions),
// through the proxy, whose SDK waits backoffWait between its 5 attempts.
func slowClient(t *testing.T, p *faultproxy.Proxy) *dynamodb.Client {
	return dynamodb.NewFromConfig(motoserver.Config(t), ClientOptions(nil), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(p.URL())
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.RateLimiter = ratelimit.None
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return backoffWait, nil })
		})
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(5 * time.Second)
	})
}

// checkBackoffError checks what a call whose deadline passed while the
// SDK waited between attempts answers: ErrUnavailable, caused by the
// deadline, with nothing of the AWS error in the client's message, and
// soon after the deadline rather than after the SDK's whole schedule.
func checkBackoffError(t *testing.T, what string, err error, took time.Duration) {
	t.Helper()
	if signal.KindOf(err) != signal.KindUnavailable {
		t.Errorf("%s: %v (kind %v), want unavailable", what, err, signal.KindOf(err))
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%s: %v, want the deadline as its cause", what, err)
	}
	msg := signal.PublicMessage(err)
	for _, leak := range []string{"Exception", "faultproxy", "operation error", "api error", "request canceled", "deadline exceeded", "127.0.0.1", "StatusCode"} {
		if strings.Contains(msg, leak) {
			t.Errorf("%s: the client's message %q holds %q", what, msg, leak)
		}
	}
	if took > backoffBound {
		t.Errorf("%s: answered %v after it started, with a deadline of %v (the SDK's backoff was not cut short)", what, took.Round(time.Millisecond), backoffDeadline)
	}
}

// tabVersions returns the versions of the tab's commits, read directly.
func tabVersions(t *testing.T, st *testStore, id string) []int64 {
	t.Helper()
	var out []int64
	for c, err := range st.Load(t.Context(), signal.StreamID{Type: tab.TypeName, ID: id}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c.Version)
	}
	return out
}

// TestFaultDeadlineDuringBackoff: every request is throttled and the SDK
// waits 600 ms between attempts; a command's deadline of 200 ms passes
// during the first wait. The command fails with ErrUnavailable (not
// internal; no AWS text for the client) within the deadline and a second
// instead of after the SDK's 2.4 s schedule, nothing is written, and once
// the faults stop a retry with the same command id is applied once. Warm
// (the SDK waits in the append) and cold (in the load).
func TestFaultDeadlineDuringBackoff(t *testing.T) {
	for _, warm := range []bool{true, false} {
		name := map[bool]string{true: "warm", false: "cold"}[warm]
		t.Run(name, func(t *testing.T) { deadlineDuringBackoff(t, warm) })
	}
}

// deadlineDuringBackoff is one case of TestFaultDeadlineDuringBackoff:
// the command runs on svcs[1], which has the tab pooled when warm.
func deadlineDuringBackoff(t *testing.T, warm bool) {
	ctx := t.Context()
	st := newTestStore(t)
	proxy, err := faultproxy.New(faultproxy.Config{Upstream: motoserver.Endpoint(t), Seed: faultproxy.Seed(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	svcs := tabContainers(t, 2, func() API { return slowClient(t, proxy) }, st.tables)
	add := tab.OrderItem{Item: "tap-0", Quantity: 1, Price: 100}
	// svcs[0] has the tab pooled at version 1; svcs[1] has not
	// seen it (a cold container) unless warm.
	for i, svc := range svcs {
		if i == 1 && !warm {
			break
		}
		if _, err := svc.Handle(ctx, "tab", "c", add, signal.WithCommandID("genesis")); err != nil {
			t.Fatal(err)
		}
	}
	if err := proxy.SetRates(faultproxy.Rates{Throttle: 1}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, backoffDeadline)
	start := time.Now()
	_, err = svcs[1].Handle(short, "tab", "c", add, signal.WithCommandID("k1"))
	took := time.Since(start)
	cancel()
	stats := proxy.Stats()
	if err := proxy.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}
	checkBackoffError(t, "the command", err, took)
	checkOneThrottle(t, stats)
	// Warm, the append waits; cold, the load's one read (the Query of the
	// snapshot and the commits after it).
	if op := map[bool]string{true: "PutItem", false: "Query"}[warm]; stats.ByOperation[op] != 1 {
		t.Errorf("proxy: faults by operation %v, want the %s", stats.ByOperation, op)
	}
	if v := tabVersions(t, st, "c"); fmt.Sprint(v) != "[1]" {
		t.Fatalf("versions %v after the failed command, want [1]", v)
	}
	checkRetriedOnce(t, st, svcs, add)
}

// checkOneThrottle checks that the proxy faulted exactly one request, a
// throttle: one attempt, then the wait the deadline cut short.
func checkOneThrottle(t *testing.T, stats faultproxy.Stats) {
	t.Helper()
	if stats.Faults[faultproxy.Throttle] != 1 || stats.TotalFaults() != 1 {
		t.Errorf("proxy: %v, want exactly one throttled attempt", stats)
	}
}

// checkRetriedOnce retries command k1 (add on tab c) on svcs[1], where it
// failed: applied at version 2; then on svcs[0] (pooled at version 1): the
// original answer, as a duplicate; the tab then holds versions 1 and 2.
func checkRetriedOnce(t *testing.T, st *testStore, svcs []*signal.Service, add tab.OrderItem) {
	t.Helper()
	ctx := t.Context()
	r, err := svcs[1].Handle(ctx, "tab", "c", add, signal.WithCommandID("k1"))
	if err != nil || r.Duplicate || r.Version != 2 {
		t.Fatalf("retry: %+v %v, want version 2, not a duplicate", r, err)
	}
	r, err = svcs[0].Handle(ctx, "tab", "c", add, signal.WithCommandID("k1"))
	if err != nil || !r.Duplicate || r.Version != 2 {
		t.Fatalf("second retry: %+v %v, want the duplicate at version 2", r, err)
	}
	if v := tabVersions(t, st, "c"); fmt.Sprint(v) != "[1 2]" {
		t.Fatalf("versions %v, want [1 2]", v)
	}
}

// TestFaultDispatchDeadlineDuringBackoff: the same for a projector's
// Dispatch (a paid tab: both views and the receipt policy). Every
// request throttled, the SDK waits in the first checkpoint read; only
// the view commits and checkpoint writes throttled, it waits in the first
// projection run's commit, after its reads. Either way Dispatch answers a
// *DispatchError whose failures are ErrUnavailable within the deadline
// and a second, the views table is untouched (no document, no checkpoint,
// no failure recorded: a store failure never counts toward parking), and
// the same commits delivered again once the faults stop build the views
// once: equal to a reference built in memory, also after a third
// delivery, and one receipt issued.
func TestFaultDispatchDeadlineDuringBackoff(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []string
	}{
		{"every-request", nil},
		{"view-commit", []string{"TransactWriteItems", "PutItem", "UpdateItem"}},
	} {
		t.Run(tc.name, func(t *testing.T) { dispatchDeadlineDuringBackoff(t, tc.ops) })
	}
}

// dispatchDeadlineDuringBackoff is one case of
// TestFaultDispatchDeadlineDuringBackoff, with ops throttled (nil: every
// request).
func dispatchDeadlineDuringBackoff(t *testing.T, ops []string) {
	ctx := t.Context()
	st := newTestStore(t)
	commits := paidTabCommits(t, st, "d")
	proxy, err := faultproxy.New(faultproxy.Config{Upstream: motoserver.Endpoint(t), Seed: faultproxy.Seed(t),
		Rates: faultproxy.Rates{Throttle: 1}, Operations: ops})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	s, err := New(slowClient(t, proxy), st.tables)
	if err != nil {
		t.Fatal(err)
	}
	projector, err := signal.New(signal.Config{Store: s, Types: tab.Types(), Subscribers: tab.Subscribers(), DispatchConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, backoffDeadline)
	start := time.Now()
	err = projector.Dispatch(short, commits)
	took := time.Since(start)
	cancel()
	stats := proxy.Stats()
	if err := proxy.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}
	var de *signal.DispatchError
	if !errors.As(err, &de) || len(de.Failures) != 1 {
		t.Fatalf("dispatch: %v, want a *DispatchError for the one stream", err)
	}
	f := de.Failures[0]
	if f.Stream.ID != "d" || f.Version != 1 {
		t.Errorf("failure %+v, want tab d from version 1", f)
	}
	checkBackoffError(t, "the dispatch", f.Err, took)
	checkOneThrottle(t, stats)
	if n := itemCount(t, st, st.tables.Views); n != 0 {
		t.Errorf("the views table holds %d items after the failed dispatch, want none", n)
	}

	// Delivered again without faults, twice: the views, once.
	for range 2 {
		if err := projector.Dispatch(ctx, commits); err != nil {
			t.Fatal(err)
		}
	}
	checkProjectedOnce(t, st, projector, commits)
}

// paidTabCommits writes a tab of two items, paid, directly, and returns
// its commits.
func paidTabCommits(t *testing.T, st *testStore, id string) []signal.Commit {
	t.Helper()
	ctx := t.Context()
	writer, err := signal.New(signal.Config{Store: st.Store, Types: tab.Types()})
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []any{
		tab.OrderItem{Item: "tap-0", Quantity: 2, Price: 100},
		tab.OrderItem{Item: "tap-1", Quantity: 1, Price: 101},
		tab.Pay{},
	} {
		if _, err := writer.Handle(ctx, "tab", id, cmd); err != nil {
			t.Fatal(err)
		}
	}
	var commits []signal.Commit
	for c, err := range st.Load(ctx, signal.StreamID{Type: tab.TypeName, ID: id}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		commits = append(commits, c)
	}
	return commits
}

// checkProjectedOnce checks the projector's views of tab d's commits
// against a reference built in memory, that one receipt was issued, and
// that no failure is recorded.
func checkProjectedOnce(t *testing.T, st *testStore, projector *signal.Service, commits []signal.Commit) {
	t.Helper()
	ctx := t.Context()
	ref, err := signal.New(signal.Config{Store: memstore.New(), Types: tab.Types(), Subscribers: tab.Subscribers()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commits {
		if err := ref.Store().Append(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := ref.Dispatch(ctx, commits); err != nil {
		t.Fatal(err)
	}
	for _, v := range [][2]string{{tab.TabSummaryView, "d"}, {tab.ItemSalesView, "tap-0"}, {tab.ItemSalesView, "tap-1"}} {
		want, werr := ref.View(ctx, v[0], v[1])
		got, gerr := projector.View(ctx, v[0], v[1])
		if werr != nil || gerr != nil || !jsonEqual(got.Data, want.Data) {
			t.Errorf("%s/%s: %s (%v), reference %s (%v)", v[0], v[1], got.Data, gerr, want.Data, werr)
		}
	}
	var receipts int
	for _, err := range st.Load(ctx, signal.StreamID{Type: tab.ReceiptTypeName, ID: "d"}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		receipts++
	}
	if receipts != 1 {
		t.Errorf("receipt d has %d commits, want 1", receipts)
	}
	if fs, err := projector.Failures(ctx); err != nil || len(fs) != 0 {
		t.Errorf("failures %+v %v, want none", fs, err)
	}
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}
