// Package storetest is the conformance suite every signal.Store adapter
// runs: the in-memory store, DynamoDB, bbolt, Postgres, and users' own
// adapters. An adapter's test calls Run with a function that makes a fresh,
// empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) signal.Store { return memstore.New() })
//	}
//
// Every test goes through the signal interfaces only. The optional
// abilities (signal.SnapshotStore, signal.CheckpointStore, signal.ViewStore,
// signal.ViewBatcher, signal.ChangeFeed, signal.LogScanner) are discovered
// with type assertions on the first store newStore makes; the tests of an
// ability the store lacks are not run (Run logs that they were left out;
// it never calls t.Skip).
//
// # What the suite requires beyond the words of the contract
//
//   - Time: Commit.Time and Snapshot.Time keep at least millisecond
//     precision. The suite writes UTC times with a sub-millisecond part
//     (under half a millisecond, so a store may truncate or round), compares
//     both sides truncated to the millisecond with time.Time.Equal, and
//     requires the time read back to be in UTC (Location() == time.UTC).
//   - Payloads: RawEvent.Data, Snapshot.Data and View.Data come back byte
//     for byte. They hold JSON, but a store must not parse or normalise it
//     (no re-encoding, key reordering, whitespace or escape changes), so
//     storing it in a JSON-typed column or a DynamoDB map fails the suite.
//   - Ids: any stream id valid for signal.ValidateID (up to
//     signal.MaxIDBytes bytes, any Unicode, spaces, punctuation) and any
//     type valid for signal.ValidateName round-trips unchanged, and streams
//     whose keys are prefixes of each other, or whose type and id
//     concatenate to the same string, stay apart. Command, correlation,
//     causation and event ids and fingerprints of up to signal.MaxIDBytes
//     round-trip with any Unicode but control characters, '#', '/' and
//     dot segments included, in final commits too; whatever
//     signal.ValidateCommit refuses is refused with ErrInvalid (or
//     ErrTooLarge) and leaves the store, its change feed included,
//     unchanged.
//   - Visibility: a commit is returned by Load, and by the change feed, as
//     soon as Append has returned nil.
//   - Reads of what no write can have stored (a stream signal.Readable
//     refuses, a view name or key signal.ValidateViewKey refuses) find
//     nothing: Load yields nothing, LoadSnapshot and LoadView answer
//     ErrNotFound, whatever the store's database would make of the key.
//
// The counts are chosen so the whole suite runs in seconds against a local
// DynamoDB emulator too. newStore is called once to discover the store's
// abilities and then at the start of every subtest, which must get a store
// with nothing in it; use t.Cleanup in newStore to release it.
//
// # Beyond conformance
//
// The package also holds what every adapter's own tests would otherwise
// copy: RunService (Services over the store, from two processes or across
// a reopen), RunAfterClose (for stores with a Close), the Commit builder
// with MustAppend, LoadAll and DiffCommit, and the shared benchmarks
// BenchAppend, BenchAppendParallel and BenchRehydrate.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// Run runs every conformance test against stores made by newStore; each
// subtest gets a fresh, empty store.
func Run(t *testing.T, newStore func(t *testing.T) signal.Store) {
	t.Helper()
	s := &suite{newStore: newStore}
	probe := s.store(t)

	for _, tc := range s.storeTests() {
		t.Run(tc.name, tc.fn)
	}

	abilities := []struct {
		name, iface string
		has         bool
		tests       func() []namedTest
	}{
		{"Snapshots", "signal.SnapshotStore", is[signal.SnapshotStore](probe), s.snapshotTests},
		{"Checkpoints", "signal.CheckpointStore", is[signal.CheckpointStore](probe), s.checkpointTests},
		{"Views", "signal.ViewStore", is[signal.ViewStore](probe), s.viewTests},
		{"ChangeFeed", "signal.ChangeFeed", is[signal.ChangeFeed](probe), s.feedTests},
		{"LogScan", "signal.LogScanner", is[signal.LogScanner](probe), s.scanTests},
		{"ViewBatch", "signal.ViewBatcher", is[signal.ViewBatcher](probe), s.batchTests},
	}
	for _, a := range abilities {
		if !a.has {
			t.Logf("%T does not implement %s: the %s tests were not run", probe, a.iface, a.name)
			continue
		}
		t.Run(a.name, func(t *testing.T) {
			for _, tc := range a.tests() {
				t.Run(tc.name, tc.fn)
			}
		})
	}
}

