package signaltest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// ProjectionScenario tests one projection: events given to aggregates
// are dispatched to it through a real Service, as the stream projector
// delivers them, and the documents it writes are checked. Make one with
// Projection.
type ProjectionScenario struct {
	*env
	name string
}

// Projection starts a scenario for p over types, the aggregate types
// whose events it projects, on a new Service over a new memstore.
// signal.New checks p against them as in production (a handler for an
// event no followed type records fails the test).
func Projection(t testing.TB, p *signal.Projection, types ...signal.AggregateType) *ProjectionScenario {
	t.Helper()
	if p == nil {
		t.Fatalf("signaltest.Projection: the projection is nil")
	}
	if len(types) == 0 {
		t.Fatalf("signaltest.Projection %s: no aggregate types; pass the types whose events it projects", p.Name)
	}
	e, err := newEnv(t, setup{types: types, subs: []signal.Subscriber{p}})
	if err != nil {
		t.Fatalf("signaltest.Projection %s: %v", p.Name, err)
	}
	return &ProjectionScenario{env: e, name: p.Name}
}

func (s *ProjectionScenario) who() string { return "projection " + s.name }

// Given appends events to aggregate id of typ (one of the scenario's
// types), one commit per event as the aggregate's Given does, and
// dispatches them to the projection. An event that cannot be recorded,
// or a projection that fails on one, fails the test at once (Fatalf).
func (s *ProjectionScenario) Given(typ signal.AggregateType, id string, events ...any) *ProjectionScenario {
	s.t.Helper()
	what := "Given " + typ.Name() + " " + id
	s.given(s.who(), what, typ, id, "", events)
	if err := s.dispatch(); err != nil {
		s.t.Fatalf("%s: %s: the projection failed:\n%s", s.who(), what, text("got", describe(err)))
	}
	return s
}

// ThenView checks that the document key of view equals want: want is
// marshalled to JSON and compared with the stored document, both
// normalised (object members sorted, numbers as written). Pass a
// json.RawMessage to give the JSON itself.
func (s *ProjectionScenario) ThenView(view, key string, want any) *ProjectionScenario {
	s.t.Helper()
	wj, err := json.Marshal(want)
	if err != nil {
		s.t.Errorf("%s: ThenView %s/%s: want does not encode as JSON: %v", s.who(), view, key, err)
		return s
	}
	got, found := s.load("ThenView", view, key)
	switch {
	case !found:
		s.t.Errorf("%s: view %s/%s: no such document\n%s\n%s", s.who(), view, key,
			block("want", docLines(strings.Split(indent(wj), "\n"), -1)), text("got", "(no document)"))
	case !sameJSON(wj, got):
		s.t.Errorf("%s: view %s/%s: document differs\n%s", s.who(), view, key, docDiff("want", "got", wj, got))
	}
	return s
}

// ThenNoView checks that view has no document key.
func (s *ProjectionScenario) ThenNoView(view, key string) *ProjectionScenario {
	s.t.Helper()
	if got, found := s.load("ThenNoView", view, key); found {
		s.t.Errorf("%s: view %s/%s: want no document\n%s", s.who(), view, key,
			block("got", docLines(strings.Split(indent(got), "\n"), -1)))
	}
	return s
}

// View returns the document key of view as stored, and whether it exists.
func (s *ProjectionScenario) View(view, key string) (json.RawMessage, bool) {
	s.t.Helper()
	return s.load("View", view, key)
}

// Service returns the scenario's Service.
func (s *ProjectionScenario) Service() *signal.Service { return s.svc }

func (s *ProjectionScenario) load(method, view, key string) (json.RawMessage, bool) {
	s.t.Helper()
	v, err := s.svc.View(s.t.Context(), view, key)
	switch {
	case errors.Is(err, signal.ErrNotFound):
		return nil, false
	case err != nil:
		s.t.Fatalf("%s: %s %s/%s: %v", s.who(), method, view, key, err)
	}
	return v.Data, true
}
