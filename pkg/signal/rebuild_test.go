package signal_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// rebuildStore is a memstore whose view drops, view commits and log scan
// can be made to fail, and which records the views dropped.
type rebuildStore struct {
	*memstore.Store
	dropErr, scanErr error
	// failViews is how many CommitViews and CommitViewBatch calls are
	// still to fail as unavailable; negative: every one.
	failViews atomic.Int32
	mu        sync.Mutex
	dropped   []string
}

func (s *rebuildStore) DropView(ctx context.Context, name, subscriber string) error {
	if s.dropErr != nil {
		return s.dropErr
	}
	s.mu.Lock()
	s.dropped = append(s.dropped, name)
	s.mu.Unlock()
	return s.Store.DropView(ctx, name, subscriber)
}

func (s *rebuildStore) CommitViews(ctx context.Context, c signal.ViewCommit) error {
	if err := s.viewFailure(); err != nil {
		return err
	}
	return s.Store.CommitViews(ctx, c)
}

func (s *rebuildStore) CommitViewBatch(ctx context.Context, b signal.ViewBatch) error {
	if err := s.viewFailure(); err != nil {
		return err
	}
	return s.Store.CommitViewBatch(ctx, b)
}

// viewFailure is the failure a view commit is to answer, if any.
func (s *rebuildStore) viewFailure() error {
	if n := s.failViews.Load(); n < 0 || (n > 0 && s.failViews.CompareAndSwap(n, n-1)) {
		return signal.Errorf(signal.KindUnavailable, "flaky", "the store is down")
	}
	return nil
}

func (s *rebuildStore) ScanCommits(ctx context.Context, segments int, fn func(context.Context, []signal.Commit) error) error {
	if s.scanErr != nil {
		return s.scanErr
	}
	return s.Store.ScanCommits(ctx, segments, fn)
}

// noScanStore keeps views but cannot read its whole log.
type noScanStore struct {
	signal.Store
	signal.ViewStore
}

// rebuildFixture is a Service over a rebuildStore whose views were built
// by the usual dispatch, and then vandalised: account a's balance is
// wrong and a document no event makes exists, so a rebuild must drop
// them.
type rebuildFixture struct {
	store    *rebuildStore
	svc      *signal.Service
	failAt   *atomic.Int64
	counter  *signal.EventCounter
	commits  int
	balances map[string]string // the views as dispatch built them, as views describes them
	counts   map[string]int64  // the event counter then
}

var rebuildAccounts = []string{"a", "b", "bad"}

