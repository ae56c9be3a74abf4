package signal_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// seen records what handlers were given, safely across goroutines.
type seen struct {
	mu  sync.Mutex
	got []string
}

func (s *seen) add(format string, args ...any) {
	s.mu.Lock()
	s.got = append(s.got, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func (s *seen) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// TestTypedHandlersSelectByGoType: each kind of subscriber gives an event
// to its handler for the event's Go type, with the event as that type,
// and every other event of the types it follows to its All handler; the
// typed handler wins over the All one.
func TestTypedHandlersSelectByGoType(t *testing.T) {
	var proj, pol, obs seen
	subs := selectingSubscribers(&proj, &pol, &obs)
	f := newFixture(t, func(_ *signal.Spec[Account], c *signal.Config) { c.Subscribers = subs })
	mustHandle(t, f, "a", Open{Owner: "ann"})
	mustHandle(t, f, "a", Deposit{Amount: 5})
	mustHandle(t, f, "a", Withdraw{Amount: 2})
	// The first dispatch runs the policy, whose deposit of 3 (len "ann")
	// the second delivers.
	for range 2 {
		if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		got  []string
		want []string
	}{
		{"projection", proj.list(), []string{"all:Opened@1", "typed:Deposited@2:{Amount:5}", "all:Withdrawn@3", "typed:Deposited@4:{Amount:3}"}},
		{"policy", pol.list(), []string{"typed:Opened@1:{Owner:ann}", "all:Deposited@2", "all:Withdrawn@3", "all:Deposited@4"}},
		{"observer", obs.list(), []string{"all:Opened@1", "all:Deposited@2", "typed:Withdrawn@3:{Amount:2}", "all:Deposited@4"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s saw %q\nwant %q", c.name, c.got, c.want)
		}
	}
	if a, _, err := f.typed.Get(t.Context(), "a", signal.Fresh()); err != nil || a.Balance != 6 {
		t.Errorf("balance %+v %v, want 5-2+3", a, err)
	}
}

// selectingSubscribers is a projection, a policy and an observer, each
// with a typed handler and an All handler, that note in proj, pol and obs
// which handler got which event. The policy deposits, on an Opened, the
// length of the owner's name.
func selectingSubscribers(proj, pol, obs *seen) []signal.Subscriber {
	return []signal.Subscriber{
		&signal.Projection{Name: "sel-proj", On: []signal.ProjectionHandler{
			signal.ProjectAll(func(_ context.Context, _ *signal.ViewTx, ev signal.Event) error {
				proj.add("all:%s@%d", ev.Name, ev.Version)
				return nil
			}),
			signal.Project(func(_ context.Context, _ *signal.ViewTx, ev signal.Event, e Deposited) error {
				proj.add("typed:%s@%d:%+v", ev.Name, ev.Version, e)
				return nil
			}),
		}},
		&signal.Policy{Name: "sel-pol", On: []signal.PolicyHandler{
			signal.React(func(_ context.Context, ev signal.Event, e Opened) ([]signal.Send, error) {
				pol.add("typed:%s@%d:%+v", ev.Name, ev.Version, e)
				return []signal.Send{{Type: "account", ID: ev.AggregateID, Command: Deposit{Amount: int64(len(e.Owner))}}}, nil
			}),
			signal.ReactAll(func(_ context.Context, ev signal.Event) ([]signal.Send, error) {
				pol.add("all:%s@%d", ev.Name, ev.Version)
				return nil, nil
			}),
		}},
		&signal.Observer{Name: "sel-obs", On: []signal.ObserverHandler{
			signal.Observe(func(_ context.Context, ev signal.Event, e Withdrawn) error {
				obs.add("typed:%s@%d:%+v", ev.Name, ev.Version, e)
				return nil
			}),
			signal.ObserveAll(func(_ context.Context, ev signal.Event) error {
				obs.add("all:%s@%d", ev.Name, ev.Version)
				return nil
			}),
		}},
	}
}

// TestCheckpointsAdvancePastUnhandledEvents: a subscriber with no handler
// for an event still moves its checkpoint past it, so the next delivery
// starts after it.
func TestCheckpointsAdvancePastUnhandledEvents(t *testing.T) {
	var ran seen
	subs := []signal.Subscriber{
		&signal.Projection{Name: "w-proj", On: []signal.ProjectionHandler{
			signal.Project(func(_ context.Context, _ *signal.ViewTx, ev signal.Event, _ Withdrawn) error {
				ran.add("proj@%d", ev.Version)
				return nil
			}),
		}},
		&signal.Policy{Name: "w-pol", On: []signal.PolicyHandler{
			signal.React(func(_ context.Context, ev signal.Event, _ Withdrawn) ([]signal.Send, error) {
				ran.add("pol@%d", ev.Version)
				return nil, nil
			}),
		}},
		&signal.Observer{Name: "w-obs", On: []signal.ObserverHandler{
			signal.Observe(func(_ context.Context, ev signal.Event, _ Withdrawn) error {
				ran.add("obs@%d", ev.Version)
				return nil
			}),
		}},
	}
	f := newFixture(t, func(_ *signal.Spec[Account], c *signal.Config) { c.Subscribers = subs })
	mustHandle(t, f, "a", Open{Owner: "ann"})
	mustHandle(t, f, "a", Deposit{Amount: 5})
	mustHandle(t, f, "a", Deposit{Amount: 5})
	if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"w-proj", "w-pol", "w-obs"} {
		if cp := checkpointOf(t, f.store, name, "a"); cp.Version != 3 {
			t.Errorf("%s: checkpoint %d after three events it has no handler for, want 3", name, cp.Version)
		}
	}
	if got := ran.list(); len(got) != 0 {
		t.Fatalf("handlers ran for events of other types: %q", got)
	}
	mustHandle(t, f, "a", Withdraw{Amount: 1})
	if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"w-proj", "w-pol", "w-obs"} {
		if cp := checkpointOf(t, f.store, name, "a"); cp.Version != 4 {
			t.Errorf("%s: checkpoint %d, want 4", name, cp.Version)
		}
	}
	got := ran.list()
	slices.Sort(got)
	if want := []string{"obs@4", "pol@4", "proj@4"}; !slices.Equal(got, want) {
		t.Fatalf("handlers ran %q, want %q", got, want)
	}
}

// TestNewRefusesSubscribers: signal.New refuses subscribers whose
// handlers could not all run or could not be told apart, and says why.
func TestNewRefusesSubscribers(t *testing.T) {
	nop := func(context.Context, signal.Event) error { return nil }
	nopProject := func(context.Context, *signal.ViewTx, signal.Event, Deposited) error { return nil }
	nopReact := func(context.Context, signal.Event, Deposited) ([]signal.Send, error) { return nil, nil }
	acc, tab := signal.MustDefine(accountSpec()), signal.MustDefine(tabSpec())
	for _, c := range []struct {
		name string
		sub  signal.Subscriber
		want string
	}{
		{"projection without handlers", &signal.Projection{Name: "p"}, `subscriber "p" has no handlers`},
		{"policy without handlers", &signal.Policy{Name: "p", Types: []string{"account"}}, `subscriber "p" has no handlers`},
		{"observer without handlers", &signal.Observer{Name: "o", On: []signal.ObserverHandler{}}, `subscriber "o" has no handlers`},
		{"ephemeral observer without handlers", &signal.Observer{Name: "o", Ephemeral: true}, `subscriber "o" has no handlers`},
		{"two Project for one type", &signal.Projection{Name: "p", On: []signal.ProjectionHandler{
			signal.Project(nopProject), signal.ProjectAll(func(context.Context, *signal.ViewTx, signal.Event) error { return nil }), signal.Project(nopProject),
		}}, `subscriber "p" has two handlers for events of Go type signal_test.Deposited`},
		{"two React for one type", &signal.Policy{Name: "p", On: []signal.PolicyHandler{signal.React(nopReact), signal.React(nopReact)}},
			"two handlers for events of Go type signal_test.Deposited"},
		{"two Observe for one type", &signal.Observer{Name: "o", On: []signal.ObserverHandler{
			signal.Observe(func(context.Context, signal.Event, Opened) error { return nil }),
			signal.Observe(func(context.Context, signal.Event, Opened) error { return nil }),
		}}, "two handlers for events of Go type signal_test.Opened"},
		{"two ObserveAll", &signal.Observer{Name: "o", On: []signal.ObserverHandler{signal.ObserveAll(nop), signal.ObserveAll(nop)}},
			`subscriber "o" has two handlers for all events`},
		{"two ReactAll", &signal.Policy{Name: "p", On: []signal.PolicyHandler{
			signal.ReactAll(func(context.Context, signal.Event) ([]signal.Send, error) { return nil, nil }),
			signal.ReactAll(func(context.Context, signal.Event) ([]signal.Send, error) { return nil, nil }),
		}}, "two handlers for all events"},
		{"unknown type in Types", &signal.Observer{Name: "o", Types: []string{"account", "nope"}, On: []signal.ObserverHandler{signal.ObserveAll(nop)}},
			`subscriber "o" follows "nope", which is not a registered aggregate type`},
		{"a Go type no type records", &signal.Policy{Name: "p", On: []signal.PolicyHandler{
			signal.React(func(context.Context, signal.Event, Mystery) ([]signal.Send, error) { return nil, nil }),
		}}, `subscriber "p" handles signal_test.Mystery, which no aggregate type it follows (none) records`},
		{"a command's Go type", &signal.Observer{Name: "o", On: []signal.ObserverHandler{
			signal.Observe(func(context.Context, signal.Event, Deposit) error { return nil }),
		}}, "handles signal_test.Deposit, which no aggregate type"},
		{"a Go type the listed types do not record", &signal.Projection{Name: "p", Types: []string{"tab"}, On: []signal.ProjectionHandler{signal.Project(nopProject)}},
			`subscriber "p" handles signal_test.Deposited, which no aggregate type it follows (tab) records`},
		{"beside an All handler, a Go type no type records", &signal.Observer{Name: "o", On: []signal.ObserverHandler{
			signal.ObserveAll(nop), signal.Observe(func(context.Context, signal.Event, Mystery) error { return nil }),
		}}, "handles signal_test.Mystery, which no aggregate type it follows (account, tab) records"},
		{"one of two typed handlers for a Go type no type records", &signal.Observer{Name: "o", On: []signal.ObserverHandler{
			signal.Observe(func(context.Context, signal.Event, Opened) error { return nil }),
			signal.Observe(func(context.Context, signal.Event, Mystery) error { return nil }),
		}}, "handles signal_test.Mystery, which no aggregate type it follows (account) records"},
		// A handler without a function would panic on its first event.
		{"Project of a nil func", &signal.Projection{Name: "p", On: []signal.ProjectionHandler{
			signal.Project(nopProject), signal.Project[Withdrawn](nil),
		}}, `subscriber "p": handler 1 has no function`},
		{"ProjectAll of a nil func", &signal.Projection{Name: "p", On: []signal.ProjectionHandler{signal.ProjectAll(nil)}},
			`subscriber "p": handler 0 has no function`},
		{"zero ProjectionHandler", &signal.Projection{Name: "p", On: []signal.ProjectionHandler{{}}}, "handler 0 has no function"},
		{"React of a nil func", &signal.Policy{Name: "p", On: []signal.PolicyHandler{signal.React[Opened](nil)}}, "handler 0 has no function"},
		{"ReactAll of a nil func", &signal.Policy{Name: "p", On: []signal.PolicyHandler{signal.React(nopReact), signal.ReactAll(nil)}},
			"handler 1 has no function"},
		{"zero PolicyHandler", &signal.Policy{Name: "p", On: []signal.PolicyHandler{{}}}, "handler 0 has no function"},
		{"Observe of a nil func", &signal.Observer{Name: "o", On: []signal.ObserverHandler{signal.Observe[Opened](nil)}}, "handler 0 has no function"},
		{"ObserveAll of a nil func", &signal.Observer{Name: "o", Ephemeral: true, On: []signal.ObserverHandler{signal.ObserveAll(nil)}},
			"handler 0 has no function"},
		{"zero ObserverHandler", &signal.Observer{Name: "o", On: []signal.ObserverHandler{{}}}, "handler 0 has no function"},
		{"nil subscriber", nil, "a nil subscriber"},
		{"nil *Projection", (*signal.Projection)(nil), "a nil subscriber"},
		{"nil *Policy", (*signal.Policy)(nil), "a nil subscriber"},
		{"nil *Observer", (*signal.Observer)(nil), "a nil subscriber"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok := &signal.Observer{Name: "fine", On: []signal.ObserverHandler{signal.ObserveAll(nop)}}
			svc, err := signal.New(signal.Config{Store: memstore.New(), Types: []signal.AggregateType{acc, tab}, Subscribers: []signal.Subscriber{ok, c.sub}})
			if err == nil {
				t.Fatalf("New accepted it: %v", svc)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %q, want it to say %q", err, c.want)
			}
		})
	}
}

