package cart_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// fixture is a real Service over a memstore, wired as cmd/signal and the
// functions wire the domain, with inline dispatch.
type fixture struct {
	store *memstore.Store
	svc   *signal.Service
	logs  *warnings
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureOn(t, memstore.New(), cart.Subscribers()...)
}

func newFixtureOn(t testing.TB, st *memstore.Store, subs ...signal.Subscriber) *fixture {
	t.Helper()
	w := &warnings{}
	svc, err := signal.New(signal.Config{
		Store:          st,
		Types:          cart.Types(),
		Subscribers:    subs,
		InlineDispatch: true,
		Logger:         slog.New(w),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: st, svc: svc, logs: w}
}

// noWarnings fails the test if the Service logged a warning or an error:
// an inline subscriber failure would otherwise pass unnoticed.
func (f *fixture) noWarnings(t testing.TB) {
	t.Helper()
	if msgs := f.logs.messages(); len(msgs) > 0 {
		t.Errorf("the service logged warnings:\n%s", strings.Join(msgs, "\n"))
	}
}

// given appends events to a stream as the Service would have: one commit
// per event, encoded under the event's stable name, Final for a terminal
// event. The Service under test then loads them like any history.
func (f *fixture) given(t testing.TB, typ, id string, events ...any) {
	t.Helper()
	for i, e := range events {
		name, final := storedName(t, e)
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		c := signal.Commit{
			Stream:    signal.StreamID{Type: typ, ID: id},
			Version:   int64(i + 1),
			CommandID: fmt.Sprintf("given-%d", i+1),
			Time:      time.Now().UTC(),
			Final:     final,
			Events:    []signal.RawEvent{{ID: signal.NewID(), Name: name, SchemaVersion: 1, Data: data}},
		}
		if err := f.store.Append(context.Background(), c); err != nil {
			t.Fatalf("given %T: %v", e, err)
		}
	}
}

// storedName is the contract of stored event names: changing one breaks
// every stored history, so the tests spell them out.
func storedName(t testing.TB, e any) (name string, terminal bool) {
	switch e.(type) {
	case cart.ItemAdded:
		return "ItemAdded", false
	case cart.ItemRemoved:
		return "ItemRemoved", false
	case cart.PurchaseCompleted:
		return "PurchaseCompleted", true
	case cart.CartDiscarded:
		return "CartDiscarded", true
	case cart.OrderOpened:
		return "OrderOpened", false
	}
	t.Fatalf("no stored name for %T", e)
	return "", false
}

// history returns every event of a stream as the store holds it, decoded.
func (f *fixture) history(t testing.TB, typ, id string) []signal.Event {
	t.Helper()
	var out []signal.Event
	for after := int64(0); ; {
		p, err := f.svc.History(context.Background(), typ, id, after, 1000)
		if errors.Is(err, signal.ErrNotFound) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Events...)
		if p.Next == 0 {
			return out
		}
		after = p.Next
	}
}

// checkEvents compares recorded events with the expected payloads, by
// stored name and value.
func checkEvents(t testing.TB, label string, got []signal.Event, want []any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events %v, want %d %v", label, len(got), eventData(got), len(want), want)
	}
	for i, w := range want {
		name, _ := storedName(t, w)
		if got[i].Name != name || !reflect.DeepEqual(got[i].Data, w) {
			t.Errorf("%s: event %d = %s %#v, want %s %#v", label, i, got[i].Name, got[i].Data, name, w)
		}
	}
}

func eventData(evs []signal.Event) []any {
	out := make([]any, len(evs))
	for i, e := range evs {
		out[i] = e.Data
	}
	return out
}

// changes reads the whole change feed.
func (f *fixture) changes(t testing.TB) []signal.Commit {
	t.Helper()
	ch, err := f.store.Changes(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]signal.Commit, len(ch))
	for i, c := range ch {
		out[i] = c.Commit
	}
	return out
}

// warnings is a slog.Handler keeping records at Warn and above.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w *warnings) WithGroup(string) slog.Handler                { return w }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	w.mu.Lock()
	w.msgs = append(w.msgs, b.String())
	w.mu.Unlock()
	return nil
}

func (w *warnings) messages() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}
