package signal_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// batchService is a Service over st with the dispatch tests' projection,
// welcome policy and counter.
func batchService(t *testing.T, st signal.Store, failAt *atomic.Int64) *signal.Service {
	t.Helper()
	subs, _ := subscribers(failAt)
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{signal.MustDefine(accountSpec())}, Subscribers: subs})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func accountIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint("a", i+1)
	}
	return ids
}

// TestBatchMatchesPerStream: a batch of many streams, run per subscriber
// on a ViewBatcher, leaves the views, the checkpoints and the policy's
// commands exactly as the per-stream runs do, at one LoadCheckpoints and
// one CommitViewBatch per subscriber that keeps a checkpoint, per chunk
// of up to 1,024 commits.
func TestBatchMatchesPerStream(t *testing.T) {
	for _, tc := range []struct {
		accounts, events int
		chunks           int64
	}{
		{30, 3, 1},
		{600, 2, 2}, // 512 streams, then 88
	} {
		t.Run(fmt.Sprint(tc.accounts, "x", tc.events), func(t *testing.T) {
			commits := roundRobin(tc.accounts, tc.events)
			ref := storeOf(t, commits)
			refSvc := batchService(t, perStream(ref), nil)
			if err := refSvc.Dispatch(t.Context(), commits); err != nil {
				t.Fatal(err)
			}
			st := storeOf(t, commits)
			svc := batchService(t, st, nil)
			before := st.Counts()
			if err := svc.Dispatch(t.Context(), commits); err != nil {
				t.Fatal(err)
			}
			wantBatchCost(t, before, st.Counts(), 2*tc.chunks) // the projection and the policy; the counter keeps no checkpoint
			ids := accountIDs(tc.accounts)
			if got, want := views(t, svc, ids...), views(t, refSvc, ids...); got != want {
				t.Fatalf("batched views differ:\n got %s\nwant %s", got, want)
			}
			if got, want := len(allCommits(t, st)), len(allCommits(t, ref)); got != want || got != tc.accounts*(tc.events+1) {
				t.Fatalf("%d commits batched, %d per stream; want %d (a bonus per account)", got, want, tc.accounts*(tc.events+1))
			}
			for _, id := range ids {
				stream := signal.StreamID{Type: "account", ID: id}
				for _, sub := range []string{"balances", "welcome-bonus"} {
					got, _ := st.LoadCheckpoint(t.Context(), sub, stream)
					want, _ := ref.LoadCheckpoint(t.Context(), sub, stream)
					if got.Version != int64(tc.events) || got != want {
						t.Errorf("%s on %s: checkpoint %+v, per stream %+v; want %d", sub, id, got, want, tc.events)
					}
				}
			}
		})
	}
}

// wantBatchCost checks that a dispatch cost n LoadCheckpoints and n
// CommitViewBatch calls and no per-stream checkpoint or view request.
// The policy's bonus commands each load their account and append.
func wantBatchCost(t *testing.T, before, after memstore.Counts, n int64) {
	t.Helper()
	if got := after.ViewBatches - before.ViewBatches; got != n {
		t.Errorf("%d CommitViewBatch calls, want %d", got, n)
	}
	if got := after.CheckpointBatchLoads - before.CheckpointBatchLoads; got != n {
		t.Errorf("%d LoadCheckpoints calls, want %d", got, n)
	}
	if after.ViewCommits != before.ViewCommits || after.CheckpointSaves != before.CheckpointSaves || after.CheckpointLoads != before.CheckpointLoads {
		t.Errorf("per-stream requests in a batch: %+v before, %+v after", before, after)
	}
}

// TestBatchFailureStaysWithItsStream: a projection failing on one
// stream's event in a batch holds back only that stream, after its
// events before the failure are committed; the failure is recorded once
// per delivery and parks after ParkAfter deliveries.
func TestBatchFailureStaysWithItsStream(t *testing.T) {
	var failAt atomic.Int64
	failAt.Store(2)
	commits := append(roundRobin(3, 2), badAccount(3)...)
	st := storeOf(t, commits)
	svc := batchService(t, st, &failAt)
	for attempt := 1; attempt <= signal.DefaultParkAfter; attempt++ {
		err := svc.Dispatch(t.Context(), commits)
		var de *signal.DispatchError
		switch {
		case attempt < signal.DefaultParkAfter:
			if !errors.As(err, &de) || len(de.Failures) != 1 || de.Failures[0].Stream.ID != "bad" || de.Failures[0].Version != 2 {
				t.Fatalf("delivery %d: %v, want bad failed at version 2 alone", attempt, err)
			}
		case err != nil:
			t.Fatalf("delivery %d: %v, want the stream parked", attempt, err)
		}
		fs, err := svc.Failures(t.Context())
		if err != nil || len(fs) != 1 || fs[0].Attempts != attempt || fs[0].Version != 2 || fs[0].Parked != (attempt == signal.DefaultParkAfter) {
			t.Fatalf("delivery %d: failures %+v (%v), want one at version 2, attempt %d", attempt, fs, err, attempt)
		}
	}
	if got, want := views(t, svc, "a1", "a3", "bad"), "a1={Balance:1 Version:2}/<nil> a3={Balance:1 Version:2}/<nil> bad={Balance:0 Version:1}/<nil> total={Deposited:3 Events:7}/<nil>"; got != want {
		t.Fatalf("views:\n got %s\nwant %s", got, want)
	}
}

