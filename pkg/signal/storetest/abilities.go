package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// ---- snapshots ----

func (s *suite) snapshotTests() []namedTest {
	return []namedTest{
		{"Missing", s.testSnapshotMissing},
		{"RoundTrip", s.testSnapshotRoundTrip},
		{"OlderKeepsNewer", s.testSnapshotOlderKeepsNewer},
		{"NewerReplaces", s.testSnapshotNewerReplaces},
		{"TooLarge", s.testSnapshotTooLarge},
		{"PerStream", s.testSnapshotPerStream},
		{"ConcurrentSavesKeepNewest", s.testSnapshotConcurrent},
		{"InvalidStream", s.testSnapshotUnreadable},
	}
}

func snapshot(stream signal.StreamID, version int64, schema int, data []byte) signal.Snapshot {
	return signal.Snapshot{Stream: stream, Version: version, SchemaVersion: schema, Data: data, Time: timeAt(version)}
}

func saveSnapshot(t *testing.T, ss signal.SnapshotStore, snap signal.Snapshot) {
	t.Helper()
	if err := ss.SaveSnapshot(t.Context(), snap); err != nil {
		t.Fatalf("SaveSnapshot(%s, version %d, %d bytes) = %v, want nil", sname(snap.Stream), snap.Version, len(snap.Data), err)
	}
}

// assertSnapshot checks LoadSnapshot returns want.
func assertSnapshot(t *testing.T, ss signal.SnapshotStore, want signal.Snapshot) {
	t.Helper()
	got, err := ss.LoadSnapshot(t.Context(), want.Stream)
	if err != nil {
		t.Fatalf("LoadSnapshot(%s) = %v, want the snapshot at version %d", sname(want.Stream), err, want.Version)
	}
	if got.Stream != want.Stream {
		t.Errorf("LoadSnapshot(%s).Stream = %s", sname(want.Stream), sname(got.Stream))
	}
	if got.Version != want.Version {
		t.Errorf("LoadSnapshot(%s).Version = %d, want %d", sname(want.Stream), got.Version, want.Version)
	}
	if got.SchemaVersion != want.SchemaVersion {
		t.Errorf("LoadSnapshot(%s).SchemaVersion = %d, want %d", sname(want.Stream), got.SchemaVersion, want.SchemaVersion)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("LoadSnapshot(%s).Data = %s, want %s (must be kept byte for byte)", sname(want.Stream), showBytes(got.Data), showBytes(want.Data))
	}
	if msg := diffTime(want.Time, got.Time); msg != "" {
		t.Errorf("LoadSnapshot(%s).Time: %s", sname(want.Stream), msg)
	}
}

func (s *suite) testSnapshotMissing(t *testing.T) {
	st, ss := ability[signal.SnapshotStore](t, s)
	never := signal.StreamID{Type: "cart", ID: "never-written"}
	_, err := ss.LoadSnapshot(t.Context(), never)
	wantErr(t, err, signal.ErrNotFound, "LoadSnapshot(never-written %s)", sname(never))

	written := signal.StreamID{Type: "cart", ID: "no-snapshot"}
	appendHistory(t, st, written, 1, 2)
	_, err = ss.LoadSnapshot(t.Context(), written)
	wantErr(t, err, signal.ErrNotFound, "LoadSnapshot(%s with commits but no snapshot)", sname(written))
}

func (s *suite) testSnapshotRoundTrip(t *testing.T) {
	for i, data := range jsonPayloads {
		t.Run(fmt.Sprintf("payload %d", i), func(t *testing.T) {
			_, ss := ability[signal.SnapshotStore](t, s)
			snap := snapshot(signal.StreamID{Type: "cart", ID: "snap-ünï 🛒"}, 5, 3, data)
			saveSnapshot(t, ss, snap)
			assertSnapshot(t, ss, snap)
		})
	}
	t.Run("300 KB", func(t *testing.T) {
		_, ss := ability[signal.SnapshotStore](t, s)
		snap := snapshot(signal.StreamID{Type: "cart", ID: "snap-large"}, 1000, 1, jsonBlob(300*1024))
		saveSnapshot(t, ss, snap)
		assertSnapshot(t, ss, snap)
	})
}

func (s *suite) testSnapshotOlderKeepsNewer(t *testing.T) {
	_, ss := ability[signal.SnapshotStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "snap-older"}
	newer := snapshot(stream, 5, 2, []byte(`{"at":5}`))
	saveSnapshot(t, ss, newer)
	for _, late := range []signal.Snapshot{
		snapshot(stream, 3, 2, []byte(`{"at":3}`)),
		snapshot(stream, 4, 3, []byte(`{"at":4,"schema":3}`)),
		snapshot(stream, 5, 9, []byte(`{"at":5,"again":true}`)), // the same version: the stored one stays
	} {
		if err := ss.SaveSnapshot(t.Context(), late); err != nil {
			t.Errorf("SaveSnapshot(version %d) after version 5 = %v, want nil (a late writer is not an error)", late.Version, err)
		}
		assertSnapshot(t, ss, newer)
	}
}

