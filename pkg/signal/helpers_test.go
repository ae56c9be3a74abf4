package signal_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

func renameField(from, to string) signal.Upcaster {
	return func(old json.RawMessage) (json.RawMessage, error) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(old, &m); err != nil {
			return nil, err
		}
		if m == nil {
			m = map[string]json.RawMessage{}
		}
		m[to] = m[from]
		delete(m, from)
		return json.Marshal(m)
	}
}

var _ = bytes.Equal

// fixtureOf is a Service over a new memstore holding one type, defined
// from a spec the test may change (mutate) with the Service's Config.
type fixtureOf[S any] struct {
	store *memstore.Store
	svc   *signal.Service
	typ   *signal.Type[S]
	// typed is typed access to typ's aggregates through svc.
	typed signal.Aggregates[S]
}

func newFixtureOf[S any](t testing.TB, spec signal.Spec[S], mutate ...func(*signal.Spec[S], *signal.Config)) *fixtureOf[S] {
	t.Helper()
	st := memstore.New()
	cfg := signal.Config{Store: st}
	for _, m := range mutate {
		m(&spec, &cfg)
	}
	typ := signal.MustDefine(spec)
	cfg.Types = append(cfg.Types, typ)
	svc, err := signal.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixtureOf[S]{store: st, svc: svc, typ: typ, typed: signal.Bind(svc, typ)}
}

// fixture is the account domain's.
type fixture = fixtureOf[Account]

func newFixture(t testing.TB, mutate ...func(*signal.Spec[Account], *signal.Config)) *fixture {
	t.Helper()
	return newFixtureOf(t, accountSpec(), mutate...)
}

// cold is another Service on the fixture's store and type, with an empty pool.
func (f *fixtureOf[S]) cold(t testing.TB) signal.Aggregates[S] {
	t.Helper()
	svc, err := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
	if err != nil {
		t.Fatal(err)
	}
	return signal.Bind(svc, f.typ)
}

// commits returns every commit the fixture's store holds.
func (f *fixtureOf[S]) commits(t testing.TB) []signal.Commit {
	t.Helper()
	changes, err := f.store.Changes(t.Context(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]signal.Commit, len(changes))
	for i, c := range changes {
		out[i] = c.Commit
	}
	return out
}