type namedTest struct {
	name string
	fn   func(t *testing.T)
}

type suite struct {
	newStore func(t *testing.T) signal.Store
}

func is[A any](s signal.Store) bool {
	_, ok := s.(A)
	return ok
}

// store returns a fresh store from newStore.
func (s *suite) store(t *testing.T) signal.Store {
	t.Helper()
	st := s.newStore(t)
	if st == nil {
		t.Fatal("newStore returned nil")
	}
	return st
}

// ability returns a fresh store as both a Store and the ability A; the
// caller only asks for abilities the probe store had.
func ability[A any](t *testing.T, s *suite) (signal.Store, A) {
	t.Helper()
	st := s.store(t)
	a, ok := st.(A)
	if !ok {
		t.Fatalf("newStore returned a %T, which does not implement %T, though the first store it made did", st, (*A)(nil))
	}
	return st, a
}

// ---- fixtures ----

// baseTime has a sub-millisecond part below half a millisecond, so a store
// that rounds to the millisecond and one that truncates agree.
var baseTime = time.Date(2026, time.March, 14, 15, 9, 26, 535_123_456, time.UTC)

// timeAt is the commit time the fixtures use for a version.
func timeAt(version int64) time.Time {
	return baseTime.Add(time.Duration(version) * 1001 * time.Millisecond)
}

// jsonPayloads are event payloads a store must keep byte for byte: escapes,
// raw multi-byte UTF-8, unusual whitespace, key order and number spellings
// a JSON re-encoder would change.
var jsonPayloads = [][]byte{
	[]byte(`{"sku":"A-1","quantity":2,"price":9.99}`),
	[]byte(`{"escaped":"\u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9 \ud83d\uded2 \u0000 \u001f \u2028\u2029","raw":"ünïcødé 購物車 🛒 ` + "\u2028" + `","controls":"\"\\\/\b\f\n\r\t"}`),
	[]byte("{ \"z\" : 1 ,\n\t\"a\" : [1.0, 2e10, -0, 12345678901234567890, 0.1E-7] ,\r\n\"nested\":{\"k\":null,\"t\":true} }\n"),
	[]byte(`"a bare string"`),
	[]byte(`[]`),
	[]byte(`{}`),
	[]byte(`null`),
	[]byte(`{"html":"<script>&amp;</script>","dup":1,"dup":2}`),
}

// Commit builds a commit of n events (n >= 1) at version on stream, as
// the suite appends them: every metadata field set (fresh command,
// correlation, causation and event ids; no fingerprint), a UTC time with
// a sub-millisecond part derived from version, and small JSON payloads.
// It passes signal.ValidateCommit; adapters' own tests use it so they do
// not each build commits by hand.
func Commit(stream signal.StreamID, version int64, n int) signal.Commit {
	c := signal.Commit{
		Stream:        stream,
		Version:       version,
		CommandID:     "cmd-" + signal.NewID(),
		CorrelationID: "corr-" + signal.NewID(),
		CausationID:   "cause-" + signal.NewID(),
		Time:          timeAt(version),
		Events:        make([]signal.RawEvent, n),
	}
	for i := range c.Events {
		c.Events[i] = signal.RawEvent{
			ID:            signal.NewID(),
			Name:          "ItemAdded",
			SchemaVersion: 1 + i%3,
			Data:          fmt.Appendf(nil, `{"version":%d,"sku":"sku-%d","stream":%q}`, version+int64(i), i, stream.ID),
		}
	}
	return c
}

