package signaltest

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// env is what every scenario runs on: a real Service over a memstore,
// with its subscribers dispatched from the store's change feed (as
// `signal dev` and the stream projector do) after each step.
type env struct {
	t     testing.TB
	store *memstore.Store
	svc   *signal.Service
	types []signal.AggregateType
	subs  bool
	feed  uint64 // the change feed's position dispatched so far
	// tenant is the tenant the scenario's aggregates live in when the
	// Service has Tenancy, "" when it has none.
	tenant string
}

// setup is what an env's Service is built from.
type setup struct {
	types []signal.AggregateType
	subs  []signal.Subscriber
	rule  signal.Authorizer
	// tenant turns Tenancy on, with the scenario's data in that tenant.
	tenant string
}

// newEnv builds the Service, or says why it cannot be built.
func newEnv(t testing.TB, su setup) (*env, error) {
	store := memstore.New()
	svc, err := signal.New(signal.Config{
		Store:       store,
		Types:       su.types,
		Subscribers: su.subs,
		Authorize:   guard(su.rule),
		Tenancy:     su.tenant != "",
		// Never park: every delivery's failure is reported to the test.
		ParkAfter: -1,
		Logger:    testLogger(t),
	})
	if err != nil {
		return nil, err
	}
	return &env{t: t, store: store, svc: svc, types: su.types, subs: len(su.subs) > 0, tenant: su.tenant}, nil
}

// holds reports whether the Service holds typ itself.
func (e *env) holds(typ signal.AggregateType) bool {
	for _, t := range e.types {
		if t == typ {
			return true
		}
	}
	return false
}

func (e *env) typeNamed(name string) signal.AggregateType {
	for _, t := range e.types {
		if t.Name() == name {
			return t
		}
	}
	return nil
}

// head returns the version of a stream and whether it has ended.
func (e *env) head(ctx context.Context, stream signal.StreamID) (version int64, final bool, err error) {
	for c, err := range e.store.Load(ctx, stream, 0) {
		if err != nil {
			return 0, false, err
		}
		version, final = c.LastVersion(), c.Final
	}
	return version, final, nil
}

// appended returns the commits stored on a stream after version.
func (e *env) appended(ctx context.Context, stream signal.StreamID, after int64) ([]signal.Commit, error) {
	var out []signal.Commit
	for c, err := range e.store.Load(ctx, stream, after) {
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// given appends events to aggregate id of typ as they are, one commit
// per event (signal.EncodeCommit, then the store's Append), each
// recording actor as its Actor. It fails the test (Fatalf) when an event
// cannot be recorded: an unregistered value, an aggregate that has ended,
// an id or actor the store refuses. who and what ("Given", "GivenOn
// ledger l1") name the step in messages.
func (e *env) given(who, what string, typ signal.AggregateType, id, actor string, events []any) {
	e.t.Helper()
	ctx := e.t.Context()
	if !e.holds(typ) {
		e.t.Fatalf("%s: %s: the scenario does not hold the aggregate type %s; pass it when creating the scenario", who, what, typ.Name())
	}
	if err := e.validID(id); err != nil {
		e.t.Fatalf("%s: %s: id %q: %v", who, what, id, err)
	}
	stream := e.streamOf(typ.Name(), id)
	version, final, err := e.head(ctx, stream)
	if err != nil {
		e.t.Fatalf("%s: %s: reading the history: %v", who, what, err)
	}
	table := newEventTable(typ)
	for i, ev := range events {
		info, err := table.lookup(ev)
		if err != nil {
			e.t.Fatalf("%s: %s: event %d: %v", who, what, i+1, err)
		}
		if final {
			e.t.Fatalf("%s: %s: event %d (%s): the aggregate has already ended (a terminal event); nothing can follow it", who, what, i+1, info.Name)
		}
		c, err := signal.EncodeCommit(typ, stream.ID, version+1, ev)
		if err != nil {
			e.t.Fatalf("%s: %s: event %d (%s): %v", who, what, i+1, info.Name, err)
		}
		c.Actor = actor
		if err := e.store.Append(ctx, c); err != nil {
			e.t.Fatalf("%s: %s: event %d (%s): the store refused it: %v", who, what, i+1, info.Name, err)
		}
		version, final = c.LastVersion(), c.Final
	}
}

// dispatch runs the subscribers over every commit appended since the
// last dispatch, and over the commits their commands append in turn,
// until the feed is drained. It returns the dispatch's failure, after
// which the feed is skipped to its end, so that the failed batch is not
// reported again; the failing subscriber's checkpoint stays before the
// event, so a later commit of that stream makes it retry the event, as
// in production.
func (e *env) dispatch() error {
	if !e.subs {
		return nil
	}
	ctx := e.t.Context()
	last, _, err := e.svc.DispatchChanges(ctx, e.store, e.feed, 0)
	e.feed = last
	if err != nil {
		for {
			changes, ferr := e.store.Changes(ctx, e.feed, 1000)
			if ferr != nil || len(changes) == 0 {
				break
			}
			e.feed = changes[len(changes)-1].Position
		}
	}
	return err
}

// testLogger logs to the test's log.
func testLogger(t testing.TB) *slog.Logger { return slog.New(slog.NewTextHandler(logWriter{t}, nil)) }

// logWriter sends the Service's logs (a policy's refused command, a
// subscriber's failure) to the test's log.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log("signal: " + strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// check is the outcome of a step a Then may look at: a command, a
// policy's reaction. An error nothing checked is reported at the next
// step, or when the test ends.
type check struct {
	what    string // "When Withdraw", as messages name the step
	err     error
	checked bool
}

// unchecked reports c's error if no Then, ThenError or Err looked at it.
func unchecked(t testing.TB, who string, c *check) {
	t.Helper()
	if c != nil && c.err != nil && !c.checked {
		c.checked = true
		t.Errorf("%s: %s failed and nothing checked it (ThenError, or Err):\n%s", who, c.what, text("got", "error: "+describe(c.err)))
	}
}
