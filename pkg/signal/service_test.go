package signal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

func mustHandle(t testing.TB, f *fixture, id string, cmd any, opts ...signal.CommandOption) signal.Result {
	t.Helper()
	r, err := f.svc.Handle(t.Context(), "account", id, cmd, opts...)
	if err != nil {
		t.Fatalf("handle %T on %s: %v", cmd, id, err)
	}
	return r
}

func TestGenesis(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.svc.Handle(ctx, "account", "a1", Deposit{Amount: 5}); !errors.Is(err, signal.ErrNotFound) {
		t.Fatalf("deposit to a missing account: got %v, want ErrNotFound", err)
	}
	r := mustHandle(t, f, "a1", Open{Owner: "ann"})
	if !r.Created || r.Version != 1 || len(r.Events) != 1 || r.Events[0].Name != "Opened" {
		t.Fatalf("open: %+v", r)
	}
	if r.State.(Account).Owner != "ann" {
		t.Fatalf("state after open: %+v", r.State)
	}
	r = mustHandle(t, f, "a1", Deposit{Amount: 5})
	if r.Created || r.Version != 2 {
		t.Fatalf("deposit: %+v", r)
	}
	if _, err := f.svc.Handle(ctx, "account", "a1", Open{Owner: "bob"}); !errors.Is(err, signal.ErrRejected) || signal.PublicMessage(err) != "already open" {
		t.Fatalf("second open: got %v, want rejection 'already open'", err)
	}
}

func TestCreate(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.svc.Create(ctx, "account", "a1", Open{Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(ctx, "account", "a1", Open{Owner: "ann"}); !errors.Is(err, signal.ErrExists) {
		t.Fatalf("create twice: got %v, want ErrExists", err)
	}
	if _, err := f.svc.Create(ctx, "account", "a2", Deposit{Amount: 1}); !errors.Is(err, signal.ErrInvalid) {
		t.Fatalf("create with a non-genesis command: got %v, want ErrInvalid", err)
	}
	if n := f.store.Counts().Appends; n != 1 {
		t.Fatalf("appends = %d, want 1", n)
	}
}

func TestBadInputWritesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	before := f.store.Counts().Appends
	cases := []struct {
		name string
		run  func() error
		want *signal.Error
	}{
		{"unknown type", func() error { _, err := f.svc.Handle(ctx, "nope", "a1", Deposit{1}); return err }, signal.ErrUnknownType},
		{"unregistered command type", func() error { _, err := f.svc.Handle(ctx, "account", "a1", struct{}{}); return err }, signal.ErrUnknownCommand},
		{"pointer command", func() error { _, err := f.svc.Handle(ctx, "account", "a1", &Deposit{1}); return err }, signal.ErrUnknownCommand},
		{"unknown command name", func() error { _, err := f.svc.HandleJSON(ctx, "account", "a1", "Steal", []byte(`{}`)); return err }, signal.ErrUnknownCommand},
		{"malformed JSON", func() error {
			_, err := f.svc.HandleJSON(ctx, "account", "a1", "Deposit", []byte(`{"amount":`))
			return err
		}, signal.ErrInvalid},
		{"wrong JSON type", func() error {
			_, err := f.svc.HandleJSON(ctx, "account", "a1", "Deposit", []byte(`{"amount":"ten"}`))
			return err
		}, signal.ErrInvalid},
		{"JSON array", func() error { _, err := f.svc.HandleJSON(ctx, "account", "a1", "Deposit", []byte(`[1]`)); return err }, signal.ErrInvalid},
		{"empty id", func() error { _, err := f.svc.Handle(ctx, "account", "", Deposit{1}); return err }, signal.ErrInvalid},
		{"id with #", func() error { _, err := f.svc.Handle(ctx, "account", "a#1", Deposit{1}); return err }, signal.ErrInvalid},
		{"id with /", func() error { _, err := f.svc.Handle(ctx, "account", "a/1", Deposit{1}); return err }, signal.ErrInvalid},
		{"1 KB id", func() error {
			_, err := f.svc.Handle(ctx, "account", strings.Repeat("x", 1024), Deposit{1})
			return err
		}, signal.ErrInvalid},
		{"control character id", func() error { _, err := f.svc.Handle(ctx, "account", "a\n1", Deposit{1}); return err }, signal.ErrInvalid},
		{"invalid UTF-8 id", func() error { _, err := f.svc.Handle(ctx, "account", "a\xff", Deposit{1}); return err }, signal.ErrInvalid},
		{"bad command id", func() error {
			_, err := f.svc.Handle(ctx, "account", "a1", Deposit{1}, signal.WithCommandID(strings.Repeat("k", 300)))
			return err
		}, signal.ErrInvalid},
		{"domain refusal", func() error { _, err := f.svc.Handle(ctx, "account", "a1", Deposit{-1}); return err }, signal.ErrRejected},
		{"version mismatch", func() error {
			_, err := f.svc.Handle(ctx, "account", "a1", Deposit{1}, signal.IfVersion(7))
			return err
		}, signal.ErrPrecondition},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want kind %v", err, c.want.Kind)
			}
			if msg := signal.PublicMessage(err); msg == "" || msg == "internal error" {
				t.Fatalf("public message %q is not helpful", msg)
			}
		})
	}
	if n := f.store.Counts().Appends; n != before {
		t.Fatalf("bad input appended: %d appends, want %d", n, before)
	}
	if st, _ := f.svc.Get(ctx, "account", "a1"); st.Version != 1 {
		t.Fatalf("version = %d after bad input, want 1", st.Version)
	}
}

