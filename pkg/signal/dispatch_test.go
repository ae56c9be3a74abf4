package signal_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

type balanceDoc struct {
	Balance int64 `json:"balance"`
	Version int64 `json:"version"`
}

type totalDoc struct {
	Deposited int64 `json:"deposited"`
	Events    int64 `json:"events"`
}

// subscribers returns a projection with a per-aggregate view and a
// cross-aggregate total (the case duplicates would corrupt), a policy
// that pays a welcome bonus, and a counter. failAt makes the projection
// fail on that version of account "bad".
func subscribers(failAt *atomic.Int64) ([]signal.Subscriber, *signal.EventCounter) {
	counter := &signal.EventCounter{}
	// balance applies one event to both views: change, if any, is what
	// the event does to them; every event counts and moves the version.
	balance := func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, change func(*balanceDoc, *totalDoc)) error {
		if ev.AggregateID == "bad" && failAt != nil && ev.Version == failAt.Load() {
			return errors.New("projection bug")
		}
		var b balanceDoc
		if _, err := tx.Get(ctx, "balance", ev.AggregateID, &b); err != nil {
			return err
		}
		var total totalDoc
		if _, err := tx.Get(ctx, "deposit-total", "all", &total); err != nil {
			return err
		}
		if change != nil {
			change(&b, &total)
		}
		total.Events++
		b.Version = ev.Version
		if err := tx.Put(ctx, "balance", ev.AggregateID, b); err != nil {
			return err
		}
		return tx.Put(ctx, "deposit-total", "all", total)
	}
	proj := &signal.Projection{
		Name:  "balances",
		Types: []string{"account"},
		On: []signal.ProjectionHandler{
			signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Deposited) error {
				return balance(ctx, tx, ev, func(b *balanceDoc, total *totalDoc) {
					b.Balance += e.Amount
					total.Deposited += e.Amount
				})
			}),
			signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Withdrawn) error {
				return balance(ctx, tx, ev, func(b *balanceDoc, _ *totalDoc) { b.Balance -= e.Amount })
			}),
			// Opened, AccountClosed and whatever else the account records.
			signal.ProjectAll(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event) error {
				return balance(ctx, tx, ev, nil)
			}),
		},
	}
	bonus := &signal.Policy{
		Name:  "welcome-bonus",
		Types: []string{"account"},
		On: []signal.PolicyHandler{
			signal.React(func(ctx context.Context, ev signal.Event, _ Opened) ([]signal.Send, error) {
				return []signal.Send{{Type: "account", ID: ev.AggregateID, Command: Deposit{Amount: 100}}}, nil
			}),
		},
	}
	return []signal.Subscriber{proj, bonus, counter.Observer()}, counter
}

func dispatchFixture(t *testing.T, inline bool, failAt *atomic.Int64) (*fixture, *signal.EventCounter) {
	subs, counter := subscribers(failAt)
	f := newFixture(t, func(_ *signal.Spec[Account], c *signal.Config) {
		c.Subscribers, c.InlineDispatch = subs, inline
	})
	return f, counter
}