func (s *suite) testSnapshotNewerReplaces(t *testing.T) {
	_, ss := ability[signal.SnapshotStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "snap-newer"}
	saveSnapshot(t, ss, snapshot(stream, 5, 2, []byte(`{"at":5}`)))
	newer := snapshot(stream, 8, 4, []byte(`{"at":8,"schema":4}`))
	saveSnapshot(t, ss, newer)
	assertSnapshot(t, ss, newer)
	newest := snapshot(stream, 9, 4, jsonPayloads[1])
	saveSnapshot(t, ss, newest)
	assertSnapshot(t, ss, newest)
}

func (s *suite) testSnapshotTooLarge(t *testing.T) {
	_, ss := ability[signal.SnapshotStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "snap-too-large"}
	for _, n := range []int{signal.MaxCommitBytes + 1, 400 * 1024} {
		err := ss.SaveSnapshot(t.Context(), snapshot(stream, 10, 1, jsonBlob(n)))
		wantErr(t, err, signal.ErrTooLarge, "SaveSnapshot(%d bytes of data)", n)
	}
	_, err := ss.LoadSnapshot(t.Context(), stream)
	wantErr(t, err, signal.ErrNotFound, "LoadSnapshot(%s) after only too-large saves", sname(stream))

	kept := snapshot(stream, 5, 1, []byte(`{"kept":true}`))
	saveSnapshot(t, ss, kept)
	err = ss.SaveSnapshot(t.Context(), snapshot(stream, 10, 1, jsonBlob(signal.MaxCommitBytes+1)))
	wantErr(t, err, signal.ErrTooLarge, "SaveSnapshot(%d bytes of data) over a stored snapshot", signal.MaxCommitBytes+1)
	assertSnapshot(t, ss, kept)
}

func (s *suite) testSnapshotPerStream(t *testing.T) {
	_, ss := ability[signal.SnapshotStore](t, s)
	streams := []signal.StreamID{
		{Type: "cart", ID: "a"},
		{Type: "cart", ID: "ab"},
		{Type: "carts", ID: "a"},
		{Type: "a", ID: "bc"},
		{Type: "ab", ID: "c"},
	}
	var snaps []signal.Snapshot
	for i, id := range streams {
		snap := snapshot(id, int64(10-i), i+1, fmt.Appendf(nil, `{"stream":%q}`, id.String()))
		saveSnapshot(t, ss, snap)
		snaps = append(snaps, snap)
	}
	for _, snap := range snaps {
		assertSnapshot(t, ss, snap)
	}
	missing := signal.StreamID{Type: "cart", ID: "b"}
	_, err := ss.LoadSnapshot(t.Context(), missing)
	wantErr(t, err, signal.ErrNotFound, "LoadSnapshot(%s) beside other streams' snapshots", sname(missing))
}

