package signal_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// The tests of "a command id names one request": a repeat of the same
// request is a duplicate, the same id with another request is refused with
// ErrIdempotencyKeyReused and writes nothing, on every path the Service
// learns of an id (the warm window, a cold load, a snapshot, a conflict),
// and none of them costs a store request a plain duplicate would not.

// history returns the command ids and versions of an aggregate's commits.
func history(t *testing.T, st signal.Store, id string) []string {
	t.Helper()
	var out []string
	for c, err := range st.Load(t.Context(), signal.StreamID{Type: "account", ID: id}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c.CommandID)
	}
	return out
}

// wantKeyReused checks err is the refusal of a reused key, with a safe,
// clear message, and that the store served no append and kept its history.
func wantKeyReused(t *testing.T, err error, key string, st *memstore.Store, before memstore.Counts, hist []string) {
	t.Helper()
	if !errors.Is(err, signal.ErrIdempotencyKeyReused) || signal.KindOf(err) != signal.KindIdempotencyKeyReused {
		t.Fatalf("got %v (kind %v), want ErrIdempotencyKeyReused", err, signal.KindOf(err))
	}
	if code := signal.KindOf(err).String(); code != "idempotency_key_reused" {
		t.Errorf("code %q", code)
	}
	if msg := signal.PublicMessage(err); !strings.Contains(msg, key) || !strings.Contains(msg, "different request") {
		t.Errorf("message %q does not say the key was used for a different request", msg)
	}
	if n := st.Counts().Appends - before.Appends; n != 0 {
		t.Errorf("%d appends for a reused key, want none", n)
	}
	if got := history(t, st, "a1"); strings.Join(got, ",") != strings.Join(hist, ",") {
		t.Errorf("history changed: %v, want %v", got, hist)
	}
}

func TestKeyRepeatSameRequestIsDuplicate(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	first := mustHandle(t, f, "a1", Deposit{Amount: 5}, signal.WithCommandID("k"))
	// The same command from its JSON, spelt differently, or with a field
	// the command does not have: it decodes to the same command, so it is
	// the same request.
	for _, body := range []string{`{"amount":5}`, ` { "amount" : 5 } `, `{"note":"not a field of Deposit","amount":5}`} {
		r, err := f.svc.HandleJSON(ctx, "account", "a1", "Deposit", []byte(body), signal.WithCommandID("k"))
		if err != nil || !r.Duplicate || r.Version != first.Version || r.Events[0].ID != first.Events[0].ID {
			t.Fatalf("repeat with body %s: %+v %v", body, r, err)
		}
	}
	if n := f.store.Counts().Appends; n != 2 {
		t.Fatalf("%d appends, want 2", n)
	}
}

func TestKeyReusedForAnotherRequest(t *testing.T) {
	cases := []struct {
		name          string
		first, second func(svc *signal.Service, key string) error
		// warm: the aggregate stays pooled after first (an end evicts it).
		warm bool
	}{
		{"other value", handleOf(Deposit{Amount: 5}), handleOf(Deposit{Amount: 6}), true},
		// Both encode as {"amount":5}: the command name is part of the request.
		{"other command, same JSON", handleOf(Deposit{Amount: 5}), handleOf(Withdraw{Amount: 5}), true},
		{"end after a command", handleOf(Deposit{Amount: 5}), endOf, true},
		// The account is closed, but the answer is about the key: the
		// same key would replay the end.
		{"command after an end", endOf, handleOf(Deposit{Amount: 5}), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			mustHandle(t, f, "a1", Open{Owner: "ann"})
			if err := c.first(f.svc, "key-1"); err != nil {
				t.Fatal(err)
			}
			hist := history(t, f.store, "a1")
			before := f.store.Counts()
			err := c.second(f.svc, "key-1")
			// Warm, the refusal is answered from the window: no request at all.
			if after := f.store.Counts(); c.warm && after != before {
				t.Errorf("store requests for a warm reused key: %+v -> %+v", before, after)
			}
			wantKeyReused(t, err, "key-1", f.store, before, hist)
			// The original request still replays.
			if err := c.first(f.svc, "key-1"); err != nil {
				t.Fatalf("repeat of the original: %v", err)
			}
		})
	}
}

func handleOf(cmd any) func(*signal.Service, string) error {
	return func(svc *signal.Service, key string) error {
		_, err := svc.Handle(context.Background(), "account", "a1", cmd, signal.WithCommandID(key))
		return err
	}
}

func endOf(svc *signal.Service, key string) error {
	_, err := svc.End(context.Background(), "account", "a1", signal.WithCommandID(key))
	return err
}

