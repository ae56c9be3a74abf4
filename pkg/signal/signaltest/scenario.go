package signaltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// DefaultID is the id of a scenario's aggregate unless ID sets another.
const DefaultID = "test-1"

// Option configures a scenario made with For.
type Option func(*config)

type config struct {
	setup
	id      string
	tenancy bool
	tenant  string // Tenant's; the setup's tenant is this or DefaultTenant
	problem string // an option's misuse, reported by For
}

// ID sets the id of the scenario's aggregate (default DefaultID).
func ID(id string) Option { return func(c *config) { c.id = id } }

// WithTypes registers more aggregate types with the scenario's Service:
// the types its subscribers follow or send commands to. A type given
// twice (or the scenario's own) is held once.
func WithTypes(types ...signal.AggregateType) Option {
	return func(c *config) { c.types = append(c.types, types...) }
}

// WithSubscribers registers subscribers with the scenario's Service.
// After every Given and When they run over the new commits, read from
// the store's change feed as the stream projector reads them, and over
// the commits the commands of policies append in turn. A failing
// subscriber fails the test (Errorf); a policy's command that its
// aggregate refuses is only logged, as in production (t.Log shows it).
func WithSubscribers(subs ...signal.Subscriber) Option {
	return func(c *config) { c.subs = append(c.subs, subs...) }
}

// Scenario is a given/when/then test of one aggregate of type S, run on
// a real signal.Service over an in-memory store. Make one with For; each
// method returns the scenario, so the steps chain.
type Scenario[S any] struct {
	*env
	typ    *signal.Type[S]
	id     string
	events eventTable
	cold   *signal.Service // reads the store afresh, for ThenState
	last   *when
	// caller is the principal of the following Whens, once As set it.
	caller    *signal.Principal
	callerSet bool
}

// when is the outcome of the last When.
type when struct {
	check
	res      signal.Result
	commits  []signal.Commit   // read back from the store
	appended []signal.RawEvent // their events
}

// For starts a scenario on aggregate DefaultID (or ID's) of typ, on a new
// Service over a new memstore holding typ and the WithTypes types (and
// WithApp's app's, with its subscribers, rule and tenancy). The
// aggregate has no history until Given gives it one. An invalid id, a
// misused option (WithApp(nil), Tenant without Tenancy) or a Service
// that cannot be built fails the test at once (Fatalf).
//
// Failures name the aggregate ("account test-1: ...") and show what was
// expected and what happened. A failed When that no Then, ThenError or
// Err looks at is reported at the next step, or when the test ends.
func For[S any](t testing.TB, typ *signal.Type[S], opts ...Option) *Scenario[S] {
	t.Helper()
	if typ == nil {
		t.Fatalf("signaltest.For: the aggregate type is nil")
	}
	c := config{id: DefaultID}
	for _, o := range opts {
		o(&c)
	}
	if err := validID(c.id, c.tenancy); err != nil {
		t.Fatalf("signaltest.For %s: id %q: %v", typ.Name(), c.id, err)
	}
	c.types = distinct(append([]signal.AggregateType{typ}, c.types...))
	if err := c.checkTenancy(); err != nil {
		t.Fatalf("signaltest.For %s: %v", typ.Name(), err)
	}
	e, err := newEnv(t, c.setup)
	if err != nil {
		t.Fatalf("signaltest.For %s: %v", typ.Name(), err)
	}
	s := &Scenario[S]{env: e, typ: typ, id: c.id, events: newEventTable(typ)}
	t.Cleanup(func() {
		if s.last != nil && !t.Failed() {
			unchecked(t, s.who(), &s.last.check)
		}
	})
	return s
}

// who names the scenario's aggregate in messages.
func (s *Scenario[S]) who() string { return s.typ.Name() + " " + s.id }

// stream is the aggregate's stream as the store keeps it.
func (s *Scenario[S]) stream() signal.StreamID { return s.streamOf(s.typ.Name(), s.id) }

// Given appends events to the aggregate's history as they are, without
// deciding anything: one commit per event, in order, each encoded under
// its registered name (signal.EncodeCommit) and appended with the store's
// Append. A Terminal event ends the aggregate: later commands fail with
// signal.ErrClosed, and a later Given fails the test. The subscribers see
// the events as they see any commit.
//
// An event of a type the aggregate does not register, or one that cannot
// be appended, fails the test at once (Fatalf). Given starts a new
// scenario step: the Then methods need a When after it.
func (s *Scenario[S]) Given(events ...any) *Scenario[S] {
	s.t.Helper()
	return s.GivenOn(s.typ, s.id, events...)
}

// GivenOn is Given for another aggregate, of the scenario's type or of a
// type registered WithTypes.
func (s *Scenario[S]) GivenOn(typ signal.AggregateType, id string, events ...any) *Scenario[S] {
	s.t.Helper()
	return s.givenOn(typ, id, "", events)
}