// testSnapshotConcurrent: racing writers never let an older snapshot
// replace a newer one.
func (s *suite) testSnapshotConcurrent(t *testing.T) {
	const writers, versions = 8, 48
	_, ss := ability[signal.SnapshotStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "snap-race"}
	data := func(v int64) []byte { return fmt.Appendf(nil, `{"version":%d}`, v) }
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			// Writer w saves versions w+1, w+1+writers, ... in descending
			// order, so late, older saves race newer ones.
			for v := int64(versions - writers + w + 1); v > 0; v -= writers {
				if err := ss.SaveSnapshot(t.Context(), snapshot(stream, v, 1, data(v))); err != nil {
					t.Errorf("writer %d: SaveSnapshot(version %d) = %v, want nil", w, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	assertSnapshot(t, ss, snapshot(stream, versions, 1, data(versions)))
}

// ---- checkpoints ----

func (s *suite) checkpointTests() []namedTest {
	return []namedTest{
		{"Default", s.testCheckpointDefault},
		{"CompareAndSet", s.testCheckpointCompareAndSet},
		{"Independent", s.testCheckpointIndependent},
		{"ConcurrentMovesOneWins", s.testCheckpointConcurrent},
		{"InvalidNames", s.testCheckpointInvalid},
		{"FailureRecorded", s.testFailureRecorded},
		{"FailureNeedsItsCheckpoint", s.testFailureConflict},
		{"FailuresListed", s.testFailuresListed},
		{"FailureInvalid", s.testFailureInvalid},
	}
}

func assertCheckpoint(t *testing.T, cs signal.CheckpointStore, subscriber string, stream signal.StreamID, want int64) {
	t.Helper()
	got, err := cs.LoadCheckpoint(t.Context(), subscriber, stream)
	if err != nil || got.Version != want {
		t.Errorf("LoadCheckpoint(%q, %s) = %d, %v; want %d, nil", subscriber, sname(stream), got.Version, err, want)
	}
}

func saveCheckpoint(t *testing.T, cs signal.CheckpointStore, subscriber string, stream signal.StreamID, from, to int64) {
	t.Helper()
	if err := cs.SaveCheckpoint(t.Context(), subscriber, stream, from, to); err != nil {
		t.Fatalf("SaveCheckpoint(%q, %s, %d -> %d) = %v, want nil", subscriber, sname(stream), from, to, err)
	}
}

func (s *suite) testCheckpointDefault(t *testing.T) {
	st, cs := ability[signal.CheckpointStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "cp-default"}
	assertCheckpoint(t, cs, "cart-summary", stream, 0)
	appendHistory(t, st, stream, 2, 1)
	assertCheckpoint(t, cs, "cart-summary", stream, 0)
}

func (s *suite) testCheckpointCompareAndSet(t *testing.T) {
	_, cs := ability[signal.CheckpointStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "cp-cas"}
	const sub = "cart-summary"
	saveCheckpoint(t, cs, sub, stream, 0, 3)
	assertCheckpoint(t, cs, sub, stream, 3)

	err := cs.SaveCheckpoint(t.Context(), sub, stream, 0, 5)
	wantErr(t, err, signal.ErrConflict, "SaveCheckpoint(%q, %s, 0 -> 5) when it is at 3", sub, sname(stream))
	assertCheckpoint(t, cs, sub, stream, 3)
	err = cs.SaveCheckpoint(t.Context(), sub, stream, 4, 5)
	wantErr(t, err, signal.ErrConflict, "SaveCheckpoint(%q, %s, 4 -> 5) when it is at 3", sub, sname(stream))
	assertCheckpoint(t, cs, sub, stream, 3)

	saveCheckpoint(t, cs, sub, stream, 3, 5)
	assertCheckpoint(t, cs, sub, stream, 5)
	err = cs.SaveCheckpoint(t.Context(), sub, stream, 3, 7)
	wantErr(t, err, signal.ErrConflict, "SaveCheckpoint(%q, %s, 3 -> 7) when it is at 5", sub, sname(stream))
	assertCheckpoint(t, cs, sub, stream, 5)
	saveCheckpoint(t, cs, sub, stream, 5, 1000)
	assertCheckpoint(t, cs, sub, stream, 1000)
}

func (s *suite) testCheckpointIndependent(t *testing.T) {
	_, cs := ability[signal.CheckpointStore](t, s)
	a := signal.StreamID{Type: "cart", ID: "a"}
	ab := signal.StreamID{Type: "cart", ID: "ab"}
	saveCheckpoint(t, cs, "proj", a, 0, 3)
	assertCheckpoint(t, cs, "proj", ab, 0)
	assertCheckpoint(t, cs, "proj2", a, 0)
	assertCheckpoint(t, cs, "pro", a, 0)
	saveCheckpoint(t, cs, "proj", ab, 0, 7)
	saveCheckpoint(t, cs, "proj2", a, 0, 11)
	assertCheckpoint(t, cs, "proj", a, 3)
	assertCheckpoint(t, cs, "proj", ab, 7)
	assertCheckpoint(t, cs, "proj2", a, 11)

	// Subscriber and stream must not be joined ambiguously:
	// "a" + "bcart#x" and "ab" + "cart#x".
	saveCheckpoint(t, cs, "a", signal.StreamID{Type: "bcart", ID: "x"}, 0, 2)
	assertCheckpoint(t, cs, "ab", signal.StreamID{Type: "cart", ID: "x"}, 0)
	saveCheckpoint(t, cs, "ab", signal.StreamID{Type: "cart", ID: "x"}, 0, 4)
	assertCheckpoint(t, cs, "a", signal.StreamID{Type: "bcart", ID: "x"}, 2)
}

func (s *suite) testCheckpointConcurrent(t *testing.T) {
	const workers = 8
	_, cs := ability[signal.CheckpointStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "cp-race"}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { errs[w] = cs.SaveCheckpoint(t.Context(), "proj", stream, 0, int64(w+1)) })
	}
	wg.Wait()
	winner := raceWinner(t, errs, "SaveCheckpoint(0 -> worker+1)")
	assertCheckpoint(t, cs, "proj", stream, int64(winner+1))
}

// ---- views ----

func (s *suite) viewTests() []namedTest {
	return []namedTest{
		{"Missing", s.testViewMissing},
		{"CommitApplies", s.testViewCommitApplies},
		{"StaleCommitChangesNothing", s.testViewStale},
		{"Delete", s.testViewDelete},
		{"CheckpointOnly", s.testViewCheckpointOnly},
		{"DropView", s.testDropView},
		{"TooLarge", s.testViewTooLarge},
		{"ConcurrentCommitsOneWins", s.testViewConcurrent},
		{"InvalidCommit", s.testViewInvalid},
		{"CommitClearsFailure", s.testViewClearsFailure},
		{"LargeRun", s.testViewLargeRun},
		{"LargeRunStale", s.testViewLargeRunStale},
		{"LargeRunBytes", s.testViewLargeRunBytes},
		{"RunLimits", s.testViewRunLimits},
		{"LargeRunsRacing", s.testViewLargeRunsRacing},
		{"LoadInvalidName", s.testViewUnreadable},
		{"EmptyDocument", s.testViewEmptyDocument},
	}
}

func commitViews(t *testing.T, vs signal.ViewStore, c signal.ViewCommit) {
	t.Helper()
	if err := vs.CommitViews(t.Context(), c); err != nil {
		t.Fatalf("CommitViews(%q, %s, %d -> %d, %d writes) = %v, want nil", c.Subscriber, sname(c.Stream), c.From, c.To, len(c.Writes), err)
	}
}

// assertView checks a document; when, if given, says when it is checked.
func assertView(t *testing.T, vs signal.ViewStore, name, key string, data []byte, version int64, when ...string) {
	t.Helper()
	w := whenSuffix(when)
	v, err := vs.LoadView(t.Context(), name, key)
	if err != nil {
		t.Errorf("LoadView(%q, %q)%s = %v, want the document at version %d", name, key, w, err, version)
		return
	}
	if v.Name != name || v.Key != key {
		t.Errorf("LoadView(%q, %q)%s returned Name %q, Key %q", name, key, w, v.Name, v.Key)
	}
	if !bytes.Equal(v.Data, data) {
		t.Errorf("LoadView(%q, %q).Data%s = %s, want %s", name, key, w, showBytes(v.Data), showBytes(data))
	}
	if v.Version != version {
		t.Errorf("LoadView(%q, %q).Version%s = %d, want %d", name, key, w, v.Version, version)
	}
}

func assertNoView(t *testing.T, vs signal.ViewStore, name, key string, when ...string) {
	t.Helper()
	w := whenSuffix(when)
	v, err := vs.LoadView(t.Context(), name, key)
	if err == nil {
		t.Errorf("LoadView(%q, %q)%s = version %d, %s; want ErrNotFound", name, key, w, v.Version, showBytes(v.Data))
		return
	}
	wantErr(t, err, signal.ErrNotFound, "LoadView(%q, %q)%s", name, key, w)
}

func whenSuffix(when []string) string {
	if len(when) == 0 {
		return ""
	}
	return " " + strings.Join(when, " ")
}

func (s *suite) testViewMissing(t *testing.T) {
	_, vs := ability[signal.ViewStore](t, s)
	assertNoView(t, vs, "cart-summary", "c1")
	commitViews(t, vs, signal.ViewCommit{Subscriber: "p", Stream: signal.StreamID{Type: "cart", ID: "c1"}, From: 0, To: 1,
		Writes: []signal.ViewWrite{{Name: "cart-summary", Key: "c1", Data: []byte(`{}`)}}})
	assertNoView(t, vs, "cart-summary", "c")
	assertNoView(t, vs, "cart-summary", "c12")
	assertNoView(t, vs, "cart-summar", "yc1")
	assertNoView(t, vs, "sku-sales", "c1")
}

// viewFixture commits three documents of two views for subscriber "proj"
// on stream cart#c, moving its checkpoint from 0 to 2.
type viewFixture struct {
	stream signal.StreamID
	a, b   []byte // cart-summary/c1, cart-summary/c2
	c      []byte // sku-sales/sku-1
}

func setUpViews(t *testing.T, vs signal.ViewStore) viewFixture {
	t.Helper()
	f := viewFixture{
		stream: signal.StreamID{Type: "cart", ID: "c"},
		a:      jsonPayloads[0],
		b:      jsonPayloads[1],
		c:      []byte(`{"units":3,"revenue":29.97}`),
	}
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 0, To: 2, Writes: []signal.ViewWrite{
		{Name: "cart-summary", Key: "c1", Data: f.a},
		{Name: "cart-summary", Key: "c2", Data: f.b},
		{Name: "sku-sales", Key: "sku-1", Data: f.c},
	}})
	return f
}