func newRebuildFixture(t *testing.T, wrap func(*rebuildStore) signal.Store) *rebuildFixture {
	t.Helper()
	f := &rebuildFixture{store: &rebuildStore{Store: memstore.New()}, failAt: &atomic.Int64{}}
	var store signal.Store = f.store
	if wrap != nil {
		store = wrap(f.store)
	}
	var subs []signal.Subscriber
	subs, f.counter = subscribers(f.failAt)
	svc, err := signal.New(signal.Config{Store: store, Types: []signal.AggregateType{signal.MustDefine(accountSpec())}, Subscribers: subs})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	for _, id := range rebuildAccounts {
		for _, cmd := range []any{Open{Owner: id}, Deposit{Amount: 5}} {
			if _, err := svc.Handle(t.Context(), "account", id, cmd); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The first dispatch builds the views and pays the bonuses; the
	// second projects the bonuses.
	for range 2 {
		if err := svc.Dispatch(t.Context(), allCommits(t, f.store.Store)); err != nil {
			t.Fatal(err)
		}
	}
	f.commits = len(allCommits(t, f.store.Store))
	f.balances = f.views(t)
	f.counts = f.counter.Counts()
	f.vandalise(t)
	return f
}

// totalKey is where views puts the total.
const totalKey = "total"

// views describes every account's balance document and the total.
func (f *rebuildFixture) views(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, id := range rebuildAccounts {
		b, _, err := signal.LoadView[balanceDoc](t.Context(), f.svc, "balance", id)
		out[id] = fmt.Sprintf("%+v/%v", b, err)
	}
	total, _, err := signal.LoadView[totalDoc](t.Context(), f.svc, "deposit-total", "all")
	out[totalKey] = fmt.Sprintf("%+v/%v", total, err)
	return out
}

func (f *rebuildFixture) vandalise(t *testing.T) {
	t.Helper()
	a, err := f.store.Store.LoadView(t.Context(), "balance", "a")
	if err != nil {
		t.Fatal(err)
	}
	err = f.store.Store.CommitViews(t.Context(), signal.ViewCommit{Subscriber: "vandal", Stream: signal.StreamID{Type: "account", ID: "v"}, From: 0, To: 1,
		Writes: []signal.ViewWrite{
			{Name: "balance", Key: "a", Data: []byte(`{"balance":999,"version":99}`), ExpectedVersion: a.Version},
			{Name: "balance", Key: "ghost", Data: []byte(`{"balance":1}`)},
		}})
	if err != nil {
		t.Fatal(err)
	}
}

// vandalised reports whether the documents vandalise wrote are still there.
func (f *rebuildFixture) vandalised(t *testing.T) bool {
	t.Helper()
	_, err := f.svc.View(t.Context(), "balance", "ghost")
	return err == nil
}

type rebuildCase struct {
	name       string
	wrap       func(*rebuildStore) signal.Store
	arrange    func(*rebuildFixture)
	cancelled  bool
	projection string
	views      []string
	want       error // nil, a sentinel, or errDispatch
	check      func(t *testing.T, f *rebuildFixture, got signal.Rebuilt)
}

// errDispatch stands for a *DispatchError in rebuildCase.want.
var errDispatch = errors.New("a *signal.DispatchError")

var bothViews = []string{"balance", "deposit-total"}

var rebuildCases = []rebuildCase{
	{name: "rebuilds the views named from the whole log", projection: "balances", views: bothViews,
		check: func(t *testing.T, f *rebuildFixture, got signal.Rebuilt) {
			f.wantRebuilt(t, got, nil)
			f.wantViews(t, rebuildAccounts...)
			f.wantDropped(t, bothViews...)
			if c := f.counter.Counts(); !maps.Equal(c, f.counts) {
				t.Errorf("the event counter went from %v to %v: only the projection may run", f.counts, c)
			}
		}},
	{name: "no view named drops the projection's namesake", projection: "balances",
		check: func(t *testing.T, f *rebuildFixture, got signal.Rebuilt) {
			f.wantDropped(t, "balances")
			if !f.vandalised(t) {
				t.Error("a document of a view not named was dropped")
			}
		}},
	{name: "a stream the projection fails on is parked at once", projection: "balances", views: bothViews,
		arrange: func(f *rebuildFixture) { f.failAt.Store(2) },
		check: func(t *testing.T, f *rebuildFixture, got signal.Rebuilt) {
			f.wantRebuilt(t, got, []string{"bad@2"})
			f.wantViews(t, "a", "b")
		}},
	{name: "a page the store fails on is delivered again", projection: "balances", views: bothViews,
		arrange: func(f *rebuildFixture) { f.store.failViews.Store(2) },
		check: func(t *testing.T, f *rebuildFixture, got signal.Rebuilt) {
			f.wantRebuilt(t, got, nil)
			f.wantViews(t, rebuildAccounts...)
		}},
	{name: "a page the store keeps failing on", projection: "balances", views: bothViews, want: errDispatch,
		arrange: func(f *rebuildFixture) { f.store.failViews.Store(-1) }},
	{name: "an unknown projection", projection: "nope", want: signal.ErrNotFound, check: nothingDropped},
	{name: "a policy is no projection", projection: "welcome-bonus", want: signal.ErrNotFound, check: nothingDropped},
	{name: "an invalid view name", projection: "balances", views: []string{"balance", ""}, want: signal.ErrInvalid, check: nothingDropped},
	{name: "a store that cannot scan its log", projection: "balances", views: bothViews, want: signal.ErrUnsupported,
		wrap:  func(s *rebuildStore) signal.Store { return noScanStore{Store: s, ViewStore: s} },
		check: nothingDropped},
	{name: "dropping fails", projection: "balances", views: bothViews, want: signal.ErrInternal,
		arrange: func(f *rebuildFixture) { f.store.dropErr = errors.New("disk on fire") }, check: nothingDropped},
	{name: "dropping finds the store unavailable", projection: "balances", views: bothViews, want: signal.ErrUnavailable,
		arrange: func(f *rebuildFixture) { f.store.dropErr = signal.Errorf(signal.KindUnavailable, "drop", "down") }},
	{name: "the scan fails", projection: "balances", views: bothViews, want: signal.ErrInternal,
		arrange: func(f *rebuildFixture) { f.store.scanErr = errors.New("a broken page") }},
	{name: "the context has ended", projection: "balances", views: bothViews, want: signal.ErrUnavailable, cancelled: true},
}

func TestRebuild(t *testing.T) {
	signal.SetRebuildWait(t, 0)
	for _, tc := range rebuildCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newRebuildFixture(t, tc.wrap)
			if tc.arrange != nil {
				tc.arrange(f)
			}
			ctx, cancel := context.WithCancel(t.Context())
			if tc.cancelled {
				cancel()
			}
			defer cancel()
			got, err := f.svc.Rebuild(ctx, tc.projection, tc.views...)
			var de *signal.DispatchError
			switch {
			case tc.want == errDispatch && !errors.As(err, &de):
				t.Fatalf("Rebuild = %v (%T), want a *signal.DispatchError", err, err)
			case tc.want == nil && err != nil, tc.want != nil && tc.want != errDispatch && !errors.Is(err, tc.want):
				t.Fatalf("Rebuild = %v (kind %s), want %v", err, signal.KindOf(err), tc.want)
			}
			if tc.check != nil {
				tc.check(t, f, got)
			}
		})
	}
}