// badAccount is account "bad": Opened, then n-1 deposits of 1.
func badAccount(n int) []signal.Commit {
	var out []signal.Commit
	for _, c := range roundRobin(1, n) {
		c.Stream.ID, c.CommandID = "bad", "bad-"+c.CommandID
		c.Events = []signal.RawEvent{c.Events[0]}
		c.Events[0].ID = "bad-" + c.Events[0].ID
		out = append(out, c)
	}
	return out
}

// refusingBatches is a memstore whose CommitViewBatch fails as refuse
// says: before applying (a lost race) or after (an answer lost on the
// way back).
type refusingBatches struct {
	*memstore.Store
	mu      sync.Mutex
	refuse  []string // "conflict" or "lost", one per call, then none
	batches int
}

func (s *refusingBatches) CommitViewBatch(ctx context.Context, b signal.ViewBatch) error {
	s.mu.Lock()
	s.batches++
	how := ""
	if len(s.refuse) > 0 {
		how, s.refuse = s.refuse[0], s.refuse[1:]
	}
	s.mu.Unlock()
	switch how {
	case "conflict":
		return signal.Errorf(signal.KindConflict, "test.CommitViewBatch", "another worker moved a checkpoint")
	case "lost":
		if err := s.Store.CommitViewBatch(ctx, b); err != nil {
			return err
		}
		return signal.Errorf(signal.KindUnavailable, "test.CommitViewBatch", "the answer was lost")
	}
	return s.Store.CommitViewBatch(ctx, b)
}

// TestRefusedBatchRunsPerStream: when the store refuses a batch, its
// streams run one by one, and nothing is applied twice whether the batch
// was written (a lost answer) or not (a conflict).
func TestRefusedBatchRunsPerStream(t *testing.T) {
	commits := roundRobin(5, 2)
	ref := storeOf(t, commits)
	refSvc := batchService(t, perStream(ref), nil)
	if err := refSvc.Dispatch(t.Context(), commits); err != nil {
		t.Fatal(err)
	}
	ids := accountIDs(5)
	want := views(t, refSvc, ids...)
	for _, how := range []string{"conflict", "lost"} {
		t.Run(how, func(t *testing.T) {
			st := &refusingBatches{Store: storeOf(t, commits), refuse: []string{how, how}}
			svc := batchService(t, st, nil)
			before := st.Counts().ViewCommits
			if err := svc.Dispatch(t.Context(), commits); err != nil {
				t.Fatal(err)
			}
			if got := views(t, svc, ids...); got != want {
				t.Fatalf("views:\n got %s\nwant %s", got, want)
			}
			if n := len(allCommits(t, st.Store)); n != 15 {
				t.Fatalf("%d commits, want 15: a bonus paid once per account", n)
			}
			perStream := st.Counts().ViewCommits - before
			if how == "conflict" && perStream != 5 || how == "lost" && perStream != 0 {
				t.Fatalf("%d per-stream CommitViews after a %s batch, want %d", perStream, how, map[string]int{"conflict": 5, "lost": 0}[how])
			}
		})
	}
}

// TestBatchPolicyReactsOncePerEvent: in a batch, a policy reacts to each
// event once, the failing one included, and its failure is recorded for
// its stream alone.
func TestBatchPolicyReactsOncePerEvent(t *testing.T) {
	commits := roundRobin(4, 2)
	var mu sync.Mutex
	reacted := map[string]int{}
	policy := &signal.Policy{Name: "audit", Types: []string{"account"}, On: []signal.PolicyHandler{
		signal.ReactAll(func(_ context.Context, ev signal.Event) ([]signal.Send, error) {
			mu.Lock()
			defer mu.Unlock()
			reacted[ev.ID]++
			if ev.AggregateID == "a3" && ev.Version == 2 {
				return nil, errors.New("audit sink refused")
			}
			return nil, nil
		}),
	}}
	st := storeOf(t, commits)
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{signal.MustDefine(accountSpec())}, Subscribers: []signal.Subscriber{policy}})
	if err != nil {
		t.Fatal(err)
	}
	err = svc.Dispatch(t.Context(), commits)
	var de *signal.DispatchError
	if !errors.As(err, &de) || len(de.Failures) != 1 || de.Failures[0].Stream.ID != "a3" || de.Failures[0].Version != 2 {
		t.Fatalf("got %v, want a3 failed at version 2", err)
	}
	for _, c := range commits {
		if n := reacted[c.Events[0].ID]; n != 1 {
			t.Errorf("%s@%d: reacted %d times, want once", c.Stream.ID, c.Version, n)
		}
	}
	for _, id := range accountIDs(4) {
		cp, err := st.LoadCheckpoint(t.Context(), "audit", signal.StreamID{Type: "account", ID: id})
		want := int64(2)
		if id == "a3" {
			want = 1
		}
		if err != nil || cp.Version != want || (cp.Failure != nil) != (id == "a3") {
			t.Errorf("%s: checkpoint %+v (%v), want %d with a failure only on a3", id, cp, err, want)
		}
	}
}

