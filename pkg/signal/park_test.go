package signal_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// parkFixture is dispatchFixture with the parks it reports collected.
type parkFixture struct {
	*fixture
	mu     sync.Mutex
	parked []signal.Failure
}

func newParkFixture(t *testing.T, failAt *atomic.Int64, mutate ...func(*signal.Spec[Account], *signal.Config)) *parkFixture {
	subs, _ := subscribers(failAt)
	pf := &parkFixture{}
	pf.fixture = newFixture(t, append([]func(*signal.Spec[Account], *signal.Config){func(_ *signal.Spec[Account], c *signal.Config) {
		c.Subscribers = subs
		c.OnPark = func(_ context.Context, f signal.Failure) {
			pf.mu.Lock()
			pf.parked = append(pf.parked, f)
			pf.mu.Unlock()
		}
	}}, mutate...)...)
	return pf
}

func (pf *parkFixture) parks() []signal.Failure {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	return append([]signal.Failure(nil), pf.parked...)
}

func failures(t *testing.T, svc *signal.Service) []signal.Failure {
	t.Helper()
	fs, err := svc.Failures(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func checkpointOf(t *testing.T, st signal.CheckpointStore, sub, id string) signal.Checkpoint {
	t.Helper()
	cp, err := st.LoadCheckpoint(t.Context(), sub, signal.StreamID{Type: "account", ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// TestParkAfterRepeatedFailures: a projection that keeps failing on one
// account is retried ParkAfter times, then parked: the batch no longer
// fails, the other subscribers and accounts kept up all along, later
// events of that account wait for it, and Replay resumes it exactly once.
func TestParkAfterRepeatedFailures(t *testing.T) {
	var failAt atomic.Int64
	failAt.Store(2)
	f := newParkFixture(t, &failAt)
	for _, id := range []string{"bad", "good"} {
		mustHandle(t, f.fixture, id, Open{Owner: id})
		mustHandle(t, f.fixture, id, Deposit{Amount: 5})
	}
	deliverUntilParked(t, f)

	// Later events of the parked account are not applied before the
	// parked one, and do not fail the batch.
	mustHandle(t, f.fixture, "bad", Deposit{Amount: 7})
	if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil {
		t.Fatalf("dispatch with a parked subscriber: %v", err)
	}
	if b, _, _ := signal.LoadView[balanceDoc](t.Context(), f.svc, "balance", "bad"); b.Version != 1 {
		t.Fatalf("a parked projection moved on: %+v", b)
	}

	// Replaying while it still fails keeps it parked, with the error.
	if _, err := f.svc.Replay(t.Context(), "balances", signal.StreamID{Type: "account", ID: "bad"}); err == nil || !strings.Contains(err.Error(), "projection bug") {
		t.Fatalf("replay of a still failing subscriber = %v, want its error", err)
	}
	if fs := failures(t, f.svc); len(fs) != 1 || !fs[0].Parked {
		t.Fatalf("after a failed replay: %+v, want it still parked", fs)
	}

	// Fixed: replay brings it to the end of the stream, exactly once.
	failAt.Store(0)
	checkReplayResumesOnce(t, f)
}

// deliverUntilParked dispatches every commit DefaultParkAfter times: each
// delivery but the last fails on bad at version 2 and records one more
// attempt; the last parks the failure and succeeds. The parked failure
// holds the error and was reported to OnPark; the policy on bad and the
// projection on good kept up all along.
func deliverUntilParked(t *testing.T, f *parkFixture) {
	t.Helper()
	for attempt := 1; attempt <= signal.DefaultParkAfter; attempt++ {
		err := f.svc.Dispatch(t.Context(), allCommits(t, f.store))
		var de *signal.DispatchError
		if attempt < signal.DefaultParkAfter {
			if !errors.As(err, &de) || len(de.Failures) != 1 || de.Failures[0].Stream.ID != "bad" || de.Failures[0].Version != 2 {
				t.Fatalf("delivery %d: %v, want bad failing at 2", attempt, err)
			}
			fs := failures(t, f.svc)
			if len(fs) != 1 || fs[0].Attempts != attempt || fs[0].Parked || fs[0].Subscriber != "balances" || fs[0].Version != 2 {
				t.Fatalf("delivery %d: failures %+v, want balances on bad at 2, %d attempt(s), not parked", attempt, fs, attempt)
			}
			continue
		}
		if err != nil {
			t.Fatalf("delivery %d parks the failure and succeeds, got %v", attempt, err)
		}
	}
	fs := failures(t, f.svc)
	if len(fs) != 1 || !fs[0].Parked || fs[0].Attempts != signal.DefaultParkAfter || !strings.Contains(fs[0].Error, "projection bug") {
		t.Fatalf("failures %+v, want balances parked on bad at 2 after %d attempts with the error", fs, signal.DefaultParkAfter)
	}
	if p := f.parks(); len(p) != 1 || p[0].Subscriber != "balances" || p[0].Stream.ID != "bad" || p[0].Version != 2 {
		t.Fatalf("OnPark saw %+v, want balances on bad at 2 once", p)
	}
	// The others kept up: the policy on bad, the projection on good.
	if cp := checkpointOf(t, f.store, "welcome-bonus", "bad"); cp.Version < 2 {
		t.Fatalf("the policy on bad was held back by the projection: checkpoint %d", cp.Version)
	}
	if b, _, _ := signal.LoadView[balanceDoc](t.Context(), f.svc, "balance", "good"); b.Balance != 105 {
		t.Fatalf("good's balance %+v, want 105 (deposit and bonus)", b)
	}
}

// checkReplayResumesOnce: once the projection is fixed, replay brings it
// to the end of bad's stream (version 4) and clears the failure; replaying
// again or redelivering changes nothing, no event counted twice or lost.
func checkReplayResumesOnce(t *testing.T, f *parkFixture) {
	t.Helper()
	cp, err := f.svc.Replay(t.Context(), "balances", signal.StreamID{Type: "account", ID: "bad"})
	if err != nil || cp.Version != 4 || cp.Failure != nil {
		t.Fatalf("replay = %+v, %v; want checkpoint 4 and no failure", cp, err)
	}
	want := balanceDoc{Balance: 5 + 100 + 7, Version: 4}
	if b, _, _ := signal.LoadView[balanceDoc](t.Context(), f.svc, "balance", "bad"); b != want {
		t.Fatalf("bad's balance after replay %+v, want %+v", b, want)
	}
	if fs := failures(t, f.svc); len(fs) != 0 {
		t.Fatalf("failures after replay: %+v", fs)
	}
	// Replaying again, or redelivering, changes nothing.
	if _, err := f.svc.Replay(t.Context(), "balances", signal.StreamID{Type: "account", ID: "bad"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil {
		t.Fatal(err)
	}
	total, _, _ := signal.LoadView[totalDoc](t.Context(), f.svc, "deposit-total", "all")
	if total.Deposited != 2*105+7 || total.Events != 7 {
		t.Fatalf("deposit total %+v: an event was counted twice or lost", total)
	}
}

func TestReplayRefusesUnknownSubscribers(t *testing.T) {
	f := newParkFixture(t, nil)
	stream := signal.StreamID{Type: "account", ID: "a"}
	for _, name := range []string{"nobody", "event-counter"} {
		if _, err := f.svc.Replay(t.Context(), name, stream); !errors.Is(err, signal.ErrNotFound) {
			t.Errorf("Replay(%q) = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := f.svc.Replay(t.Context(), "balances", signal.StreamID{Type: "account", ID: "a/b"}); !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("Replay of an invalid stream = %v, want ErrInvalid", err)
	}
}

// flakyViews fails every CommitViews as unavailable while down is set.
type flakyViews struct {
	*memstore.Store
	down atomic.Bool
}

func (s *flakyViews) CommitViews(ctx context.Context, c signal.ViewCommit) error {
	if s.down.Load() {
		return signal.Errorf(signal.KindUnavailable, "flaky", "the store is down")
	}
	return s.Store.CommitViews(ctx, c)
}

// TestStoreOutageParksNothing: failures of the store are not the event's
// fault; however often they repeat, nothing is parked.
func TestStoreOutageParksNothing(t *testing.T) {
	st := &flakyViews{Store: memstore.New()}
	subs, _ := subscribers(nil)
	typ := signal.MustDefine(accountSpec())
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{typ}, Subscribers: subs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Handle(t.Context(), "account", "a", Open{Owner: "a"}); err != nil {
		t.Fatal(err)
	}
	st.down.Store(true)
	for range 2 * signal.DefaultParkAfter {
		if err := svc.Dispatch(t.Context(), allCommits(t, st.Store)); err == nil {
			t.Fatal("dispatch succeeded while the view store was down")
		}
	}
	if fs := failures(t, svc); len(fs) != 0 {
		t.Fatalf("an outage recorded failures: %+v", fs)
	}
	st.down.Store(false)
	if err := svc.Dispatch(t.Context(), allCommits(t, st.Store)); err != nil {
		t.Fatal(err)
	}
}

type Mystery struct{}

// TestPoisonCommitIsParked: a commit no registered event decodes fails
// every subscriber of its type at its version, is parked like any other
// failure, and is replayed once the event is known.
func TestPoisonCommitIsParked(t *testing.T) {
	f := newParkFixture(t, nil)
	mustHandle(t, f.fixture, "p", Open{Owner: "p"})
	mustHandle(t, f.fixture, "ok", Open{Owner: "ok"})
	poison := signal.Commit{Stream: signal.StreamID{Type: "account", ID: "p"}, Version: 2, CommandID: "mystery",
		Time: time.Now().UTC().Truncate(time.Millisecond), Events: []signal.RawEvent{{ID: "e-mystery", Name: "Mystery", SchemaVersion: 1, Data: []byte(`{}`)}}}
	if err := f.store.Append(t.Context(), poison); err != nil {
		t.Fatal(err)
	}
	for range signal.DefaultParkAfter - 1 {
		if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err == nil {
			t.Fatal("dispatch of an undecodable commit succeeded before parking")
		}
	}
	if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil {
		t.Fatalf("the poison is parked on the last attempt; got %v", err)
	}
	fs := failures(t, f.svc)
	if len(fs) != 2 || fs[0].Subscriber != "balances" || fs[1].Subscriber != "welcome-bonus" || fs[0].Version != 2 || !fs[0].Parked || !fs[1].Parked {
		t.Fatalf("failures %+v, want balances and welcome-bonus parked on p at 2", fs)
	}
	if b, _, _ := signal.LoadView[balanceDoc](t.Context(), f.svc, "balance", "ok"); b.Balance != 100 {
		t.Fatalf("the healthy account was held back: %+v", b)
	}
	if b, _, _ := signal.LoadView[balanceDoc](t.Context(), f.svc, "balance", "p"); b.Version != 1 {
		t.Fatalf("the poisoned account's events before the poison: %+v, want version 1", b)
	}

	// The next release knows the event: replay every parked failure.
	spec := accountSpec()
	spec.Events = append(spec.Events, signal.Evolve("Mystery", func(s Account, _ Mystery) Account { return s }))
	svc, err := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{signal.MustDefine(spec)}, Subscribers: subscribersOnly()})
	if err != nil {
		t.Fatal(err)
	}
	if failed, err := svc.ReplayParked(t.Context()); err != nil || len(failed) != 0 {
		t.Fatalf("ReplayParked = %v, %v", failed, err)
	}
	if fs := failures(t, svc); len(fs) != 0 {
		t.Fatalf("failures after the replay: %+v", fs)
	}
	if b, _, _ := signal.LoadView[balanceDoc](t.Context(), svc, "balance", "p"); b.Version < 2 {
		t.Fatalf("the poisoned account after the replay: %+v", b)
	}
}

func subscribersOnly() []signal.Subscriber {
	subs, _ := subscribers(nil)
	return subs
}

// TestEphemeralObserverFailureDoesNotBlock: an ephemeral observer keeps
// no checkpoint, so its failure can be neither retried nor parked; it is
// logged, and holds back nothing.
func TestEphemeralObserverFailureDoesNotBlock(t *testing.T) {
	var calls atomic.Int64
	broken := &signal.Observer{Name: "broken-metrics", Ephemeral: true, On: []signal.ObserverHandler{
		signal.ObserveAll(func(context.Context, signal.Event) error {
			calls.Add(1)
			return errors.New("metrics sink down")
		}),
	}}
	f := newFixture(t, func(_ *signal.Spec[Account], c *signal.Config) {
		c.Subscribers = append(subscribersOnly(), broken)
	})
	mustHandle(t, f, "a", Open{Owner: "a"})
	if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil {
		t.Fatalf("an ephemeral observer's failure failed the batch: %v", err)
	}
	if calls.Load() == 0 {
		t.Fatal("the ephemeral observer never ran")
	}
	if b, _, _ := signal.LoadView[balanceDoc](t.Context(), f.svc, "balance", "a"); b.Version != 1 {
		t.Fatalf("the projection was held back: %+v", b)
	}
}

// TestParkAfterNegativeNeverParks: ParkAfter < 0 keeps retrying.
func TestParkAfterNegativeNeverParks(t *testing.T) {
	var failAt atomic.Int64
	failAt.Store(1)
	f := newParkFixture(t, &failAt, func(_ *signal.Spec[Account], c *signal.Config) { c.ParkAfter = -1 })
	mustHandle(t, f.fixture, "bad", Open{Owner: "bad"})
	for range 2 * signal.DefaultParkAfter {
		if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err == nil {
			t.Fatal("a failing projection stopped failing with ParkAfter < 0")
		}
	}
	if fs := failures(t, f.svc); len(fs) != 0 {
		t.Fatalf("ParkAfter < 0 recorded %+v", fs)
	}
}