// assertUnchanged checks the fixture is as setUpViews left it; when says
// what was tried since.
func (f viewFixture) assertUnchanged(t *testing.T, vs signal.ViewStore, when string) {
	t.Helper()
	assertView(t, vs, "cart-summary", "c1", f.a, 1, when)
	assertView(t, vs, "cart-summary", "c2", f.b, 1, when)
	assertView(t, vs, "sku-sales", "sku-1", f.c, 1, when)
	assertNoView(t, vs, "cart-summary", "c9", when)
	if cp, err := vs.LoadCheckpoint(t.Context(), "proj", f.stream); err != nil || cp.Version != 2 {
		t.Errorf("LoadCheckpoint(%q, %s) %s = %d, %v; want 2, nil", "proj", sname(f.stream), when, cp.Version, err)
	}
}

func (s *suite) testViewCommitApplies(t *testing.T) {
	_, vs := ability[signal.ViewStore](t, s)
	f := setUpViews(t, vs)
	f.assertUnchanged(t, vs, "after the first CommitViews")

	updated := []byte(`{"items":{"sku-1":3},"total":29.97,"status":"open"}`)
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 2, To: 5, Writes: []signal.ViewWrite{
		{Name: "cart-summary", Key: "c1", Data: updated, ExpectedVersion: 1},
		{Name: "cart-summary", Key: "c9", Data: []byte(`{"new":true}`)},
	}})
	assertView(t, vs, "cart-summary", "c1", updated, 2)
	assertView(t, vs, "cart-summary", "c9", []byte(`{"new":true}`), 1)
	assertView(t, vs, "cart-summary", "c2", f.b, 1)
	assertCheckpoint(t, vs, "proj", f.stream, 5)

	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 5, To: 6, Writes: []signal.ViewWrite{
		{Name: "cart-summary", Key: "c1", Data: f.a, ExpectedVersion: 2},
	}})
	assertView(t, vs, "cart-summary", "c1", f.a, 3)
	assertCheckpoint(t, vs, "proj", f.stream, 6)
}