// wantRebuilt checks the answer: every commit read, and the parked
// streams ("id@version"), at their first attempt.
func (f *rebuildFixture) wantRebuilt(t *testing.T, got signal.Rebuilt, parked []string) {
	t.Helper()
	if got.Commits != f.commits {
		t.Errorf("Rebuilt.Commits = %d, want %d, every commit of the log", got.Commits, f.commits)
	}
	var gotParked []string
	for _, p := range got.Parked {
		if p.Subscriber != "balances" || !p.Parked || p.Attempts != 1 {
			t.Errorf("Rebuilt.Parked holds %+v, want only the projection's, parked at the first attempt", p)
		}
		gotParked = append(gotParked, fmt.Sprintf("%s@%d", p.Stream.ID, p.Version))
	}
	if !slices.Equal(gotParked, parked) {
		t.Errorf("Rebuilt.Parked at %v, want %v", gotParked, parked)
	}
	if f.vandalised(t) {
		t.Error("a document no event makes survived the rebuild")
	}
}

// wantViews checks that the accounts' balances, and the total when all
// are asked for, are as dispatch built them.
func (f *rebuildFixture) wantViews(t *testing.T, ids ...string) {
	t.Helper()
	got := f.views(t)
	for _, id := range ids {
		if got[id] != f.balances[id] {
			t.Errorf("after the rebuild, account %s's balance is %s, want %s", id, got[id], f.balances[id])
		}
	}
	if len(ids) == len(rebuildAccounts) && got[totalKey] != f.balances[totalKey] {
		t.Errorf("after the rebuild, the total is %s, want %s", got[totalKey], f.balances[totalKey])
	}
}

func (f *rebuildFixture) wantDropped(t *testing.T, views ...string) {
	t.Helper()
	f.store.mu.Lock()
	defer f.store.mu.Unlock()
	if !slices.Equal(f.store.dropped, views) {
		t.Errorf("dropped views %q, want %q", f.store.dropped, views)
	}
}

func nothingDropped(t *testing.T, f *rebuildFixture, _ signal.Rebuilt) {
	t.Helper()
	f.wantDropped(t)
	if !f.vandalised(t) {
		t.Error("documents were dropped though the rebuild was refused")
	}
}
