package boltstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// open opens a store in a new file under t.TempDir and closes it at the
// end of the test.
func open(t testing.TB, opts *Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "signal.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the whole suite with fsync on, as `signal dev` runs.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) signal.Store { return open(t, nil) })
}

// TestConformanceNoSync runs it again with NoSync, the option tests and
// benchmarks use, so both configurations are known to be correct.
func TestConformanceNoSync(t *testing.T) {
	if testing.Short() {
		t.Skip("the fsync run covers the same code")
	}
	storetest.Run(t, func(t *testing.T) signal.Store { return open(t, &Options{NoSync: true}) })
}

// TestReopen: everything written is there after Close and Open, and the
// feed goes on after its last position.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "signal.db") // Open creates the directories
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := signal.StreamID{Type: "cart", ID: "ünï 🛒"}
	b := signal.StreamID{Type: "order", ID: "o-1"}
	commits, snap := writeBeforeReopen(t, s, a, b)
	before, err := s.Changes(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Close())

	s, err = Open(path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	checkCommitsAfterReopen(t, s, commits, a, b)

	gotSnap, err := s.LoadSnapshot(ctx, a)
	if err != nil || gotSnap.Version != 3 || gotSnap.SchemaVersion != 2 || !bytes.Equal(gotSnap.Data, snap.Data) || !gotSnap.Time.Equal(snap.Time) {
		t.Errorf("LoadSnapshot after reopen = %+v, %v; want %+v", gotSnap, err, snap)
	}
	v, err := s.LoadView(ctx, "cart-summary", a.ID)
	if err != nil || v.Version != 2 || string(v.Data) != `{"total": 2.50}` {
		t.Errorf("LoadView after reopen = %+v, %v", v, err)
	}
	for _, tc := range []struct {
		sub  string
		id   signal.StreamID
		want int64
	}{{"proj", a, 4}, {"policy", b, 5}, {"proj", b, 0}} {
		if cp, err := s.LoadCheckpoint(ctx, tc.sub, tc.id); err != nil || cp.Version != tc.want {
			t.Errorf("LoadCheckpoint(%s, %s) after reopen = %d, %v; want %d", tc.sub, tc.id, cp.Version, err, tc.want)
		}
	}
	checkFeedAfterReopen(t, s, before, a)
}

// writeBeforeReopen writes to s what TestReopen reads back: five commits
// to a and b (b's last one final, at version 5), a snapshot of a at
// version 3, a view document written twice (version 2) with checkpoint
// proj/a at 4, and checkpoint policy/b at 5. It returns the commits in
// the order appended, and the snapshot.
func writeBeforeReopen(t *testing.T, s *Store, a, b signal.StreamID) ([]signal.Commit, signal.Snapshot) {
	t.Helper()
	ctx := context.Background()
	var commits []signal.Commit
	for _, c := range []signal.Commit{storetest.Commit(a, 1, 2), storetest.Commit(b, 1, 1), storetest.Commit(a, 3, 1), storetest.Commit(b, 2, 3)} {
		storetest.MustAppend(t, s, c)
		commits = append(commits, c)
	}
	final := storetest.Commit(b, 5, 1)
	final.Final = true
	storetest.MustAppend(t, s, final)
	commits = append(commits, final)

	snap := signal.Snapshot{Stream: a, Version: 3, SchemaVersion: 2, Data: []byte(`{"items": {"x":1}}`), Time: time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)}
	must(t, s.SaveSnapshot(ctx, snap))
	must(t, s.CommitViews(ctx, signal.ViewCommit{Subscriber: "proj", Stream: a, From: 0, To: 3, Writes: []signal.ViewWrite{
		{Name: "cart-summary", Key: a.ID, Data: []byte(`{"total": 1.50}`)},
	}}))
	must(t, s.CommitViews(ctx, signal.ViewCommit{Subscriber: "proj", Stream: a, From: 3, To: 4, Writes: []signal.ViewWrite{
		{Name: "cart-summary", Key: a.ID, Data: []byte(`{"total": 2.50}`), ExpectedVersion: 1},
	}}))
	must(t, s.SaveCheckpoint(ctx, "policy", b, 0, 5))
	return commits, snap
}