func (s *suite) testViewStale(t *testing.T) {
	cases := []struct {
		name  string
		stale func(c *signal.ViewCommit)
	}{
		{"checkpoint From behind", func(c *signal.ViewCommit) { c.From, c.To = 0, 3 }},
		{"checkpoint From ahead", func(c *signal.ViewCommit) { c.From, c.To = 3, 4 }},
		{"another stream's checkpoint", func(c *signal.ViewCommit) { c.Stream = signal.StreamID{Type: "cart", ID: "other"} }},
		{"stale ExpectedVersion of an existing document", func(c *signal.ViewCommit) { c.Writes[1].ExpectedVersion = 0 }},
		{"ExpectedVersion ahead of an existing document", func(c *signal.ViewCommit) { c.Writes[1].ExpectedVersion = 2 }},
		{"ExpectedVersion for a missing document", func(c *signal.ViewCommit) {
			c.Writes = append(c.Writes, signal.ViewWrite{Name: "cart-summary", Key: "c8", Data: []byte(`{}`), ExpectedVersion: 1})
		}},
		{"stale delete", func(c *signal.ViewCommit) {
			c.Writes = append(c.Writes, signal.ViewWrite{Name: "sku-sales", Key: "sku-1", Data: nil, ExpectedVersion: 2})
		}},
	}
	// The valid commit these are variations of: it must work on its own.
	valid := func() signal.ViewCommit {
		return signal.ViewCommit{Subscriber: "proj", Stream: signal.StreamID{Type: "cart", ID: "c"}, From: 2, To: 3, Writes: []signal.ViewWrite{
			{Name: "cart-summary", Key: "c1", Data: []byte(`{"changed":1}`), ExpectedVersion: 1},
			{Name: "cart-summary", Key: "c2", Data: []byte(`{"changed":2}`), ExpectedVersion: 1},
			{Name: "cart-summary", Key: "c9", Data: []byte(`{"changed":9}`), ExpectedVersion: 0},
		}}
	}
	t.Run("valid commit", func(t *testing.T) {
		_, vs := ability[signal.ViewStore](t, s)
		f := setUpViews(t, vs)
		commitViews(t, vs, valid())
		assertView(t, vs, "cart-summary", "c1", []byte(`{"changed":1}`), 2)
		assertView(t, vs, "cart-summary", "c2", []byte(`{"changed":2}`), 2)
		assertView(t, vs, "cart-summary", "c9", []byte(`{"changed":9}`), 1)
		assertCheckpoint(t, vs, "proj", f.stream, 3)
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, vs := ability[signal.ViewStore](t, s)
			f := setUpViews(t, vs)
			c := valid()
			tc.stale(&c)
			err := vs.CommitViews(t.Context(), c)
			wantErr(t, err, signal.ErrConflict, "CommitViews(%s)", tc.name)
			// Nothing changed: neither the documents nor the checkpoint.
			when := "after a CommitViews that failed (" + tc.name + ")"
			f.assertUnchanged(t, vs, when)
			assertNoView(t, vs, "cart-summary", "c8", when)
			assertCheckpoint(t, vs, "proj", signal.StreamID{Type: "cart", ID: "other"}, 0)
		})
	}
}

func (s *suite) testViewDelete(t *testing.T) {
	_, vs := ability[signal.ViewStore](t, s)
	f := setUpViews(t, vs)
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 2, To: 3, Writes: []signal.ViewWrite{
		{Name: "cart-summary", Key: "c2", Data: nil, ExpectedVersion: 1},
		// Deleting a document that does not exist, as a projection that
		// read nothing and deleted it would: a no-op.
		{Name: "cart-summary", Key: "c7", Data: nil, ExpectedVersion: 0},
	}})
	assertNoView(t, vs, "cart-summary", "c2")
	assertNoView(t, vs, "cart-summary", "c7")
	assertView(t, vs, "cart-summary", "c1", f.a, 1)
	assertView(t, vs, "sku-sales", "sku-1", f.c, 1)
	assertCheckpoint(t, vs, "proj", f.stream, 3)

	// A deleted document is new again: it is written with ExpectedVersion 0.
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 3, To: 4, Writes: []signal.ViewWrite{
		{Name: "cart-summary", Key: "c2", Data: []byte(`{"again":true}`), ExpectedVersion: 0},
	}})
	v, err := vs.LoadView(t.Context(), "cart-summary", "c2")
	if err != nil {
		t.Fatalf("LoadView of a re-created document = %v", err)
	}
	if !bytes.Equal(v.Data, []byte(`{"again":true}`)) || v.Version < 1 {
		t.Errorf("LoadView of a re-created document = version %d, %s; want a version >= 1 and the new data", v.Version, showBytes(v.Data))
	}
	// The version it reports is the one the next write expects.
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 4, To: 5, Writes: []signal.ViewWrite{
		{Name: "cart-summary", Key: "c2", Data: nil, ExpectedVersion: v.Version},
	}})
	assertNoView(t, vs, "cart-summary", "c2")
}

func (s *suite) testViewCheckpointOnly(t *testing.T) {
	_, vs := ability[signal.ViewStore](t, s)
	f := setUpViews(t, vs)
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 2, To: 7})
	assertCheckpoint(t, vs, "proj", f.stream, 7)
	assertView(t, vs, "cart-summary", "c1", f.a, 1)
	// CommitViews and SaveCheckpoint share the checkpoint.
	saveCheckpoint(t, vs, "proj", f.stream, 7, 8)
	err := vs.CommitViews(t.Context(), signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 7, To: 9})
	wantErr(t, err, signal.ErrConflict, "CommitViews(From 7) after SaveCheckpoint moved it to 8")
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 8, To: 9})
	assertCheckpoint(t, vs, "proj", f.stream, 9)
}

