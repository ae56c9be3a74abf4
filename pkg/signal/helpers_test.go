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

type fixture struct {
	store *memstore.Store
	svc   *signal.Service
	typ   *signal.Type[Account]
	// accounts is typed access to typ's aggregates through svc.
	accounts signal.Aggregates[Account]
}

func newFixture(t testing.TB, mutate ...func(*signal.Spec[Account], *signal.Config)) *fixture {
	t.Helper()
	spec := accountSpec()
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
	return &fixture{store: st, svc: svc, typ: typ, accounts: signal.Bind(svc, typ)}
}