// checkCommitsAfterReopen: each stream holds its commits, in UTC; b is
// still closed; and a conflicting append to a finds the stored commit.
func checkCommitsAfterReopen(t *testing.T, s *Store, commits []signal.Commit, a, b signal.StreamID) {
	t.Helper()
	ctx := context.Background()
	for _, id := range []signal.StreamID{a, b} {
		var want []signal.Commit
		for _, c := range commits {
			if c.Stream == id {
				want = append(want, c)
			}
		}
		got := storetest.LoadAll(t, s, id, 0)
		if len(got) != len(want) {
			t.Fatalf("after reopen, %s has %d commits, want %d", id, len(got), len(want))
		}
		for i := range want {
			if storetest.DiffCommit(want[i], got[i]) != "" || got[i].Time.Location() != time.UTC {
				t.Errorf("after reopen, %s commit %d = %+v, want %+v", id, i, got[i], want[i])
			}
		}
	}
	if err := s.Append(ctx, storetest.Commit(b, 6, 1)); !errors.Is(err, signal.ErrClosed) {
		t.Errorf("Append to a closed stream after reopen = %v, want ErrClosed", err)
	}
	if err := s.Append(ctx, storetest.Commit(a, 3, 1)); !storetest.ConflictHolds(err, commits[2]) {
		t.Errorf("conflicting Append after reopen = %v, want a conflict holding the stored commit", err)
	}
}

// checkFeedAfterReopen: the feed holds the changes it held before, at
// the same positions; WaitForChange knows its end; and a new commit to a
// (at version 4) comes after the last position.
func checkFeedAfterReopen(t *testing.T, s *Store, before []signal.Change, a signal.StreamID) {
	t.Helper()
	ctx := context.Background()
	after, err := s.Changes(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("after reopen the feed has %d changes, want %d", len(after), len(before))
	}
	for i := range before {
		if after[i].Position != before[i].Position || storetest.DiffCommit(before[i].Commit, after[i].Commit) != "" {
			t.Errorf("feed change %d after reopen: position %d, want %d", i, after[i].Position, before[i].Position)
		}
	}
	last := before[len(before)-1].Position
	// WaitForChange knows the feed's end after a reopen: it returns at
	// once for an earlier position and blocks at the last one.
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.WaitForChange(wctx, last-1); err != nil {
		t.Errorf("WaitForChange(before the last position) after reopen = %v, want nil", err)
	}
	if err := s.WaitForChange(wctx, last); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitForChange(the last position) after reopen = %v, want it to block", err)
	}
	next := storetest.Commit(a, 4, 1)
	storetest.MustAppend(t, s, next)
	more, err := s.Changes(ctx, last, 100)
	if err != nil || len(more) != 1 || more[0].Position <= last || storetest.DiffCommit(next, more[0].Commit) != "" {
		t.Errorf("Changes(after %d) after reopen and one append = %v, %v; want the new commit at a later position", last, more, err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSecondOpenLocked: a second Open of a file in use fails with a clear
// error within the timeout, and works once the first is closed.
func TestSecondOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signal.db")
	first, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 200 * time.Millisecond
	start := time.Now()
	second, err := Open(path, &Options{Timeout: timeout})
	elapsed := time.Since(start)
	if err == nil {
		second.Close()
		t.Fatal("a second Open of a file in use succeeded")
	}
	if !errors.Is(err, signal.ErrUnavailable) || !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("second Open = %v (kind %s), want ErrUnavailable saying the file is locked", err, signal.KindOf(err))
	}
	// bbolt polls the lock every 50ms and gives up one poll early.
	if elapsed < timeout-100*time.Millisecond || elapsed > timeout+2*time.Second {
		t.Errorf("second Open returned after %v, want about the %v timeout", elapsed, timeout)
	}
	t.Logf("second Open after %v: %v", elapsed.Round(time.Millisecond), err)
	must(t, first.Close())
	second, err = Open(path, &Options{Timeout: timeout})
	if err != nil {
		t.Fatalf("Open after the first store closed = %v", err)
	}
	must(t, second.Close())
}