func (s *suite) testDropView(t *testing.T) {
	_, vs := ability[signal.ViewStore](t, s)
	s1 := signal.StreamID{Type: "cart", ID: "s1"}
	s2 := signal.StreamID{Type: "cart", ID: "s2"}
	s3 := signal.StreamID{Type: "order", ID: "s3"}
	doc := func(name, key string) []byte { return fmt.Appendf(nil, `{"view":%q,"key":%q}`, name, key) }
	w := func(name, key string) signal.ViewWrite {
		return signal.ViewWrite{Name: name, Key: key, Data: doc(name, key)}
	}

	commitViews(t, vs, signal.ViewCommit{Subscriber: "sa", Stream: s1, From: 0, To: 1, Writes: []signal.ViewWrite{w("a", "k1"), w("a", "k2")}})
	commitViews(t, vs, signal.ViewCommit{Subscriber: "sa", Stream: s2, From: 0, To: 4, Writes: []signal.ViewWrite{w("a", "k3")}})
	saveCheckpoint(t, vs, "sa", s3, 0, 2)
	// Views and subscribers whose names extend "a" and "sa".
	commitViews(t, vs, signal.ViewCommit{Subscriber: "sab", Stream: s1, From: 0, To: 1, Writes: []signal.ViewWrite{w("ab", "k1")}})
	commitViews(t, vs, signal.ViewCommit{Subscriber: "sb", Stream: s1, From: 0, To: 3, Writes: []signal.ViewWrite{w("b", "k1"), w("b", "a")}})

	if err := vs.DropView(t.Context(), "a", "sa"); err != nil {
		t.Fatalf("DropView(%q, %q) = %v, want nil", "a", "sa", err)
	}
	for _, k := range []string{"k1", "k2", "k3"} {
		assertNoView(t, vs, "a", k)
	}
	for _, id := range []signal.StreamID{s1, s2, s3} {
		assertCheckpoint(t, vs, "sa", id, 0)
	}
	assertView(t, vs, "ab", "k1", doc("ab", "k1"), 1)
	assertView(t, vs, "b", "k1", doc("b", "k1"), 1)
	assertView(t, vs, "b", "a", doc("b", "a"), 1)
	assertCheckpoint(t, vs, "sab", s1, 1)
	assertCheckpoint(t, vs, "sb", s1, 3)

	// The view can be rebuilt from the start.
	commitViews(t, vs, signal.ViewCommit{Subscriber: "sa", Stream: s1, From: 0, To: 1, Writes: []signal.ViewWrite{w("a", "k1")}})
	assertView(t, vs, "a", "k1", doc("a", "k1"), 1)
	assertCheckpoint(t, vs, "sa", s1, 1)

	if err := vs.DropView(t.Context(), "never-built", "nobody"); err != nil {
		t.Errorf("DropView of a view that has no documents = %v, want nil", err)
	}
	assertView(t, vs, "a", "k1", doc("a", "k1"), 1)
}

func (s *suite) testViewTooLarge(t *testing.T) {
	_, vs := ability[signal.ViewStore](t, s)
	f := setUpViews(t, vs)
	err := vs.CommitViews(t.Context(), signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 2, To: 3, Writes: []signal.ViewWrite{
		{Name: "cart-summary", Key: "c1", Data: []byte(`{"small":true}`), ExpectedVersion: 1},
		{Name: "cart-summary", Key: "c9", Data: jsonBlob(signal.MaxCommitBytes + 1)},
	}})
	wantErr(t, err, signal.ErrTooLarge, "CommitViews with a document of %d bytes", signal.MaxCommitBytes+1)
	f.assertUnchanged(t, vs, "after a CommitViews refused as too large")

	big := jsonBlob(300 * 1024)
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 2, To: 3, Writes: []signal.ViewWrite{
		{Name: "cart-summary", Key: "c9", Data: big},
	}})
	assertView(t, vs, "cart-summary", "c9", big, 1)
}

func (s *suite) testViewConcurrent(t *testing.T) {
	const workers = 8
	_, vs := ability[signal.ViewStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "view-race"}
	errs := make([]error, workers)
	data := func(w int) []byte { return fmt.Appendf(nil, `{"worker":%d}`, w) }
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			errs[w] = vs.CommitViews(t.Context(), signal.ViewCommit{Subscriber: "proj", Stream: stream, From: 0, To: 1, Writes: []signal.ViewWrite{
				{Name: "cart-summary", Key: "race", Data: data(w)},
				{Name: "cart-summary", Key: fmt.Sprintf("only-%d", w), Data: data(w)},
			}})
		})
	}
	wg.Wait()
	winner := raceWinner(t, errs, "CommitViews")
	assertView(t, vs, "cart-summary", "race", data(winner), 1)
	for w := range workers {
		if w == winner {
			assertView(t, vs, "cart-summary", fmt.Sprintf("only-%d", w), data(w), 1)
		} else {
			assertNoView(t, vs, "cart-summary", fmt.Sprintf("only-%d", w))
		}
	}
	assertCheckpoint(t, vs, "proj", stream, 1)
}

// ---- change feed ----

func (s *suite) feedTests() []namedTest {
	return []namedTest{
		{"AllInOrder", s.testFeedAllInOrder},
		{"Resume", s.testFeedResume},
		{"Limit", s.testFeedLimit},
		{"Fingerprint", s.testFeedFingerprint},
		{"Actor", s.testFeedActor},
		{"WaitReturnsAtOnce", s.testFeedWaitAtOnce},
		{"WaitBlocksUntilAppend", s.testFeedWaitBlocks},
		{"WaitCancelled", s.testFeedWaitCancelled},
	}
}