// givenOn is GivenOn with the actor its commits record.
func (s *Scenario[S]) givenOn(typ signal.AggregateType, id, actor string, events []any) *Scenario[S] {
	s.t.Helper()
	s.settle()
	what := "Given"
	if typ != signal.AggregateType(s.typ) || id != s.id {
		what = fmt.Sprintf("GivenOn %s %s", typ.Name(), id)
	}
	if actor != "" {
		what += " by " + shown(actor)
	}
	s.given(s.who(), what, typ, id, actor, events)
	if err := s.dispatch(); err != nil {
		s.t.Errorf("%s: %s: the subscribers failed on its events:\n%s", s.who(), what, text("got", describe(err)))
	}
	return s
}

// When handles cmd, a Go value of one of the aggregate's command types,
// with Service.Handle: as Go code and policies send commands, so
// Internal commands are allowed. opts are the command's options
// (signal.WithCommandID, signal.IfVersion, signal.WithCorrelation). It
// runs as the caller As set (anonymous until then), under the scenario's
// rule (Authorize), if any: a refusal is its error, for ThenError.
func (s *Scenario[S]) When(cmd any, opts ...signal.CommandOption) *Scenario[S] {
	s.t.Helper()
	return s.when("When "+s.commandName(cmd), func(ctx context.Context) (signal.Result, error) {
		return s.svc.Handle(ctx, s.typ.Name(), s.id, cmd, opts...)
	})
}

// WhenJSON handles the command registered as command, decoded from the
// JSON body, with Service.HandleJSON: as the HTTP API does, so an
// Internal command fails with signal.ErrForbidden and a malformed body
// with signal.ErrInvalid. It runs as When does: as the caller As set,
// under the scenario's rule.
func (s *Scenario[S]) WhenJSON(command, body string, opts ...signal.CommandOption) *Scenario[S] {
	s.t.Helper()
	return s.when("WhenJSON "+command, func(ctx context.Context) (signal.Result, error) {
		return s.svc.HandleJSON(ctx, s.typ.Name(), s.id, command, []byte(body), opts...)
	})
}

// WhenEnd ends the aggregate with the type's End rule (Service.End, HTTP
// DELETE), as the caller As set, under the scenario's rule.
func (s *Scenario[S]) WhenEnd(opts ...signal.CommandOption) *Scenario[S] {
	s.t.Helper()
	return s.when("WhenEnd", func(ctx context.Context) (signal.Result, error) {
		return s.svc.End(ctx, s.typ.Name(), s.id, opts...)
	})
}

func (s *Scenario[S]) when(what string, run func(context.Context) (signal.Result, error)) *Scenario[S] {
	s.t.Helper()
	s.settle()
	what += s.callerText()
	ctx := s.t.Context()
	before, _, err := s.head(ctx, s.stream())
	if err != nil {
		s.t.Fatalf("%s: %s: reading the history: %v", s.who(), what, err)
	}
	res, err := run(s.callerContext())
	commits, lerr := s.appended(ctx, s.stream(), before)
	if lerr != nil {
		s.t.Fatalf("%s: %s: reading what it appended: %v", s.who(), what, lerr)
	}
	s.last = &when{check: check{what: what, err: err}, res: res, commits: commits, appended: eventsOf(commits)}
	if err := s.dispatch(); err != nil {
		s.t.Errorf("%s: %s: the subscribers failed on its events:\n%s", s.who(), what, text("got", describe(err)))
	}
	return s
}