// TestOpenRefusesOtherFiles: a file that is not bbolt, or a bbolt file of
// another program, is refused and left as it was.
func TestOpenRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	content := bytes.Repeat([]byte("not a database "), 1000)
	must(t, os.WriteFile(garbage, content, 0o600))
	if s, err := Open(garbage, nil); err == nil {
		s.Close()
		t.Error("Open of a garbage file succeeded")
	} else {
		t.Logf("garbage file: %v", err)
	}
	if got, _ := os.ReadFile(garbage); !bytes.Equal(got, content) {
		t.Error("Open changed a file it refused")
	}

	foreign := filepath.Join(dir, "foreign.db")
	db, err := bolt.Open(foreign, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("theirs")); return err }))
	must(t, db.Close())
	if s, err := Open(foreign, nil); err == nil {
		s.Close()
		t.Error("Open of another program's bbolt file succeeded")
	} else {
		t.Logf("foreign file: %v", err)
	}

	if _, err := Open("", nil); !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("Open(\"\") = %v, want ErrInvalid", err)
	}
}

// TestAppendInsideLoad: Load holds no transaction while the caller's loop
// body runs, so appending inside it, even enough to grow the file's
// memory map, cannot deadlock; and a history longer than a page is
// returned whole and in order.
func TestAppendInsideLoad(t *testing.T) {
	s := open(t, &Options{NoSync: true})
	id := signal.StreamID{Type: "cart", ID: "long"}
	other := signal.StreamID{Type: "cart", ID: "other"}
	n := loadPageCommits*2 + 17
	for v := 1; v <= n; v++ {
		storetest.MustAppend(t, s, storetest.Commit(id, int64(v), 1))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		next, ov := int64(1), int64(1)
		for c, err := range s.Load(context.Background(), id, 0) {
			if err != nil {
				t.Errorf("Load: %v", err)
				return
			}
			if c.Version != next {
				t.Errorf("Load yielded version %d, want %d", c.Version, next)
				return
			}
			next++
			if c.Version%loadPageCommits == 3 || c.Version%97 == 0 {
				big := storetest.Commit(other, ov, 1)
				big.Events[0].Data = bytes.Repeat([]byte("x"), 300*1024)
				if err := s.Append(context.Background(), big); err != nil {
					t.Errorf("Append inside the Load loop: %v", err)
					return
				}
				ov++
			}
		}
		if next != int64(n+1) {
			t.Errorf("Load yielded up to version %d, want %d", next-1, n)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("appending inside a Load loop deadlocked")
	}
}

// TestOddKeys: the key encodings keep apart what the suite does not try.
func TestOddKeys(t *testing.T) {
	for _, id := range []signal.StreamID{{Type: "cart", ID: "a"}, {Type: "a", ID: "b c"}, {Type: "x", ID: "ü 🛒 #/"}, {}} {
		got, err := parseStreamKey(streamKey(id))
		if err != nil || got != id {
			t.Errorf("parseStreamKey(streamKey(%q)) = %q, %v", id, got, err)
		}
	}
	// An invalid stream whose key would contain a second 0x00 is refused on
	// writes and finds nothing on reads.
	s := open(t, &Options{NoSync: true})
	ctx := context.Background()
	valid := signal.StreamID{Type: "a", ID: "b"}
	storetest.MustAppend(t, s, storetest.Commit(valid, 1, 1))
	bad := signal.StreamID{Type: "a", ID: "b\x00"}
	if err := s.Append(ctx, storetest.Commit(bad, 1, 1)); !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("Append of an id with NUL = %v, want ErrInvalid", err)
	}
	if got := storetest.LoadAll(t, s, bad, 0); len(got) != 0 {
		t.Errorf("Load of an invalid stream found %d commits", len(got))
	}
	// Empty subscriber and view names and keys are refused, as by every store.
	err := s.CommitViews(ctx, signal.ViewCommit{Subscriber: "", Stream: valid, From: 0, To: 1,
		Writes: []signal.ViewWrite{{Name: "", Key: "", Data: []byte{}}}})
	if !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("CommitViews with empty names = %v, want ErrInvalid", err)
	}
	if _, err := s.LoadView(ctx, "", "x"); !errors.Is(err, signal.ErrNotFound) {
		t.Errorf("LoadView(\"\", \"x\") = %v, want ErrNotFound", err)
	}
	// A key bbolt cannot hold is ErrInvalid, not an internal error.
	err = s.CommitViews(ctx, signal.ViewCommit{Subscriber: "p", Stream: valid, From: 0, To: 1,
		Writes: []signal.ViewWrite{{Name: "v", Key: strings.Repeat("k", bolt.MaxKeySize), Data: []byte(`{}`)}}})
	if !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("CommitViews with a %d-byte key = %v, want ErrInvalid", bolt.MaxKeySize, err)
	}
}