func TestTooLarge(t *testing.T) {
	f := newFixture(t, func(s *signal.Spec[Account], _ *signal.Config) {
		s.Commands[cmdDeposit] = signal.Decide("Deposit", func(a Account, d Deposit) ([]any, error) {
			if d.Amount > 1000 {
				// One event per unit: too many events for one commit.
				events := make([]any, d.Amount-1000)
				for i := range events {
					events[i] = Deposited{Amount: 1}
				}
				return events, nil
			}
			return deposit(a, d)
		})
		s.Commands[cmdWithdraw] = signal.Decide("Withdraw", func(a Account, w Withdraw) ([]any, error) {
			if a.Owner != "" && w.Amount == 0 {
				return []any{Opened{Owner: strings.Repeat("o", signal.MaxCommitBytes)}}, nil
			}
			return withdraw(a, w)
		})
	})
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	before := f.store.Counts().Appends
	if _, err := f.svc.Handle(t.Context(), "account", "a1", Deposit{Amount: 1000 + signal.MaxEventsPerCommit + 1}); !errors.Is(err, signal.ErrTooLarge) {
		t.Fatalf("too many events: got %v, want ErrTooLarge", err)
	}
	if _, err := f.svc.Handle(t.Context(), "account", "a1", Withdraw{Amount: 0}); !errors.Is(err, signal.ErrTooLarge) {
		t.Fatalf("event over MaxCommitBytes: got %v, want ErrTooLarge", err)
	}
	if f.store.Counts().Appends != before {
		t.Fatal("an oversized commit reached the store")
	}
	r := mustHandle(t, f, "a1", Deposit{Amount: 1000 + signal.MaxEventsPerCommit})
	if r.Version != 1+signal.MaxEventsPerCommit || len(r.Events) != signal.MaxEventsPerCommit {
		t.Fatalf("a full commit: version %d, %d events", r.Version, len(r.Events))
	}
}