// TestDerivedTypes: a subscriber without Types follows the aggregate
// types that record an event Go type one of its typed handlers takes
// (every type, with an All handler); with Types, those types only.
func TestDerivedTypes(t *testing.T) {
	savingsSpec := accountSpec()
	savingsSpec.Name = "savings" // records Deposited too
	acc, savings, tab := signal.MustDefine(accountSpec()), signal.MustDefine(savingsSpec), signal.MustDefine(tabSpec())
	var deposits seen
	subs := derivingSubscribers(&deposits)
	st := memstore.New()
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{acc, savings, tab}, Subscribers: subs})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, c := range []struct {
		typ, id string
		cmds    []any
	}{
		{"account", "a", []any{Open{Owner: "ann"}, Deposit{Amount: 1}}},
		{"savings", "s", []any{Open{Owner: "ann"}, Deposit{Amount: 2}}},
		{"tab", "t", []any{OpenTab{Guest: "ann"}, AddDrink{Price: 3}}},
	} {
		for _, cmd := range c.cmds {
			if _, err := svc.Handle(ctx, c.typ, c.id, cmd); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := svc.Dispatch(ctx, allCommits(t, st)); err != nil {
		t.Fatal(err)
	}
	checkDerivedFollows(t, st, svc)
	got := deposits.list()
	slices.Sort(got)
	if want := []string{"account:1", "savings:2"}; !slices.Equal(got, want) {
		t.Errorf("deposits saw %q, want %q", got, want)
	}
}

// derivingSubscribers is a subscriber for each way of choosing the types
// it follows: typed handlers of an event one type or two record
// (deposits, which notes each Deposited in deposits; drinks), of events
// of several types (openings), an All handler (everything), and Types
// listed beside an All handler (listed) or a typed one (listed-typed).
func derivingSubscribers(deposits *seen) []signal.Subscriber {
	nop := func(context.Context, signal.Event) error { return nil }
	return []signal.Subscriber{
		&signal.Observer{Name: "deposits", On: []signal.ObserverHandler{signal.Observe(func(_ context.Context, ev signal.Event, e Deposited) error {
			deposits.add("%s:%d", ev.AggregateType, e.Amount)
			return nil
		})}},
		&signal.Observer{Name: "drinks", On: []signal.ObserverHandler{signal.Observe(func(context.Context, signal.Event, DrinkAdded) error { return nil })}},
		&signal.Policy{Name: "openings", On: []signal.PolicyHandler{
			signal.React(func(context.Context, signal.Event, Opened) ([]signal.Send, error) { return nil, nil }),
			signal.React(func(context.Context, signal.Event, TabOpened) ([]signal.Send, error) { return nil, nil }),
		}},
		&signal.Observer{Name: "everything", On: []signal.ObserverHandler{signal.ObserveAll(nop)}},
		&signal.Projection{Name: "listed", Types: []string{"tab"}, On: []signal.ProjectionHandler{
			signal.ProjectAll(func(context.Context, *signal.ViewTx, signal.Event) error { return nil }),
		}},
		&signal.Observer{Name: "listed-typed", Types: []string{"savings"}, On: []signal.ObserverHandler{
			signal.Observe(func(context.Context, signal.Event, Deposited) error { return nil }),
		}},
	}
}

// checkDerivedFollows: each subscriber's checkpoint moved, to version 2,
// on the streams of account a, savings s and tab t of the types it
// follows and on no other, and Replay knows it only on those.
func checkDerivedFollows(t *testing.T, st *memstore.Store, svc *signal.Service) {
	t.Helper()
	ctx := t.Context()
	streams := []signal.StreamID{{Type: "account", ID: "a"}, {Type: "savings", ID: "s"}, {Type: "tab", ID: "t"}}
	for name, follows := range map[string][]string{
		"deposits":     {"account", "savings"},
		"drinks":       {"tab"},
		"openings":     {"account", "savings", "tab"},
		"everything":   {"account", "savings", "tab"},
		"listed":       {"tab"},
		"listed-typed": {"savings"},
	} {
		for _, stream := range streams {
			want := slices.Contains(follows, stream.Type)
			cp, err := st.LoadCheckpoint(ctx, name, stream)
			if err != nil {
				t.Fatal(err)
			}
			if got := cp.Version == 2; got != want {
				t.Errorf("%s on %s: checkpoint %d, follows = %v, want %v", name, stream, cp.Version, got, want)
			}
			// Replay knows only the subscribers that follow the type.
			if _, err := svc.Replay(ctx, name, stream); errors.Is(err, signal.ErrNotFound) == want {
				t.Errorf("Replay(%s, %s) = %v; follows = %v", name, stream, err, want)
			}
		}
	}
}

// TestPolicyReact: (*Policy).React answers the commands the policy sends
// for an event: its handler's for the event's Go type, else its All
// handler's, else none; and the handler's error.
func TestPolicyReact(t *testing.T) {
	ctx := t.Context()
	typ := signal.MustDefine(accountSpec())
	boom := errors.New("boom")
	p := &signal.Policy{Name: "p", On: []signal.PolicyHandler{
		signal.React(func(_ context.Context, ev signal.Event, e Opened) ([]signal.Send, error) {
			return []signal.Send{typ.To(ev.AggregateID, Deposit{Amount: int64(len(e.Owner))}), typ.To("pot", Deposit{Amount: 1})}, nil
		}),
		signal.React(func(context.Context, signal.Event, Withdrawn) ([]signal.Send, error) { return nil, boom }),
	}}
	sends, err := p.React(ctx, signal.Event{AggregateType: "account", AggregateID: "a1", Name: "Opened", Data: Opened{Owner: "ann"}})
	want := []signal.Send{{Type: "account", ID: "a1", Command: Deposit{Amount: 3}}, {Type: "account", ID: "pot", Command: Deposit{Amount: 1}}}
	if err != nil || !slices.Equal(sends, want) {
		t.Errorf("React(Opened) = %+v, %v; want %+v", sends, err, want)
	}
	if sends, err := p.React(ctx, signal.Event{AggregateID: "a1", Data: Deposited{Amount: 1}}); err != nil || sends != nil {
		t.Errorf("React of an event it has no handler for = %+v, %v; want none", sends, err)
	}
	if _, err := p.React(ctx, signal.Event{AggregateID: "a1", Data: Withdrawn{Amount: 1}}); !errors.Is(err, boom) {
		t.Errorf("React(Withdrawn) = %v, want the handler's error", err)
	}
	p.On = append(p.On, signal.ReactAll(func(_ context.Context, ev signal.Event) ([]signal.Send, error) {
		return []signal.Send{typ.To(ev.AggregateID, Noop{})}, nil
	}))
	if sends, err := p.React(ctx, signal.Event{AggregateID: "a1", Data: Deposited{Amount: 1}}); err != nil || !slices.Equal(sends, []signal.Send{{Type: "account", ID: "a1", Command: Noop{}}}) {
		t.Errorf("React with an All handler = %+v, %v", sends, err)
	}
	if sends, err := p.React(ctx, signal.Event{AggregateID: "a1", Data: Opened{Owner: "ann"}}); err != nil || !slices.Equal(sends, want) {
		t.Errorf("React(Opened) beside an All handler = %+v, %v; want the typed handler's", sends, err)
	}
}