// TestKeyReusedColdProcess: a Service that never saw the key learns its
// fingerprint from the commits it loads, with or without a snapshot.
func TestKeyReusedColdProcess(t *testing.T) {
	for _, every := range []int{0, 2} {
		name := "from commits"
		if every > 0 {
			name = "from a snapshot"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, func(s *signal.Spec[Account], _ *signal.Config) { s.SnapshotEvery = every })
			ctx := t.Context()
			mustHandle(t, f, "a1", Open{Owner: "ann"})
			mustHandle(t, f, "a1", Deposit{Amount: 5}, signal.WithCommandID("key-1"))
			for range 3 {
				mustHandle(t, f, "a1", Deposit{Amount: 1})
			}
			stream := signal.StreamID{Type: "account", ID: "a1"}
			if every > 0 {
				// The snapshot is past the keyed commit: a cold load reads
				// no commit that holds the key.
				if snap, err := f.store.LoadSnapshot(ctx, stream); err != nil || snap.Version != 4 {
					t.Fatalf("snapshot %+v %v, want one at version 4", snap, err)
				}
			}
			cold := func() *signal.Service {
				svc, err := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
				if err != nil {
					t.Fatal(err)
				}
				return svc
			}
			hist := history(t, f.store, "a1")
			before := f.store.Counts()
			_, err := cold().Handle(ctx, "account", "a1", Deposit{Amount: 6}, signal.WithCommandID("key-1"))
			// Refused from what the cold load read anyway: one Load (after
			// the snapshot, if any), not the read a duplicate answer takes.
			if after := f.store.Counts(); after.Loads-before.Loads != 1 {
				t.Errorf("a reused key on a cold process: %+v -> %+v, want only the load's one read", before, after)
			}
			wantKeyReused(t, err, "key-1", f.store, before, hist)
			r, err := cold().Handle(ctx, "account", "a1", Deposit{Amount: 5}, signal.WithCommandID("key-1"))
			if err != nil || !r.Duplicate || r.Version != 2 || r.State.(Account).Balance != 5 {
				t.Fatalf("repeat on a cold process: %+v %v", r, err)
			}
		})
	}
}

// TestKeyReusedStaleProcess: the other process's pooled state is behind;
// it learns of the key through its failed append (the conflict carries
// the winning commit), so the reused key costs that one failed write, one
// request fewer than the duplicate of the same request.
func TestKeyReusedStaleProcess(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	stale := func() *signal.Service {
		svc, _ := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
		if _, err := svc.Get(ctx, "account", "a1"); err != nil {
			t.Fatal(err)
		}
		return svc
	}
	reuser, repeater := stale(), stale()
	mustHandle(t, f, "a1", Deposit{Amount: 5}, signal.WithCommandID("key-1"))
	hist := history(t, f.store, "a1")
	before := f.store.Counts()
	_, err := reuser.Handle(ctx, "account", "a1", Deposit{Amount: 6}, signal.WithCommandID("key-1"))
	if !errors.Is(err, signal.ErrIdempotencyKeyReused) {
		t.Fatalf("got %v, want ErrIdempotencyKeyReused", err)
	}
	reused := f.store.Counts()
	if reused.Appends-before.Appends != 1 || reused.Loads != before.Loads {
		t.Errorf("reused key on a stale process: %+v -> %+v, want the one failed append", before, reused)
	}
	if got := history(t, f.store, "a1"); strings.Join(got, ",") != strings.Join(hist, ",") {
		t.Errorf("history changed: %v, want %v", got, hist)
	}
	r, err := repeater.Handle(ctx, "account", "a1", Deposit{Amount: 5}, signal.WithCommandID("key-1"))
	if err != nil || !r.Duplicate || r.Version != 2 {
		t.Fatalf("repeat on a stale process: %+v %v", r, err)
	}
	dup := f.store.Counts()
	if reqs, dupReqs := (reused.Appends-before.Appends)+(reused.Loads-before.Loads), (dup.Appends-reused.Appends)+(dup.Loads-reused.Loads); reqs > dupReqs {
		t.Errorf("a reused key cost %d requests, a duplicate %d", reqs, dupReqs)
	}
}