// TestTimes: times before 1970 and the zero time keep their millisecond.
func TestTimes(t *testing.T) {
	for _, tm := range []time.Time{
		{},
		time.Date(1969, 12, 31, 23, 59, 59, 999_400_000, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 1_200_000, time.UTC),
		time.Date(2026, 3, 14, 15, 9, 26, 535_123_456, time.FixedZone("X", 3600)),
	} {
		got := fromMilli(unixMilli(tm))
		if !got.Equal(tm.Truncate(time.Millisecond)) || got.Location() != time.UTC {
			t.Errorf("time %v round-trips as %v, want %v in UTC", tm, got, tm.Truncate(time.Millisecond))
		}
	}
}

// TestCorruptValue: a damaged record is ErrInternal, not a panic.
func TestCorruptValue(t *testing.T) {
	s := open(t, &Options{NoSync: true})
	id := signal.StreamID{Type: "cart", ID: "c"}
	storetest.MustAppend(t, s, storetest.Commit(id, 1, 2))
	must(t, s.db.Update(func(tx *bolt.Tx) error {
		sb := tx.Bucket(bucketStreams).Bucket(streamKey(id))
		v := bytes.Clone(sb.Get(versionKey(1)))
		return sb.Put(versionKey(1), v[:len(v)-3])
	}))
	var err error
	for _, e := range s.Load(context.Background(), id, 0) {
		err = e
	}
	if !errors.Is(err, signal.ErrInternal) {
		t.Errorf("Load of a damaged commit = %v, want ErrInternal", err)
	}
	if _, err := s.Changes(context.Background(), 0, 10); !errors.Is(err, signal.ErrInternal) {
		t.Errorf("Changes over a damaged commit = %v, want ErrInternal", err)
	}
}

// TestFullFile: a write the file has no room for (Options.MaxSize, as a
// full disk) fails with ErrUnavailable and leaves no trace, neither in the
// stream nor in the feed, and the store stays readable.
func TestFullFile(t *testing.T) {
	s := open(t, &Options{NoSync: true, MaxSize: 4 << 20})
	ctx := context.Background()
	id := signal.StreamID{Type: "cart", ID: "big"}
	var appended []signal.Commit
	var err error
	for v := int64(1); v < 100; v++ {
		c := storetest.Commit(id, v, 1)
		c.Events[0].Data = bytes.Repeat([]byte{'a' + byte(v%26)}, 300*1024)
		if err = s.Append(ctx, c); err != nil {
			break
		}
		appended = append(appended, c)
	}
	if !errors.Is(err, signal.ErrUnavailable) {
		t.Fatalf("Append to a full file = %v (kind %s), want ErrUnavailable", err, signal.KindOf(err))
	}
	t.Logf("after %d commits of 300 KB: %v", len(appended), err)
	got := storetest.LoadAll(t, s, id, 0)
	if len(got) != len(appended) {
		t.Fatalf("Load after the failed append returned %d commits, want %d", len(got), len(appended))
	}
	for i := range got {
		if storetest.DiffCommit(appended[i], got[i]) != "" {
			t.Errorf("commit %d differs after the failed append", i)
		}
	}
	changes, err := s.Changes(ctx, 0, 1000)
	if err != nil || len(changes) != len(appended) {
		t.Fatalf("Changes after the failed append = %d changes, %v; want %d", len(changes), err, len(appended))
	}
	// WaitForChange was not woken for the failed append.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := s.WaitForChange(wctx, changes[len(changes)-1].Position); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitForChange after a failed append = %v, want it to block", err)
	}
}