// jsonBlob returns a JSON document of exactly n bytes (n >= 11).
func jsonBlob(n int) []byte {
	const head, tail = `{"blob":"`, `"}`
	b := make([]byte, 0, n)
	b = append(b, head...)
	for i := 0; len(b) < n-len(tail); i++ {
		b = append(b, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[i*7%62])
	}
	return append(b, tail...)
}

// ---- store helpers ----

// MustAppend appends c, failing the test unless Append returns nil.
func MustAppend(t testing.TB, s signal.Store, c signal.Commit) {
	t.Helper()
	if err := s.Append(t.Context(), c); err != nil {
		t.Fatalf("Append(%s, version %d, %d events) = %v, want nil", sname(c.Stream), c.Version, len(c.Events), err)
	}
}

// appendHistory appends contiguous commits holding the given numbers of
// events, starting at version 1, and returns them.
func appendHistory(t *testing.T, s signal.Store, stream signal.StreamID, sizes ...int) []signal.Commit {
	t.Helper()
	var out []signal.Commit
	v := int64(1)
	for _, n := range sizes {
		c := Commit(stream, v, n)
		MustAppend(t, s, c)
		out = append(out, c)
		v += int64(n)
	}
	return out
}

// LoadAll collects Load(stream, after), failing the test on an error.
func LoadAll(t testing.TB, s signal.Store, stream signal.StreamID, after int64) []signal.Commit {
	t.Helper()
	var out []signal.Commit
	for c, err := range s.Load(t.Context(), stream, after) {
		if err != nil {
			t.Fatalf("Load(%s, after %d) yielded error %v after %d commits", sname(stream), after, err, len(out))
		}
		out = append(out, c)
	}
	return out
}

// assertHistory checks that Load(stream, 0) returns exactly want.
func assertHistory(t *testing.T, s signal.Store, stream signal.StreamID, want []signal.Commit) {
	t.Helper()
	assertCommits(t, fmt.Sprintf("Load(%s, after 0)", sname(stream)), LoadAll(t, s, stream, 0), want)
}

func assertCommits(t *testing.T, what string, got, want []signal.Commit) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s returned %d commits at versions %v, want %d at versions %v", what, len(got), versions(got), len(want), versions(want))
	}
	for i := range want {
		if d := DiffCommit(want[i], got[i]); d != "" {
			t.Errorf("%s: commit %d (version %d) differs from what was appended:\n%s", what, i, want[i].Version, d)
		}
	}
}

func versions(cs []signal.Commit) []int64 {
	v := make([]int64, len(cs))
	for i := range cs {
		v[i] = cs[i].Version
	}
	return v
}

// ConflictHolds reports whether err is Store.Append's conflict
// (signal.ConflictOf) carrying winner, the commit that holds the version,
// as its Existing commit (DiffCommit finds no difference).
func ConflictHolds(err error, winner signal.Commit) bool {
	ce, ok := signal.ConflictOf(err)
	return ok && ce.Existing != nil && DiffCommit(winner, *ce.Existing) == ""
}