// TestBatchSplitsAtTheRunLimits: a batch whose documents exceed
// MaxViewWrites is committed in several batches, at stream boundaries or
// inside a stream, and every document arrives.
func TestBatchSplitsAtTheRunLimits(t *testing.T) {
	const perEvent = 3000 // four events' documents exceed MaxViewWrites
	fanout := &signal.Projection{Name: "fanout", Types: []string{"account"}, On: []signal.ProjectionHandler{
		signal.ProjectAll(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event) error {
			for i := range perEvent {
				if err := tx.Put(ctx, "fan", fmt.Sprintf("%s-%d-%d", ev.AggregateID, ev.Version, i), markDoc{ev.Version}); err != nil {
					return err
				}
			}
			return nil
		}),
	}}
	commits := roundRobin(3, 2) // 6 events, 18,000 documents
	st := storeOf(t, commits)
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{signal.MustDefine(accountSpec())}, Subscribers: []signal.Subscriber{fanout}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Dispatch(t.Context(), commits); err != nil {
		t.Fatal(err)
	}
	if c := st.Counts(); c.ViewBatches != 2 || c.ViewCommits != 0 {
		t.Errorf("%d batches and %d per-stream commits, want 2 and 0 (3 events per batch)", c.ViewBatches, c.ViewCommits)
	}
	for _, c := range commits {
		key := fmt.Sprintf("%s-%d-%d", c.Stream.ID, c.Version, perEvent-1)
		if doc, _, err := signal.LoadView[markDoc](t.Context(), svc, "fan", key); err != nil || doc.Version != c.Version {
			t.Errorf("fan/%s: %+v, %v", key, doc, err)
		}
		if cp, _ := st.LoadCheckpoint(t.Context(), "fanout", c.Stream); cp.Version != 2 {
			t.Errorf("%s: checkpoint %d, want 2", c.Stream.ID, cp.Version)
		}
	}
}

// TestBatchRunsSubscribersInOrder: on each stream of a batch, a policy
// registered after a projection finds the projection's view of the event
// it reacts to, as on the per-stream path. The projection takes a while
// per event, as a store's reads would, so that a policy run beside it
// would react before its batch is committed.
func TestBatchRunsSubscribersInOrder(t *testing.T) {
	marks := &signal.Projection{Name: "marks", Types: []string{"account"}, On: []signal.ProjectionHandler{
		signal.ProjectAll(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event) error {
			time.Sleep(100 * time.Microsecond)
			return tx.Put(ctx, "mark", ev.AggregateID, markDoc{ev.Version})
		}),
	}}
	var svc *signal.Service
	var mu sync.Mutex
	var behind []string
	checker := &signal.Policy{Name: "checker", Types: []string{"account"}, On: []signal.PolicyHandler{
		signal.ReactAll(func(ctx context.Context, ev signal.Event) ([]signal.Send, error) {
			doc, _, err := signal.LoadView[markDoc](context.Background(), svc, "mark", ev.AggregateID)
			if err != nil || doc.Version < ev.Version {
				mu.Lock()
				behind = append(behind, fmt.Sprintf("%s@%d saw %+v (%v)", ev.AggregateID, ev.Version, doc, err))
				mu.Unlock()
			}
			return nil, nil
		}),
	}}
	commits := roundRobin(20, 3)
	st := storeOf(t, commits)
	var err error
	svc, err = signal.New(signal.Config{Store: st, Types: []signal.AggregateType{signal.MustDefine(accountSpec())}, Subscribers: []signal.Subscriber{marks, checker}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Dispatch(t.Context(), commits); err != nil {
		t.Fatal(err)
	}
	if behind != nil {
		t.Fatalf("the policy ran before the projection had applied: %v", behind)
	}
	if n := st.Counts().ViewBatches; n != 2 {
		t.Fatalf("%d batches, want 2: the test must run the batched path", n)
	}
}