func allCommits(t *testing.T, st *memstore.Store) []signal.Commit {
	t.Helper()
	changes, err := st.Changes(t.Context(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var out []signal.Commit
	for _, c := range changes {
		out = append(out, c.Commit)
	}
	return out
}

func views(t *testing.T, svc *signal.Service, ids ...string) string {
	t.Helper()
	var sb strings.Builder
	for _, id := range ids {
		b, _, err := signal.LoadView[balanceDoc](t.Context(), svc, "balance", id)
		fmt.Fprintf(&sb, "%s=%+v/%v ", id, b, err)
	}
	total, _, err := signal.LoadView[totalDoc](t.Context(), svc, "deposit-total", "all")
	fmt.Fprintf(&sb, "total=%+v/%v", total, err)
	return sb.String()
}

func script(t *testing.T, f *fixture) {
	for _, id := range []string{"a", "b"} {
		mustHandle(t, f, id, Open{Owner: id})
		mustHandle(t, f, id, Deposit{Amount: 5})
		mustHandle(t, f, id, Withdraw{Amount: 2})
	}
}

func TestInlineDispatch(t *testing.T) {
	f, counter := dispatchFixture(t, true, nil)
	script(t, f)
	// Each account: Opened, bonus Deposited(100) sent by the policy during
	// the inline dispatch of Opened, Deposited(5), Withdrawn(2).
	want := "a={Balance:103 Version:4}/<nil> b={Balance:103 Version:4}/<nil> total={Deposited:210 Events:8}/<nil>"
	if got := views(t, f.svc, "a", "b"); got != want {
		t.Fatalf("views:\n got %s\nwant %s", got, want)
	}
	if c := counter.Counts(); c["account.Deposited"] != 4 || c["account.Opened"] != 2 {
		t.Fatalf("counter: %v", c)
	}
	// The bonus carries the policy's deterministic command id and the causation.
	p, _ := f.svc.History(t.Context(), "account", "a", 0, 10)
	if !strings.HasPrefix(p.Events[1].CommandID, "policy-") || p.Events[1].CausationID != p.Events[0].ID || p.Events[1].CorrelationID != p.Events[0].CommandID {
		t.Fatalf("policy metadata: %+v", p.Events[1])
	}
}

// TestRedelivery feeds the dispatcher as a stream would: duplicates,
// reversed order, single late commits. Views must come out exactly as
// in-process dispatch built them, and the policy must not pay twice.
func TestRedelivery(t *testing.T) {
	ref, _ := dispatchFixture(t, true, nil)
	script(t, ref)
	want := views(t, ref.svc, "a", "b")

	f, _ := dispatchFixture(t, false, nil)
	script(t, f)
	commits := allCommits(t, f.store)
	// The first pass runs the policy, which appends bonus commits; feed those too.
	if err := f.svc.Dispatch(t.Context(), commits); err != nil {
		t.Fatal(err)
	}
	commits = allCommits(t, f.store)
	reversed := slices.Clone(commits)
	slices.Reverse(reversed)
	for _, batch := range [][]signal.Commit{commits, commits, reversed, append(slices.Clone(commits), reversed...)} {
		if err := f.svc.Dispatch(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if got := views(t, f.svc, "a", "b"); got != want {
		t.Fatalf("views after redelivery:\n got %s\nwant %s", got, want)
	}
	if n := len(allCommits(t, f.store)); n != 8 {
		t.Fatalf("%d commits: the policy paid a bonus twice", n)
	}
}

func TestGapFilledFromStore(t *testing.T) {
	f, _ := dispatchFixture(t, false, nil)
	script(t, f)
	commits := allCommits(t, f.store)
	// Deliver only the last commit of each account: the earlier ones are read from the store.
	last := []signal.Commit{commits[2], commits[5]}
	before := f.store.Counts().Loads
	if err := f.svc.Dispatch(t.Context(), last); err != nil {
		t.Fatal(err)
	}
	if f.store.Counts().Loads == before {
		t.Fatal("no gap fill read")
	}
	b, _, err := signal.LoadView[balanceDoc](t.Context(), f.svc, "balance", "a")
	if err != nil || b.Balance != 3 || b.Version != 3 {
		t.Fatalf("gap-filled view: %+v %v", b, err)
	}
}

func TestDispatchFailureIsPerStream(t *testing.T) {
	var failAt atomic.Int64
	failAt.Store(2)
	f, _ := dispatchFixture(t, false, &failAt)
	for _, id := range []string{"bad", "good"} {
		mustHandle(t, f, id, Open{Owner: id})
		mustHandle(t, f, id, Deposit{Amount: 5})
		mustHandle(t, f, id, Deposit{Amount: 6})
	}
	err := f.svc.Dispatch(t.Context(), allCommits(t, f.store))
	var de *signal.DispatchError
	if !errors.As(err, &de) || len(de.Failures) != 1 {
		t.Fatalf("got %v, want one failed stream", err)
	}
	if fl := de.Failures[0]; fl.Stream.ID != "bad" || fl.Version != 2 || fl.Subscriber != "balances" {
		t.Fatalf("failure %+v, want bad@2 in balances", fl)
	}
	if b, _, _ := signal.LoadView[balanceDoc](t.Context(), f.svc, "balance", "good"); b.Version != 3 {
		t.Fatalf("the good stream was held back: %+v", b)
	}
	if b, _, _ := signal.LoadView[balanceDoc](t.Context(), f.svc, "balance", "bad"); b.Version != 1 {
		t.Fatalf("the run must commit exactly the events before the failure: %+v", b)
	}
	failAt.Store(0)
	if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil {
		t.Fatal(err)
	}
	if b, _, _ := signal.LoadView[balanceDoc](t.Context(), f.svc, "balance", "bad"); b.Balance != 111 || b.Version != 4 {
		t.Fatalf("after the fix: %+v", b)
	}
}

func TestConcurrentProjectors(t *testing.T) {
	f, _ := dispatchFixture(t, false, nil)
	for i := range 10 {
		id := fmt.Sprint("acc", i)
		mustHandle(t, f, id, Open{Owner: id})
		for range 5 {
			mustHandle(t, f, id, Deposit{Amount: 1})
		}
	}
	if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil { // run the policy once
		t.Fatal(err)
	}
	if err := f.store.DropView(t.Context(), "balance", "balances"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DropView(t.Context(), "deposit-total", "balances"); err != nil {
		t.Fatal(err)
	}
	commits := allCommits(t, f.store)
	subs, _ := subscribers(nil)
	var wg sync.WaitGroup
	for range 4 {
		svc, err := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}, Subscribers: subs})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if err := svc.Dispatch(t.Context(), commits); err != nil {
				var de *signal.DispatchError
				if !errors.As(err, &de) {
					t.Error(err)
					return
				}
				// Losing every checkpoint race is allowed; the next delivery heals it.
				if err := svc.Dispatch(t.Context(), commits); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	total, _, err := signal.LoadView[totalDoc](t.Context(), f.svc, "deposit-total", "all")
	if err != nil || total.Deposited != 10*(5+100) || total.Events != 10*7 {
		t.Fatalf("total after 4 concurrent projectors: %+v %v", total, err)
	}
}

// bareStore has only the Store contract: no abilities.
type bareStore struct{ signal.Store }

func TestNewValidatesSubscribers(t *testing.T) {
	typ := signal.MustDefine(accountSpec())
	subs, _ := subscribers(nil)
	cases := map[string]signal.Config{
		"projection without views":   {Store: bareStore{memstore.New()}, Subscribers: subs[:1]},
		"policy without checkpoints": {Store: bareStore{memstore.New()}, Subscribers: subs[1:2]},
		"duplicate names":            {Store: memstore.New(), Subscribers: []signal.Subscriber{subs[0], subs[0]}},
		"no handlers":                {Store: memstore.New(), Subscribers: []signal.Subscriber{&signal.Projection{Name: "p"}}},
		"bad name": {Store: memstore.New(), Subscribers: []signal.Subscriber{&signal.Observer{Name: "a b",
			On: []signal.ObserverHandler{signal.ObserveAll(func(context.Context, signal.Event) error { return nil })}}}},
	}
	for name, cfg := range cases {
		cfg.Types = []signal.AggregateType{typ}
		if _, err := signal.New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	// An ephemeral observer needs no abilities.
	if _, err := signal.New(signal.Config{Store: bareStore{memstore.New()}, Types: []signal.AggregateType{typ}, Subscribers: subs[2:]}); err != nil {
		t.Fatal(err)
	}
}

func TestDispatchChanges(t *testing.T) {
	var failAt atomic.Int64
	f, _ := dispatchFixture(t, false, &failAt)
	for _, id := range []string{"a", "bad"} {
		mustHandle(t, f, id, Open{Owner: id})
		mustHandle(t, f, id, Deposit{Amount: 5})
	}
	failAt.Store(2) // bad's Deposit fails: the page holding it is not acknowledged
	last, n, err := f.svc.DispatchChanges(t.Context(), f.store, 0, 2)
	var de *signal.DispatchError
	if !errors.As(err, &de) || last != 2 || n != 2 {
		t.Fatalf("stopped at position %d after %d commits (%v); want 2, 2 and a DispatchError", last, n, err)
	}
	failAt.Store(0)
	last, n, err = f.svc.DispatchChanges(t.Context(), f.store, last, 2)
	if err != nil || n < 2 {
		t.Fatalf("resume: %d commits to %d, %v", n, last, err)
	}
	if again, n, err := f.svc.DispatchChanges(t.Context(), f.store, last, 2); again != last || n != 0 || err != nil {
		t.Fatalf("at the end: %d %d %v", again, n, err)
	}
	if b, _, _ := signal.LoadView[balanceDoc](t.Context(), f.svc, "balance", "bad"); b.Balance != 105 {
		t.Fatalf("bad's balance view %+v, want 105 (deposit + bonus)", b)
	}
}

// TestPolicyCommandOfAnotherShapeIsNotRetried: a policy redelivered after
// a deployment changed the command it sends finds its deterministic id
// applied to the old command (idempotency_key_reused): the effect took
// place once, so it is logged and the policy moves on instead of failing
// that event forever.
func TestPolicyCommandOfAnotherShapeIsNotRetried(t *testing.T) {
	f, _ := dispatchFixture(t, false, nil)
	mustHandle(t, f, "a", Open{Owner: "a"})
	if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil {
		t.Fatal(err)
	}
	// The next deployment pays another bonus; the policy's checkpoints
	// are reset, so the old Opened is delivered to it again.
	if err := f.store.DropView(t.Context(), "no-view", "welcome-bonus"); err != nil {
		t.Fatal(err)
	}
	changed := &signal.Policy{Name: "welcome-bonus", Types: []string{"account"},
		On: []signal.PolicyHandler{signal.React(func(ctx context.Context, ev signal.Event, _ Opened) ([]signal.Send, error) {
			return []signal.Send{{Type: "account", ID: ev.AggregateID, Command: Deposit{Amount: 200}}}, nil
		})}}
	svc, err := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}, Subscribers: []signal.Subscriber{changed}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil {
		t.Fatalf("redelivery to the changed policy: %v", err)
	}
	acc, _, err := f.typed.Get(t.Context(), "a", signal.Fresh())
	if err != nil || acc.Balance != 100 {
		t.Fatalf("balance %d (%v), want 100: the bonus applies once", acc.Balance, err)
	}
	if fs, _ := svc.Failures(t.Context()); len(fs) != 0 {
		t.Fatalf("failures %+v", fs)
	}
}

// TestPolicyDropsRecordedIDsOfOldRules: an event recorded before every
// store checked ids may carry a correlation id today's rules refuse; the
// policy's command goes out without it rather than failing forever.
func TestPolicyDropsRecordedIDsOfOldRules(t *testing.T) {
	f, _ := dispatchFixture(t, false, nil)
	mustHandle(t, f, "a", Open{Owner: "a"})
	commits := allCommits(t, f.store)
	commits[0].CorrelationID = "old\x01correlation"
	if err := f.svc.Dispatch(t.Context(), commits); err != nil {
		t.Fatalf("dispatch of an event with an old-rules correlation id: %v", err)
	}
	acc, _, err := f.typed.Get(t.Context(), "a", signal.Fresh())
	if err != nil || acc.Balance != 100 {
		t.Fatalf("balance %d (%v), want the bonus of 100", acc.Balance, err)
	}
}