// distinct is types without repeats, in order.
func distinct(types []signal.AggregateType) []signal.AggregateType {
	var out []signal.AggregateType
	for _, t := range types {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// eventsOf is the events of commits, in order.
func eventsOf(commits []signal.Commit) []signal.RawEvent {
	var out []signal.RawEvent
	for _, c := range commits {
		out = append(out, c.Events...)
	}
	return out
}

// settle reports the last When's error if nothing checked it.
func (s *Scenario[S]) settle() {
	s.t.Helper()
	if s.last != nil {
		unchecked(s.t, s.who(), &s.last.check)
	}
	s.last = nil
}

func (s *Scenario[S]) commandName(cmd any) string {
	rt := reflect.TypeOf(cmd)
	for _, c := range s.typ.Commands() {
		if c.GoType == rt {
			return c.Name
		}
	}
	if cmd == nil {
		return "nil"
	}
	return rt.String()
}

// lastWhen returns the When a Then method checks, failing the test
// (Errorf) when there is none.
func (s *Scenario[S]) lastWhen(method string) *when {
	s.t.Helper()
	if s.last == nil {
		s.t.Errorf("%s: %s without a When before it (after the last Given)", s.who(), method)
		return nil
	}
	s.last.checked = true
	return s.last
}

// Then checks that the last When succeeded and appended exactly events
// to the aggregate, in order, comparing their registered names and
// JSON: what a reload of the aggregate will see. Then() checks that it
// succeeded and appended nothing. Only the command's own commit counts,
// not the commands subscribers sent in reaction (see Events).
//
// A duplicate command (a command id handled before) appends nothing:
// check it with Then() and its answer, the original events, with
// ThenDuplicate.
func (s *Scenario[S]) Then(events ...any) *Scenario[S] {
	s.t.Helper()
	w := s.lastWhen("Then")
	if w == nil {
		return s
	}
	want, err := s.events.encode(events)
	if err != nil {
		s.t.Errorf("%s: Then: %v", s.who(), err)
		return s
	}
	if w.err != nil {
		s.t.Errorf("%s: %s failed, want events:\n%s\n%s", s.who(), w.what,
			block("want", lines(want, -1, "event")), text("got", "error: "+describe(w.err)))
		return s
	}
	got := rawItems(w.appended)
	if mark := firstDiff(want, got); mark >= 0 {
		msg := fmt.Sprintf("%s: %s: events differ", s.who(), w.what)
		if len(want) != len(got) {
			msg += fmt.Sprintf(" (want %d, got %d)", len(want), len(got))
		}
		msg += "\n" + listing(want, got, mark, "event")
		if w.res.Duplicate {
			msg += "\n  (the command was a duplicate of an earlier one: it appended nothing;" +
				" ThenDuplicate checks the original events it answered with)"
		}
		s.t.Errorf("%s", msg)
	}
	return s
}

// ThenDuplicate checks that the last When was recognised as a repeat of
// a command handled before (the same command id and request): it
// succeeded, appended nothing and answered with the original command's
// events, which must be exactly events.
func (s *Scenario[S]) ThenDuplicate(events ...any) *Scenario[S] {
	s.t.Helper()
	w := s.lastWhen("ThenDuplicate")
	if w == nil {
		return s
	}
	want, err := s.events.encode(events)
	if err != nil {
		s.t.Errorf("%s: ThenDuplicate: %v", s.who(), err)
		return s
	}
	switch {
	case w.err != nil:
		s.t.Errorf("%s: %s failed, want a duplicate:\n%s", s.who(), w.what, text("got", "error: "+describe(w.err)))
	case !w.res.Duplicate:
		s.t.Errorf("%s: %s was handled as a new command, want a duplicate; it appended:\n%s", s.who(), w.what,
			block("got", lines(rawItems(w.appended), -1, "event")))
	case len(w.appended) > 0:
		s.t.Errorf("%s: %s was a duplicate but appended events:\n%s", s.who(), w.what,
			block("got", lines(rawItems(w.appended), -1, "event")))
	default:
		got := eventItems(w.res.Events)
		if mark := firstDiff(want, got); mark >= 0 {
			s.t.Errorf("%s: %s: the duplicate's original events differ\n%s", s.who(), w.what, listing(want, got, mark, "event"))
		}
	}
	return s
}

// ThenError checks that the last When failed with want, an error
// (matched with errors.Is: a signal sentinel such as signal.ErrClosed, or
// the domain's own error that a handler returned) or a signal.Kind, and
// that it appended nothing.
func (s *Scenario[S]) ThenError(want any) *Scenario[S] {
	s.t.Helper()
	w := s.lastWhen("ThenError")
	if w == nil {
		return s
	}
	matches, wantText, ok := matchError(w.err, want)
	switch {
	case !ok:
		s.t.Errorf("%s: ThenError(%#v): want an error or a signal.Kind; Then() expects success", s.who(), want)
		return s
	case w.err == nil:
		s.t.Errorf("%s: %s succeeded, want an error:\n%s\n%s", s.who(), w.what, text("want", wantText),
			block("got", lines(rawItems(w.appended), -1, "event")))
		return s
	case !matches:
		s.t.Errorf("%s: %s: error differs\n%s\n%s", s.who(), w.what, text("want", wantText), text("got", describe(w.err)))
	}
	if len(w.appended) > 0 {
		s.t.Errorf("%s: %s failed but appended events:\n%s", s.who(), w.what, block("got", lines(rawItems(w.appended), -1, "event")))
	}
	return s
}

// ThenState checks the aggregate's current state (Initial(id) when it has
// no events) against want with reflect.DeepEqual, showing both as JSON
// when they differ. It also checks that the state rebuilt from the store
// alone (the stored events and snapshots, as another process loads the
// aggregate) has the same JSON: an event or a state that JSON does not
// carry whole fails here. It needs no When: after Given alone it checks
// how the events fold. The scenario's rule (Authorize) does not decide
// it: it reads whoever the caller is.
func (s *Scenario[S]) ThenState(want S) *Scenario[S] {
	s.t.Helper()
	got := s.state(s.svc, "ThenState")
	if !reflect.DeepEqual(got, want) {
		s.t.Errorf("%s: state differs\n%s", s.who(), stateDiff(want, got))
		return s
	}
	if s.cold == nil {
		cold, err := signal.New(signal.Config{Store: s.store, Types: s.types, Tenancy: s.tenant != "", Logger: testLogger(s.t)})
		if err != nil {
			s.t.Fatalf("%s: ThenState: %v", s.who(), err)
		}
		s.cold = cold
	}
	rebuilt := s.state(s.cold, "ThenState")
	gj, gerr := json.Marshal(got)
	rj, rerr := json.Marshal(rebuilt)
	if gerr == nil && rerr == nil && !sameJSON(gj, rj) {
		s.t.Errorf("%s: the state loaded from the store differs from the live state: an event or the state loses data in JSON\n%s",
			s.who(), docDiff("live", "load", gj, rj))
	}
	return s
}

// stateDiff renders two states as JSON, marking the first difference.
func stateDiff(want, got any) string {
	wj, werr := json.Marshal(want)
	gj, gerr := json.Marshal(got)
	if werr != nil || gerr != nil {
		return text("want", fmt.Sprintf("%#v", want)) + "\n" + text("got", fmt.Sprintf("%#v", got))
	}
	if sameJSON(wj, gj) {
		return text("want", fmt.Sprintf("%#v", want)) + "\n" + text("got", fmt.Sprintf("%#v", got)) +
			"\n  (their JSON is the same: they differ in unexported fields or in what JSON does not show)"
	}
	return docDiff("want", "got", wj, gj)
}

// state reads the aggregate's current state through svc.
func (s *Scenario[S]) state(svc *signal.Service, method string) S {
	s.t.Helper()
	st, _, err := signal.Bind(svc, s.typ).Get(s.inspect(), s.id, signal.Fresh())
	switch {
	case errors.Is(err, signal.ErrNotFound):
		return s.typ.Initial(s.id)
	case err != nil:
		s.t.Fatalf("%s: %s: reading the state: %v", s.who(), method, err)
	}
	return st
}

// Service returns the scenario's Service: for anything the scenario does
// not cover. Commands sent through it directly are not a When.
func (s *Scenario[S]) Service() *signal.Service { return s.svc }

// Store returns the scenario's store.
func (s *Scenario[S]) Store() *memstore.Store { return s.store }

// ID returns the id of the scenario's aggregate.
func (s *Scenario[S]) ID() string { return s.id }

// Result returns the outcome of the last When (the zero Result when there
// is none, or when it failed) and counts as checking it.
func (s *Scenario[S]) Result() signal.Result {
	if s.last == nil {
		return signal.Result{}
	}
	s.last.checked = true
	return s.last.res
}

// Err returns the error of the last When (nil when there is none) and
// counts as checking it.
func (s *Scenario[S]) Err() error {
	if s.last == nil {
		return nil
	}
	s.last.checked = true
	return s.last.err
}

// State returns the aggregate's current state, Initial(id) when it has no
// events, whoever the caller is (the scenario's rule does not decide it).
func (s *Scenario[S]) State() S {
	s.t.Helper()
	return s.state(s.svc, "State")
}

// Version returns the aggregate's current version, 0 when it has no
// events: what signal.IfVersion expects.
func (s *Scenario[S]) Version() int64 {
	s.t.Helper()
	v, _, err := s.head(s.t.Context(), s.stream())
	if err != nil {
		s.t.Fatalf("%s: Version: %v", s.who(), err)
	}
	return v
}

// Events returns every event of the aggregate, oldest first, as
// subscribers see them: its Given history, what the commands appended,
// and what commands sent by subscribers appended to it, with their
// Actor (and Tenant under Tenancy). The scenario's rule does not decide
// it.
func (s *Scenario[S]) Events() []signal.Event {
	s.t.Helper()
	return s.EventsOf(s.typ, s.id)
}

// EventsOf returns every event of aggregate id of typ, oldest first (none
// when it has no events).
func (s *Scenario[S]) EventsOf(typ signal.AggregateType, id string) []signal.Event {
	s.t.Helper()
	var out []signal.Event
	for after := int64(0); ; {
		page, err := s.svc.History(s.inspect(), typ.Name(), id, after, 1000)
		switch {
		case errors.Is(err, signal.ErrNotFound):
			return out
		case err != nil:
			s.t.Fatalf("%s: Events of %s %s: %v", s.who(), typ.Name(), id, err)
		}
		out = append(out, page.Events...)
		if page.Next == 0 {
			return out
		}
		after = page.Next
	}
}