func TestUnknownEventType(t *testing.T) {
	f := newFixture(t, func(s *signal.Spec[Account], _ *signal.Config) {
		s.Commands[cmdNoop] = signal.Decide("Noop", func(Account, Noop) ([]any, error) {
			return []any{struct{ X int }{1}}, nil
		})
	})
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	if _, err := f.svc.Handle(t.Context(), "account", "a1", Noop{}); !errors.Is(err, signal.ErrUnknownEvent) {
		t.Fatalf("unregistered event: got %v, want ErrUnknownEvent", err)
	}
	// An unknown name in the log is an error on load, never a silent drop.
	err := f.store.Append(t.Context(), signal.Commit{Stream: signal.StreamID{Type: "account", ID: "a1"}, Version: 2, CommandID: "c2",
		Events: []signal.RawEvent{{ID: "e", Name: "Vanished", SchemaVersion: 1, Data: []byte(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
	if _, err := svc.Get(t.Context(), "account", "a1"); !errors.Is(err, signal.ErrUnknownEvent) {
		t.Fatalf("load with unknown event: got %v, want ErrUnknownEvent", err)
	}
}

func TestNoEventsAppendsNothing(t *testing.T) {
	f := newFixture(t)
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	r := mustHandle(t, f, "a1", Noop{})
	if r.Version != 1 || len(r.Events) != 0 || f.store.Counts().Appends != 1 {
		t.Fatalf("noop: %+v, appends %d", r, f.store.Counts().Appends)
	}
}

func TestIdempotentCommandID(t *testing.T) {
	f := newFixture(t)
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	first := mustHandle(t, f, "a1", Deposit{Amount: 5}, signal.WithCommandID("k-1"))
	again := mustHandle(t, f, "a1", Deposit{Amount: 5}, signal.WithCommandID("k-1"))
	if !again.Duplicate || again.Version != first.Version || again.Events[0].ID != first.Events[0].ID || again.State.(Account).Balance != 5 {
		t.Fatalf("duplicate: %+v, first %+v", again, first)
	}
	mustHandle(t, f, "a1", Deposit{Amount: 7})
	late := mustHandle(t, f, "a1", Deposit{Amount: 5}, signal.WithCommandID("k-1"))
	if !late.Duplicate || late.Version != 2 || late.State.(Account).Balance != 5 {
		t.Fatalf("late duplicate must report the original outcome: %+v", late)
	}
	if n := f.store.Counts().Appends; n != 3 {
		t.Fatalf("appends = %d, want 3", n)
	}
	// Another process (cold pool) recognises it too.
	svc, _ := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
	r, err := svc.Handle(t.Context(), "account", "a1", Deposit{Amount: 5}, signal.WithCommandID("k-1"))
	if err != nil || !r.Duplicate || r.Version != 2 {
		t.Fatalf("duplicate on a cold pool: %+v, %v", r, err)
	}
	// A stale pool learns of it through the conflict, not by re-applying.
	svc2, _ := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
	if _, err := svc2.Get(t.Context(), "account", "a1"); err != nil {
		t.Fatal(err)
	}
	mustHandle(t, f, "a1", Deposit{Amount: 1}, signal.WithCommandID("k-2"))
	r, err = svc2.Handle(t.Context(), "account", "a1", Deposit{Amount: 1}, signal.WithCommandID("k-2"))
	if err != nil || !r.Duplicate || r.Version != 4 {
		t.Fatalf("duplicate on a stale pool: %+v, %v", r, err)
	}
	if n := f.store.Counts().Appends; n != 5 {
		t.Fatalf("appends = %d, want 5 (4 commits and the stale pool's rejected attempt)", n)
	}
}

func TestIfVersion(t *testing.T) {
	f := newFixture(t)
	mustHandle(t, f, "a1", Open{Owner: "ann"}, signal.IfVersion(0))
	mustHandle(t, f, "a1", Deposit{Amount: 1}, signal.IfVersion(1))
	if _, err := f.svc.Handle(t.Context(), "account", "a1", Deposit{Amount: 1}, signal.IfVersion(1)); !errors.Is(err, signal.ErrPrecondition) {
		t.Fatalf("stale If-Match: got %v", err)
	}
}

func TestEnd(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	mustHandle(t, f, "a1", Deposit{Amount: 5})
	if _, err := f.svc.End(ctx, "account", "a1"); !errors.Is(err, signal.ErrRejected) {
		t.Fatalf("end with a balance: got %v, want ErrRejected", err)
	}
	if _, err := f.svc.End(ctx, "account", "missing"); !errors.Is(err, signal.ErrNotFound) {
		t.Fatalf("end a missing account: got %v, want ErrNotFound", err)
	}
	mustHandle(t, f, "a1", Withdraw{Amount: 5})
	r, err := f.svc.End(ctx, "account", "a1")
	if err != nil || r.Version != 4 || r.Events[0].Name != "AccountClosed" {
		t.Fatalf("end: %+v, %v", r, err)
	}
	evictions := f.svc.Stats().Evictions
	if evictions != 1 {
		t.Fatalf("a closed aggregate must leave the pool: %d evictions", evictions)
	}
	for _, cmd := range []any{Deposit{Amount: 1}, Open{Owner: "x"}} {
		if _, err := f.svc.Handle(ctx, "account", "a1", cmd); !errors.Is(err, signal.ErrClosed) {
			t.Fatalf("%T after the end: got %v, want ErrClosed", cmd, err)
		}
	}
	if _, err := f.svc.End(ctx, "account", "a1"); !errors.Is(err, signal.ErrClosed) {
		t.Fatalf("end twice: got %v, want ErrClosed", err)
	}
	st, err := f.svc.Get(ctx, "account", "a1")
	if err != nil || !st.Closed || st.Version != 4 {
		t.Fatalf("closed aggregate stays readable: %+v, %v", st, err)
	}
	// The store enforces it too, against writers that missed the end.
	err = f.store.Append(ctx, signal.Commit{Stream: signal.StreamID{Type: "account", ID: "a1"}, Version: 5, CommandID: "late",
		Events: []signal.RawEvent{{ID: "e", Name: "Deposited", SchemaVersion: 2, Data: []byte(`{"amount":1}`)}}})
	if !errors.Is(err, signal.ErrClosed) {
		t.Fatalf("store append after the end: got %v", err)
	}
	// Types without an End rule refuse DELETE.
	g := newFixture(t, func(s *signal.Spec[Account], _ *signal.Config) { s.End = signal.EndSpec[Account]{} })
	mustHandle(t, g, "a1", Open{Owner: "ann"})
	if _, err := g.svc.End(ctx, "account", "a1"); !errors.Is(err, signal.ErrInvalid) {
		t.Fatalf("end without an End rule: got %v, want ErrInvalid", err)
	}
}

func TestUpcastOnLoad(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	stream := signal.StreamID{Type: "account", ID: "old"}
	for i, raw := range []signal.RawEvent{
		{ID: "e1", Name: "Opened", SchemaVersion: 1, Data: []byte(`{"owner":"ann"}`)},
		{ID: "e2", Name: "Deposited", SchemaVersion: 1, Data: []byte(`{"amt":5}`)},
		{ID: "e3", Name: "Deposited", SchemaVersion: 2, Data: []byte(`{"amount":7}`)},
	} {
		if err := f.store.Append(ctx, signal.Commit{Stream: stream, Version: int64(i + 1), CommandID: raw.ID, Events: []signal.RawEvent{raw}}); err != nil {
			t.Fatal(err)
		}
	}
	s, v, err := f.typed.Get(ctx, "old")
	if err != nil || v != 3 || s.Balance != 12 {
		t.Fatalf("upcast load: %+v v%d %v", s, v, err)
	}
	page, err := f.svc.History(ctx, "account", "old", 0, 10)
	if err != nil || page.Events[1].Data != (Deposited{Amount: 5}) || page.Events[1].SchemaVersion != 1 {
		t.Fatalf("history shows the upcast payload and the stored schema version: %+v %v", page, err)
	}
	if err := f.store.Append(ctx, signal.Commit{Stream: stream, Version: 4, CommandID: "c4",
		Events: []signal.RawEvent{{ID: "e4", Name: "Deposited", SchemaVersion: 3, Data: []byte(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, "account", "old", signal.Fresh()); !errors.Is(err, signal.ErrUnknownEvent) {
		t.Fatalf("a schema version from the future: got %v, want ErrUnknownEvent", err)
	}
}

func TestAtAndHistory(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	for i := 1; i <= 24; i++ {
		mustHandle(t, f, "a1", Deposit{Amount: int64(i)})
	}
	for v := int64(1); v <= 25; v++ {
		st, err := f.svc.At(ctx, "account", "a1", v)
		want := (v - 1) * v / 2
		if err != nil || st.Version != v || st.State.(Account).Balance != want {
			t.Fatalf("At(%d) = %+v, %v; want balance %d", v, st, err, want)
		}
	}
	if _, err := f.svc.At(ctx, "account", "a1", 0); !errors.Is(err, signal.ErrInvalid) {
		t.Fatalf("At(0): %v", err)
	}
	if _, err := f.svc.At(ctx, "account", "a1", 26); !errors.Is(err, signal.ErrNotFound) {
		t.Fatalf("At(26): %v", err)
	}
	var got []int64
	after := int64(0)
	for pages := 0; ; pages++ {
		p, err := f.svc.History(ctx, "account", "a1", after, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			got = append(got, e.Version)
			if e.AggregateType != "account" || e.AggregateID != "a1" || e.ID == "" || e.CommandID == "" || e.Time.IsZero() {
				t.Fatalf("event metadata incomplete: %+v", e)
			}
		}
		if p.Next == 0 {
			if pages != 2 {
				t.Fatalf("pages = %d, want 3", pages+1)
			}
			break
		}
		after = p.Next
	}
	if len(got) != 25 || got[0] != 1 || got[24] != 25 {
		t.Fatalf("history versions: %v", got)
	}
	p, _ := f.svc.History(ctx, "account", "a1", 25, 10)
	if len(p.Events) != 0 || p.Next != 0 {
		t.Fatalf("history past the end: %+v", p)
	}
	if _, err := f.svc.History(ctx, "account", "nobody", 0, 10); !errors.Is(err, signal.ErrNotFound) {
		t.Fatalf("history of a missing aggregate: %v", err)
	}
	if _, err := f.svc.History(ctx, "account", "a1", -1, 10); !errors.Is(err, signal.ErrInvalid) {
		t.Fatalf("history after -1: %v", err)
	}
}

func TestMultiEventCommitTimeTravel(t *testing.T) {
	f := newFixture(t, func(s *signal.Spec[Account], _ *signal.Config) {
		s.Commands[cmdDeposit] = signal.Decide("Deposit", func(a Account, d Deposit) ([]any, error) {
			if d.Amount == 3 {
				return []any{Deposited{1}, Deposited{1}, Deposited{1}}, nil
			}
			return deposit(a, d)
		})
	})
	ctx := t.Context()
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	mustHandle(t, f, "a1", Deposit{Amount: 3}) // versions 2..4 in one commit
	mustHandle(t, f, "a1", Deposit{Amount: 10})
	for v, want := range map[int64]int64{2: 1, 3: 2, 4: 3, 5: 13} {
		st, err := f.svc.At(ctx, "account", "a1", v)
		if err != nil || st.State.(Account).Balance != want {
			t.Fatalf("At(%d) = %+v %v, want balance %d", v, st, err, want)
		}
	}
	p, err := f.svc.History(ctx, "account", "a1", 2, 2)
	if err != nil || len(p.Events) != 2 || p.Events[0].Version != 3 || p.Next != 4 {
		t.Fatalf("history page starting inside a commit: %+v %v", p, err)
	}
}

// TestCommandCost asserts what each path costs in store requests, the
// in-memory twin of the DynamoDB cost targets.
func TestCommandCost(t *testing.T) {
	f := newFixture(t, func(s *signal.Spec[Account], _ *signal.Config) { s.SnapshotEvery = 50 })
	ctx := t.Context()
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	for range 120 {
		mustHandle(t, f, "a1", Deposit{Amount: 1})
	}
	before := f.store.Counts()
	mustHandle(t, f, "a1", Deposit{Amount: 1})
	after := f.store.Counts()
	if after.Appends-before.Appends != 1 || after.Loads != before.Loads || after.SnapshotLoads != before.SnapshotLoads {
		t.Fatalf("warm command: %+v -> %+v, want exactly one append", before, after)
	}
	cold, _ := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
	before = f.store.Counts()
	if _, err := cold.Handle(ctx, "account", "a1", Deposit{Amount: 1}); err != nil {
		t.Fatal(err)
	}
	after = f.store.Counts()
	if after.SnapshotLoads-before.SnapshotLoads != 1 || after.Loads-before.Loads != 1 || after.Appends-before.Appends != 1 {
		t.Fatalf("cold command: %+v -> %+v, want 1 snapshot read + 1 load + 1 append", before, after)
	}
}

func TestSnapshots(t *testing.T) {
	f := newFixture(t, func(s *signal.Spec[Account], _ *signal.Config) { s.SnapshotEvery = 10 })
	ctx := t.Context()
	stream := signal.StreamID{Type: "account", ID: "a1"}
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	for range 24 {
		mustHandle(t, f, "a1", Deposit{Amount: 1}, signal.WithCommandID(signal.NewID()))
	}
	snap, err := f.store.LoadSnapshot(ctx, stream)
	if err != nil || snap.Version != 20 || snap.SchemaVersion != 1 {
		t.Fatalf("snapshot after 25 events with SnapshotEvery=10: %+v %v", snap, err)
	}
	// The snapshot carries recent command ids, so idempotency survives a
	// cold load that reads no event before version 20.
	r, err := f.svc.History(ctx, "account", "a1", 14, 1)
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
	dup, err := svc.Handle(ctx, "account", "a1", Deposit{Amount: 1}, signal.WithCommandID(r.Events[0].CommandID))
	if err != nil || !dup.Duplicate || dup.Version != 15 || dup.State.(Account).Balance != 14 {
		t.Fatalf("duplicate of version 15 after a snapshot load: %+v %v", dup, err)
	}
	// Prove a cold load uses the snapshot: plant one whose state differs
	// from the fold of the events, at the latest version.
	planted := signal.Snapshot{Stream: stream, Version: 25, SchemaVersion: 1, Data: []byte(`{"state":{"owner":"ann","balance":1000}}`)}
	if err := f.store.SaveSnapshot(ctx, planted); err != nil {
		t.Fatal(err)
	}
	load := func(stateVersion int) Account {
		spec := accountSpec()
		spec.SnapshotEvery, spec.StateVersion = 10, stateVersion
		typ := signal.MustDefine(spec)
		svc, _ := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{typ}})
		s, _, err := signal.Bind(svc, typ).Get(ctx, "a1")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := load(1); got.Balance != 1000 {
		t.Fatalf("cold load ignored the snapshot: %+v", got)
	}
	if got := load(2); got.Balance != 24 {
		t.Fatalf("a snapshot of another state version must be ignored: %+v", got)
	}
	// An older snapshot never replaces a newer one.
	if err := f.store.SaveSnapshot(ctx, signal.Snapshot{Stream: stream, Version: 10, SchemaVersion: 1, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if snap, _ := f.store.LoadSnapshot(ctx, stream); snap.Version != 25 {
		t.Fatalf("older snapshot replaced a newer one: %+v", snap)
	}
	// Time travel before the snapshot replays events; after it, uses it.
	if st, err := f.svc.At(ctx, "account", "a1", 5); err != nil || st.State.(Account).Balance != 4 {
		t.Fatalf("At(5): %+v %v", st, err)
	}
}

func TestStaleRefusalCatchesUp(t *testing.T) {
	st := memstore.New()
	typ := signal.MustDefine(accountSpec())
	a, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{typ}})
	b, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{typ}})
	ctx := t.Context()
	// b remembers that "a1" does not exist.
	if _, err := b.Get(ctx, "account", "a1"); !errors.Is(err, signal.ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := a.Handle(ctx, "account", "a1", Open{Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Handle(ctx, "account", "a1", Deposit{Amount: 10}); err != nil {
		t.Fatalf("a stale 'not found' must be checked against the store: %v", err)
	}
	// a's pooled balance is 0; b deposited 10. a must not refuse a withdrawal of 5.
	if _, err := a.Handle(ctx, "account", "a1", Withdraw{Amount: 5}); err != nil {
		t.Fatalf("a stale domain refusal must be re-decided on fresh state: %v", err)
	}
	if _, err := a.Handle(ctx, "account", "a1", Withdraw{Amount: 50}); !errors.Is(err, errInsufficient) {
		t.Fatalf("a real refusal: got %v", err)
	}
	// b's state is at version 2 but the account is at 3: If-Match 3 must pass.
	if _, err := b.Handle(ctx, "account", "a1", Deposit{Amount: 1}, signal.IfVersion(3)); err != nil {
		t.Fatalf("If-Match against a stale pool: %v", err)
	}
}

// TestContainers runs several Services (as Lambda containers would) with
// several goroutines each on one aggregate: every command is applied exactly
// once, versions are contiguous, and the state is the fold of the log.
func TestContainers(t *testing.T) {
	const containers, workers, commands = 4, 8, 50
	st := memstore.New()
	typ := signal.MustDefine(accountSpec())
	ctx := t.Context()
	var svcs []*signal.Service
	for range containers {
		s, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{typ}, MaxRetries: 1000, RetryBackoff: 1})
		svcs = append(svcs, s)
	}
	if _, err := svcs[0].Handle(ctx, "account", "shared", Open{Owner: "all"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, containers*workers)
	for c, svc := range svcs {
		for w := range workers {
			wg.Go(func() {
				for i := range commands {
					id := fmt.Sprintf("c%d-w%d-%d", c, w, i)
					if _, err := svc.Handle(ctx, "account", "shared", Deposit{Amount: 1}, signal.WithCommandID(id)); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := int64(containers*workers*commands + 1)
	seen := map[string]bool{}
	v := int64(0)
	for c, err := range st.Load(ctx, signal.StreamID{Type: "account", ID: "shared"}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != v+1 || seen[c.CommandID] {
			t.Fatalf("commit %d (command %s) after version %d; seen before: %v", c.Version, c.CommandID, v, seen[c.CommandID])
		}
		seen[c.CommandID] = true
		v = c.LastVersion()
	}
	if v != want {
		t.Fatalf("version %d, want %d", v, want)
	}
	s, _, err := signal.Bind(svcs[0], typ).Get(ctx, "shared", signal.Fresh())
	if err != nil || s.Balance != want-1 {
		t.Fatalf("balance %d, want %d (%v)", s.Balance, want-1, err)
	}
	var conflicts int64
	for _, svc := range svcs {
		conflicts += svc.Stats().Conflicts
	}
	if conflicts == 0 {
		t.Fatal("four containers on one aggregate never conflicted: the test did not test concurrency")
	}
}

func TestConflictBudget(t *testing.T) {
	st := &conflictingStore{Store: memstore.New()}
	typ := signal.MustDefine(accountSpec())
	svc, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{typ}, MaxRetries: 3, RetryBackoff: 1})
	ctx := t.Context()
	if _, err := svc.Handle(ctx, "account", "a1", Open{Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	st.conflictAlways = true
	_, err := svc.Handle(ctx, "account", "a1", Deposit{Amount: 1})
	if !errors.Is(err, signal.ErrConflict) {
		t.Fatalf("endless conflicts: got %v, want ErrConflict", err)
	}
	if s := svc.Stats(); s.Conflicts != 4 || s.Retries != 3 {
		t.Fatalf("stats %+v, want 4 conflicts and 3 retries", s)
	}
}

// conflictingStore can pretend every append lost a race.
type conflictingStore struct {
	*memstore.Store
	conflictAlways bool
}

func (s *conflictingStore) Append(ctx context.Context, c signal.Commit) error {
	if s.conflictAlways {
		return signal.AppendConflict("test.Append", c.Stream, c.Version, nil)
	}
	return s.Store.Append(ctx, c)
}

// lostResponseStore writes the commit and then reports a timeout, as a
// network that drops the response would.
type lostResponseStore struct {
	*memstore.Store
	drop int
}

func (s *lostResponseStore) Append(ctx context.Context, c signal.Commit) error {
	if err := s.Store.Append(ctx, c); err != nil {
		return err
	}
	if s.drop > 0 {
		s.drop--
		return &signal.Error{Kind: signal.KindUnavailable, Op: "test", Err: context.DeadlineExceeded}
	}
	return nil
}

func TestAmbiguousWriteRetriedByCommandID(t *testing.T) {
	st := &lostResponseStore{Store: memstore.New()}
	typ := signal.MustDefine(accountSpec())
	svc, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{typ}})
	ctx := t.Context()
	if _, err := svc.Handle(ctx, "account", "a1", Open{Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	st.drop = 1
	if _, err := svc.Handle(ctx, "account", "a1", Deposit{Amount: 5}, signal.WithCommandID("once")); !errors.Is(err, signal.ErrUnavailable) {
		t.Fatalf("lost response: got %v, want ErrUnavailable", err)
	}
	r, err := svc.Handle(ctx, "account", "a1", Deposit{Amount: 5}, signal.WithCommandID("once"))
	if err != nil || !r.Duplicate || r.State.(Account).Balance != 5 || r.Version != 2 {
		t.Fatalf("the retry must find the landed write: %+v %v", r, err)
	}
}

// echoConflictStore writes the commit and then reports a conflict whose
// Existing is that very commit, as DynamoDB does when the SDK retries a
// PutItem whose first attempt landed but whose response was lost.
type echoConflictStore struct {
	*memstore.Store
	echo int
}

func (s *echoConflictStore) Append(ctx context.Context, c signal.Commit) error {
	if err := s.Store.Append(ctx, c); err != nil {
		return err
	}
	if s.echo > 0 {
		s.echo--
		return signal.AppendConflict("test.Append", c.Stream, c.Version, &c)
	}
	return nil
}

func TestOwnLandedWriteIsNotReapplied(t *testing.T) {
	st := &echoConflictStore{Store: memstore.New()}
	typ := signal.MustDefine(accountSpec())
	svc, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{typ}})
	ctx := t.Context()
	if _, err := svc.Handle(ctx, "account", "a1", Open{Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	st.echo = 1
	// No command id given: the Service's generated one must still match.
	r, err := svc.Handle(ctx, "account", "a1", Deposit{Amount: 5})
	if err != nil || r.Duplicate || r.Version != 2 || r.State.(Account).Balance != 5 || len(r.Events) != 1 {
		t.Fatalf("own landed write: %+v %v", r, err)
	}
	if n := st.Counts().Appends; n != 2 {
		t.Fatalf("%d appends: the deposit was applied twice", n)
	}
}

func TestPanicInDecideReleasesTheAggregate(t *testing.T) {
	f := newFixture(t, func(s *signal.Spec[Account], _ *signal.Config) {
		s.Commands[cmdDeposit] = signal.Decide("Deposit", func(a Account, d Deposit) ([]any, error) {
			if d.Amount == 13 {
				panic("unlucky")
			}
			return deposit(a, d)
		})
	})
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic must reach the caller")
			}
		}()
		_, _ = f.svc.Handle(t.Context(), "account", "a1", Deposit{Amount: 13})
	}()
	done := make(chan error, 1)
	go func() { _, err := f.svc.Handle(t.Context(), "account", "a1", Deposit{Amount: 1}); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the aggregate stayed locked after a panic")
	}
	if r := mustHandle(t, f, "a1", Deposit{Amount: 1}); r.Events[0].Time.Nanosecond()%int(time.Millisecond) != 0 {
		t.Fatalf("event time %v is not whole milliseconds", r.Events[0].Time)
	}
}

func TestPanickingUpcasterIsAnError(t *testing.T) {
	f := newFixture(t, func(s *signal.Spec[Account], _ *signal.Config) {
		s.Events[evDeposited] = signal.Evolve("Deposited", deposited, signal.SchemaVersion(2),
			signal.UpcastFrom(1, func(json.RawMessage) (json.RawMessage, error) { panic("bug in an upcaster") }))
	})
	stream := signal.StreamID{Type: "account", ID: "a1"}
	for i, raw := range []signal.RawEvent{
		{ID: "e1", Name: "Opened", SchemaVersion: 1, Data: []byte(`{"owner":"ann"}`)},
		{ID: "e2", Name: "Deposited", SchemaVersion: 1, Data: []byte(`null`)},
	} {
		if err := f.store.Append(t.Context(), signal.Commit{Stream: stream, Version: int64(i + 1), CommandID: raw.ID, Events: []signal.RawEvent{raw}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Get(t.Context(), "account", "a1"); !errors.Is(err, signal.ErrInternal) {
		t.Fatalf("a panicking upcaster: got %v, want ErrInternal", err)
	}
}