// DiffCommit describes, field by field, how got differs from want, ""
// if it does not. Times are compared to the millisecond (stores keep at
// least that) and must be in UTC when want's is; payloads byte for byte.
func DiffCommit(want, got signal.Commit) string {
	var d []string
	add := func(format string, args ...any) { d = append(d, "\t"+fmt.Sprintf(format, args...)) }
	if got.Stream != want.Stream {
		add("Stream: got %s, want %s", sname(got.Stream), sname(want.Stream))
	}
	if got.Version != want.Version {
		add("Version: got %d, want %d", got.Version, want.Version)
	}
	if got.CommandID != want.CommandID {
		add("CommandID: got %q, want %q", got.CommandID, want.CommandID)
	}
	if got.Fingerprint != want.Fingerprint {
		add("Fingerprint: got %q, want %q", got.Fingerprint, want.Fingerprint)
	}
	if got.CorrelationID != want.CorrelationID {
		add("CorrelationID: got %q, want %q", got.CorrelationID, want.CorrelationID)
	}
	if got.CausationID != want.CausationID {
		add("CausationID: got %q, want %q", got.CausationID, want.CausationID)
	}
	if got.Actor != want.Actor {
		add("Actor: got %q, want %q", got.Actor, want.Actor)
	}
	if msg := diffTime(want.Time, got.Time); msg != "" {
		add("Time: %s", msg)
	}
	if got.Final != want.Final {
		add("Final: got %v, want %v", got.Final, want.Final)
	}
	if len(got.Events) != len(want.Events) {
		add("Events: got %d, want %d", len(got.Events), len(want.Events))
	} else {
		for i := range want.Events {
			w, g := &want.Events[i], &got.Events[i]
			if g.ID != w.ID {
				add("Events[%d].ID: got %q, want %q", i, g.ID, w.ID)
			}
			if g.Name != w.Name {
				add("Events[%d].Name: got %q, want %q", i, g.Name, w.Name)
			}
			if g.SchemaVersion != w.SchemaVersion {
				add("Events[%d].SchemaVersion: got %d, want %d", i, g.SchemaVersion, w.SchemaVersion)
			}
			if !bytes.Equal(g.Data, w.Data) {
				add("Events[%d].Data: got %s, want %s (must be kept byte for byte)", i, showBytes(g.Data), showBytes(w.Data))
			}
		}
	}
	return strings.Join(d, "\n")
}

// diffTime compares times to the millisecond and requires a UTC result for
// a UTC input; "" when they agree.
func diffTime(want, got time.Time) string {
	if !got.Truncate(time.Millisecond).Equal(want.Truncate(time.Millisecond)) {
		return fmt.Sprintf("got %s, want %s (stores must keep at least millisecond precision)", got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
	if want.Location() == time.UTC && got.Location() != time.UTC {
		return fmt.Sprintf("got %s in location %q, want it in UTC", got.Format(time.RFC3339Nano), got.Location())
	}
	return ""
}

func showBytes(b []byte) string {
	if b == nil {
		return "nil"
	}
	if len(b) <= 120 {
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("%d bytes %q…%q", len(b), b[:40], b[len(b)-20:])
}

// sname formats a stream for messages, quoted so odd ids stay readable.
func sname(s signal.StreamID) string { return strconv.Quote(s.String()) }

var sentinelNames = map[error]string{
	signal.ErrInternal:    "signal.ErrInternal",
	signal.ErrInvalid:     "signal.ErrInvalid",
	signal.ErrNotFound:    "signal.ErrNotFound",
	signal.ErrConflict:    "signal.ErrConflict",
	signal.ErrExists:      "signal.ErrExists",
	signal.ErrClosed:      "signal.ErrClosed",
	signal.ErrTooLarge:    "signal.ErrTooLarge",
	signal.ErrUnavailable: "signal.ErrUnavailable",
}

func errName(target error) string {
	if n, ok := sentinelNames[target]; ok {
		return n
	}
	return fmt.Sprint(target)
}

// wantErr reports (as a non-fatal error) unless errors.Is(err, target); it
// returns whether err matched.
func wantErr(t *testing.T, err, target error, format string, args ...any) bool {
	t.Helper()
	if errors.Is(err, target) {
		return true
	}
	what := fmt.Sprintf(format, args...)
	if err == nil {
		t.Errorf("%s = nil, want an error matching errors.Is(err, %s)", what, errName(target))
	} else {
		t.Errorf("%s = %v (%T, kind %s), want an error matching errors.Is(err, %s)", what, err, err, signal.KindOf(err), errName(target))
	}
	return false
}