// changes calls Changes and checks its result's shape.
func changes(t *testing.T, f signal.ChangeFeed, after uint64, limit int) []signal.Change {
	t.Helper()
	ch, err := f.Changes(t.Context(), after, limit)
	if err != nil {
		t.Fatalf("Changes(after %d, limit %d) = %v", after, limit, err)
	}
	if len(ch) > limit {
		t.Errorf("Changes(after %d, limit %d) returned %d changes, more than the limit", after, limit, len(ch))
	}
	prev := after
	for i, c := range ch {
		if c.Position <= prev {
			t.Errorf("Changes(after %d, limit %d): change %d at position %d, not after %d: positions must increase strictly and start after `after`", after, limit, i, c.Position, prev)
		}
		prev = c.Position
	}
	return ch
}

func assertFeed(t *testing.T, what string, got []signal.Change, want []signal.Commit) {
	t.Helper()
	commits := make([]signal.Commit, len(got))
	for i := range got {
		commits[i] = got[i].Commit
	}
	if len(got) != len(want) {
		var gs, ws []string
		for _, c := range commits {
			gs = append(gs, fmt.Sprintf("%s@%d", c.Stream, c.Version))
		}
		for _, c := range want {
			ws = append(ws, fmt.Sprintf("%s@%d", c.Stream, c.Version))
		}
		t.Fatalf("%s returned %d commits %v, want %d %v", what, len(got), gs, len(want), ws)
	}
	for i := range want {
		if d := DiffCommit(want[i], commits[i]); d != "" {
			t.Errorf("%s: change %d differs from the commit appended:\n%s", what, i, d)
		}
	}
}

func (s *suite) testFeedAllInOrder(t *testing.T) {
	st, f := ability[signal.ChangeFeed](t, s)
	a := signal.StreamID{Type: "cart", ID: "a"}
	b := signal.StreamID{Type: "cart", ID: "b"}
	c := signal.StreamID{Type: "order", ID: "a"}
	var want []signal.Commit
	add := func(cm signal.Commit) {
		MustAppend(t, st, cm)
		want = append(want, cm)
	}
	add(Commit(a, 1, 1))
	add(Commit(b, 1, 2))
	add(Commit(a, 2, 1))
	add(Commit(c, 1, 3))
	add(Commit(b, 3, 1))
	final := Commit(a, 3, 2)
	final.Final = true
	add(final)
	// Appends that fail must not show up in the feed.
	if err := st.Append(t.Context(), Commit(a, 1, 3)); err == nil {
		t.Fatal("a conflicting Append succeeded")
	}
	if err := st.Append(t.Context(), Commit(a, 5, 1)); err == nil {
		t.Fatal("an Append to a closed stream succeeded")
	}
	if err := st.Append(t.Context(), signal.Commit{Stream: b, Version: 4}); err == nil {
		t.Fatal("an Append of no events succeeded")
	}
	big := Commit(c, 4, 1)
	big.Events[0].Data = jsonBlob(signal.MaxCommitBytes + 1)
	if err := st.Append(t.Context(), big); err == nil {
		t.Fatal("a too-large Append succeeded")
	}
	add(Commit(c, 4, 1))

	assertFeed(t, "Changes(after 0, limit 100)", changes(t, f, 0, 100), want)
}

// testFeedFingerprint: the feed carries Commit.Fingerprint, so a
// dispatcher or a copy of the log keeps it.
func (s *suite) testFeedFingerprint(t *testing.T) {
	st, f := ability[signal.ChangeFeed](t, s)
	want := fingerprinted(signal.StreamID{Type: "cart", ID: "fingerprint"})
	for _, c := range want {
		MustAppend(t, st, c)
	}
	assertFeed(t, "Changes(after 0, limit 100)", changes(t, f, 0, 100), want)
}

func (s *suite) testFeedResume(t *testing.T) {
	st, f := ability[signal.ChangeFeed](t, s)
	a := signal.StreamID{Type: "cart", ID: "a"}
	b := signal.StreamID{Type: "cart", ID: "b"}
	want := []signal.Commit{Commit(a, 1, 1), Commit(b, 1, 1), Commit(a, 2, 2), Commit(b, 2, 1)}
	for _, c := range want {
		MustAppend(t, st, c)
	}
	all := changes(t, f, 0, 100)
	assertFeed(t, "Changes(after 0)", all, want)
	for i, c := range all {
		assertFeed(t, fmt.Sprintf("Changes(after %d, the position of change %d)", c.Position, i), changes(t, f, c.Position, 100), want[i+1:])
	}

	last := all[len(all)-1].Position
	more := []signal.Commit{Commit(a, 4, 1), Commit(signal.StreamID{Type: "cart", ID: "c"}, 1, 1)}
	for _, c := range more {
		MustAppend(t, st, c)
	}
	newer := changes(t, f, last, 100)
	assertFeed(t, fmt.Sprintf("Changes(after %d, the last position before two more appends)", last), newer, more)
	if len(newer) > 0 && newer[0].Position <= last {
		t.Errorf("a later append got position %d, not after %d", newer[0].Position, last)
	}
	assertFeed(t, "Changes(after 0) at the end", changes(t, f, 0, 100), append(want, more...))
}