// TestKeyWithoutFingerprint: commits and snapshots written before
// fingerprints existed cannot tell requests apart; their ids are answered
// as duplicates, as before. A fingerprint on the commit itself is still
// checked when the window's entry (an older snapshot's) has none.
func TestKeyWithoutFingerprint(t *testing.T) {
	ctx := t.Context()
	st := memstore.New()
	stream := signal.StreamID{Type: "account", ID: "a1"}
	commit := func(v int64, cmdID, fp, name, data string) signal.Commit {
		return signal.Commit{Stream: stream, Version: v, CommandID: cmdID, Fingerprint: fp,
			Events: []signal.RawEvent{{ID: signal.NewID(), Name: name, SchemaVersion: 2, Data: []byte(data)}}}
	}
	open := commit(1, "open", "", "Opened", `{"owner":"ann"}`)
	open.Events[0].SchemaVersion = 1
	for _, c := range []signal.Commit{open, commit(2, "legacy", "", "Deposited", `{"amount":5}`)} {
		if err := st.Append(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	typ := signal.MustDefine(accountSpec())
	svc, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{typ}})
	r, err := svc.Handle(ctx, "account", "a1", Deposit{Amount: 99}, signal.WithCommandID("legacy"))
	if err != nil || !r.Duplicate || r.Version != 2 {
		t.Fatalf("a commit without fingerprint: %+v %v, want the duplicate", r, err)
	}

	// A snapshot of an older build lists the ids without fingerprints;
	// the commit it points to has one, read anyway to answer.
	spec := accountSpec()
	spec.SnapshotEvery = 100
	snapTyp := signal.MustDefine(spec)
	keyed, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{snapTyp}})
	if _, err := keyed.Handle(ctx, "account", "a1", Deposit{Amount: 1}, signal.WithCommandID("new")); err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(map[string]any{
		"state":  map[string]any{"owner": "ann", "balance": 6},
		"recent": []map[string]any{{"id": "open", "first": 1, "last": 1}, {"id": "legacy", "first": 2, "last": 2}, {"id": "new", "first": 3, "last": 3}},
	})
	if err := st.SaveSnapshot(ctx, signal.Snapshot{Stream: stream, Version: 3, SchemaVersion: 1, Data: old}); err != nil {
		t.Fatal(err)
	}
	cold, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{snapTyp}})
	hist := history(t, st, "a1")
	before := st.Counts()
	_, err = cold.Handle(ctx, "account", "a1", Deposit{Amount: 2}, signal.WithCommandID("new"))
	wantKeyReused(t, err, "new", st, before, hist)
	if r, err := cold.Handle(ctx, "account", "a1", Deposit{Amount: 1}, signal.WithCommandID("new")); err != nil || !r.Duplicate {
		t.Fatalf("repeat through an old snapshot: %+v %v", r, err)
	}
}

// TestFingerprintOnlyForGivenIDs: a generated id needs no fingerprint (it
// is unique), a given one gets the same fingerprint for the same command
// value wherever it is sent (a policy's redelivery), another for another.
func TestFingerprintOnlyForGivenIDs(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	other, _ := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	mustHandle(t, f, "a2", Open{Owner: "bob"})
	mustHandle(t, f, "a1", Deposit{Amount: 5}, signal.WithCommandID("k"))
	if _, err := other.Handle(ctx, "account", "a2", Deposit{Amount: 5}, signal.WithCommandID("k")); err != nil {
		t.Fatalf("the same key on another aggregate is a new command there: %v", err)
	}
	mustHandle(t, f, "a2", Deposit{Amount: 6}, signal.WithCommandID("k6"))
	fps := func(id string) []string {
		var out []string
		for c, err := range f.store.Load(ctx, signal.StreamID{Type: "account", ID: id}, 0) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c.Fingerprint)
		}
		return out
	}
	a1, a2 := fps("a1"), fps("a2")
	if a1[0] != "" || a2[0] != "" {
		t.Errorf("commands without a given id got fingerprints %q, %q", a1[0], a2[0])
	}
	if a1[1] == "" || a1[1] != a2[1] {
		t.Errorf("the same command value got fingerprints %q and %q", a1[1], a2[1])
	}
	if a2[2] == "" || a2[2] == a2[1] {
		t.Errorf("another command value got fingerprint %q (the first: %q)", a2[2], a2[1])
	}
	if len(a1[1]) > 32 {
		t.Errorf("fingerprint %q is longer than 32 bytes", a1[1])
	}
}

func TestCommitSizeCountsFingerprint(t *testing.T) {
	c := signal.Commit{Stream: signal.StreamID{Type: "account", ID: "a1"}, CommandID: "k", Events: []signal.RawEvent{{ID: "e", Name: "n"}}}
	n := c.Size()
	c.Fingerprint = "0123456789abcdefghijkl"
	if c.Size() != n+len(c.Fingerprint) {
		t.Fatalf("Size %d with a fingerprint, %d without", c.Size(), n)
	}
}

// Unencodable is a command JSON cannot encode (a channel), to test that a
// command id needs an encodable command.
type Unencodable struct{ C chan int }

func TestKeyedCommandJSONCannotEncode(t *testing.T) {
	typ := signal.MustDefine(signal.Spec[Account]{
		Name: "odd",
		Commands: []signal.CommandSpec[Account]{signal.Decide("Unencodable", func(Account, Unencodable) ([]any, error) {
			return []any{Opened{Owner: "x"}}, nil
		}, signal.Genesis)},
		Events: []signal.EventSpec[Account]{signal.Evolve("Opened", func(s Account, _ Opened) Account { return s })},
	})
	st := memstore.New()
	svc, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{typ}})
	_, err := svc.Handle(t.Context(), "odd", "o1", Unencodable{C: make(chan int)}, signal.WithCommandID("k"))
	if !errors.Is(err, signal.ErrInvalid) || !strings.Contains(signal.PublicMessage(err), "JSON") {
		t.Fatalf("a keyed command JSON cannot encode: %v, want ErrInvalid naming JSON", err)
	}
	if st.Counts() != (memstore.Counts{}) {
		t.Errorf("store requests: %+v", st.Counts())
	}
	// Without a command id no fingerprint is needed.
	if _, err := svc.Handle(t.Context(), "odd", "o1", Unencodable{C: make(chan int)}); err != nil {
		t.Fatalf("the same command without a command id: %v", err)
	}
}
