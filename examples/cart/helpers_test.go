package cart_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// fixture is a real Service over a memstore, wired as cmd/signal and the
// functions wire the domain, with inline dispatch, for the tests of whole
// sessions (the rules are tested with signaltest).
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