func (s *suite) testFeedLimit(t *testing.T) {
	st, f := ability[signal.ChangeFeed](t, s)
	var want []signal.Commit
	for i := range 7 {
		c := Commit(signal.StreamID{Type: "cart", ID: fmt.Sprintf("limit-%d", i%3)}, int64(i/3+1), 1)
		MustAppend(t, st, c)
		want = append(want, c)
	}
	all := changes(t, f, 0, 100)
	assertFeed(t, "Changes(after 0, limit 100)", all, want)
	for _, limit := range []int{1, 2, 3, 7, 8} {
		var got []signal.Change
		after := uint64(0)
		for page := 0; ; page++ {
			if page > len(want) {
				t.Fatalf("limit %d: more than %d pages", limit, len(want))
			}
			ch := changes(t, f, after, limit)
			if len(ch) == 0 {
				break
			}
			got = append(got, ch...)
			after = ch[len(ch)-1].Position
		}
		assertFeed(t, fmt.Sprintf("Changes paged with limit %d", limit), got, want)
		for i := range got {
			if got[i].Position != all[i].Position {
				t.Errorf("limit %d: change %d at position %d, but at %d when read in one page", limit, i, got[i].Position, all[i].Position)
			}
		}
	}
}

func (s *suite) testFeedWaitAtOnce(t *testing.T) {
	st, f := ability[signal.ChangeFeed](t, s)
	a := signal.StreamID{Type: "cart", ID: "a"}
	for _, c := range []signal.Commit{Commit(a, 1, 1), Commit(a, 2, 1), Commit(a, 3, 1)} {
		MustAppend(t, st, c)
	}
	all := changes(t, f, 0, 100)
	if len(all) != 3 {
		t.Fatalf("Changes(after 0) returned %d changes, want 3", len(all))
	}
	for _, after := range []uint64{0, all[0].Position, all[1].Position} {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		start := time.Now()
		err := f.WaitForChange(ctx, after)
		cancel()
		if err != nil {
			t.Errorf("WaitForChange(after %d) with newer changes = %v after %v, want nil at once", after, err, time.Since(start).Round(time.Millisecond))
		}
	}
}

// waitAsync starts WaitForChange and returns a channel with its result.
func waitAsync(ctx context.Context, f signal.ChangeFeed, after uint64) <-chan error {
	done := make(chan error, 1)
	go func() { done <- f.WaitForChange(ctx, after) }()
	return done
}

func (s *suite) testFeedWaitBlocks(t *testing.T) {
	st, f := ability[signal.ChangeFeed](t, s)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	a := signal.StreamID{Type: "cart", ID: "a"}

	after := uint64(0)
	for round, c := range []signal.Commit{Commit(a, 1, 1), Commit(signal.StreamID{Type: "cart", ID: "b"}, 1, 2), Commit(a, 2, 1)} {
		done := waitAsync(ctx, f, after)
		select {
		case err := <-done:
			t.Fatalf("round %d: WaitForChange(after %d) returned %v with no newer change; it must block", round, after, err)
		case <-time.After(100 * time.Millisecond):
		}
		MustAppend(t, st, c)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: WaitForChange(after %d) = %v after an append, want nil", round, after, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: WaitForChange(after %d) did not return within 10s of an append", round, after)
		}
		ch := changes(t, f, after, 100)
		assertFeed(t, fmt.Sprintf("round %d: Changes(after %d) once WaitForChange returned", round, after), ch, []signal.Commit{c})
		if len(ch) > 0 {
			after = ch[len(ch)-1].Position
		}
	}
}

func (s *suite) testFeedWaitCancelled(t *testing.T) {
	cases := []struct {
		name string
		ctx  func(parent context.Context) (context.Context, context.CancelFunc)
		want error
	}{
		{"cancelled while waiting", func(p context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(p)
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline while waiting", func(p context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(p, 50*time.Millisecond)
		}, context.DeadlineExceeded},
		{"already cancelled", func(p context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(p)
			cancel()
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, f := ability[signal.ChangeFeed](t, s)
			MustAppend(t, st, Commit(signal.StreamID{Type: "cart", ID: "a"}, 1, 1))
			last := changes(t, f, 0, 100)
			if len(last) != 1 {
				t.Fatalf("Changes(after 0) returned %d changes, want 1", len(last))
			}
			ctx, cancel := tc.ctx(t.Context())
			defer cancel()
			select {
			case err := <-waitAsync(ctx, f, last[0].Position):
				if !errors.Is(err, tc.want) {
					t.Errorf("WaitForChange with no newer change, %s = %v, want ctx.Err() (%v)", tc.name, err, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("WaitForChange did not return within 10s of its context ending (%s)", tc.name)
			}
		})
	}
}

// raceWinner returns the one worker whose call (op) succeeded among
// errs, racing from checkpoint 0, after checking that every other one
// lost with ErrConflict; it fails the test if none or several won.
func raceWinner(t *testing.T, errs []error, op string) int {
	t.Helper()
	winner := -1
	for w, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("workers %d and %d both committed (%s) from checkpoint 0; only one may", winner, w, op)
		case err == nil:
			winner = w
		default:
			wantErr(t, err, signal.ErrConflict, "%s of worker %d racing others from checkpoint 0", op, w)
		}
	}
	if winner < 0 {
		t.Fatalf("none of %d racing %s calls succeeded", len(errs), op)
	}
	return winner
}
