package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

func (s *suite) storeTests() []namedTest {
	return []namedTest{
		{"AppendLoadRoundTrip", s.testRoundTrip},
		{"LoadAfter", s.testLoadAfter},
		{"LoadBreakEarly", s.testLoadBreakEarly},
		{"LoadCancelledContext", s.testLoadCancelled},
		{"EmptyStream", s.testEmptyStream},
		{"ContiguousVersions", s.testContiguousVersions},
		{"Conflict", s.testConflict},
		{"ConflictSameCommandID", s.testConflictSameCommandID},
		{"Fingerprint", s.testFingerprint},
		{"Actor", s.testActor},
		{"AtomicCommits", s.testAtomic},
		{"TooLarge", s.testTooLarge},
		{"LargeCommitFits", s.testLargeCommitFits},
		{"Invalid", s.testInvalid},
		{"Closed", s.testClosed},
		{"ClosedAndTaken", s.testClosedAndTaken},
		{"InvalidMetadata", s.testInvalidMetadata},
		{"MetadataLimits", s.testMetadataLimits},
		{"ConcurrentAppenders", s.testConcurrentAppenders},
		{"StreamIDs", s.testStreamIDs},
		{"LoadInvalidStream", s.testReadUnreadable},
	}
}

// testRoundTrip: every field of Commit and RawEvent survives Append and Load.
func (s *suite) testRoundTrip(t *testing.T) {
	stream := signal.StreamID{Type: "cart", ID: "round-trip"}
	cases := []struct {
		name    string
		commits func() []signal.Commit
	}{
		{"every field set", func() []signal.Commit {
			c1 := Commit(stream, 1, 3)
			c1.Events[0].SchemaVersion, c1.Events[1].SchemaVersion, c1.Events[2].SchemaVersion = 1, 2, 7
			c1.Events[1].Name = "ItemRemoved"
			c1.Actor = "auth0|5f7c8ec7c33c6c004bbafe82"
			c2 := Commit(stream, 4, 1)
			c2.Actor = "policy:open-order"
			c2.Events[0].Name = "PurchaseCompleted"
			return []signal.Commit{c1, c2}
		}},
		{"optional fields empty", func() []signal.Commit {
			c := Commit(stream, 1, 1)
			c.CorrelationID, c.CausationID = "", ""
			c.Events[0].Data = []byte(`{}`)
			return []signal.Commit{c}
		}},
		{"json payloads byte for byte", func() []signal.Commit {
			c := Commit(stream, 1, len(jsonPayloads))
			for i := range c.Events {
				c.Events[i].Data = jsonPayloads[i]
			}
			return []signal.Commit{c}
		}},
		{"one payload per commit", func() []signal.Commit {
			var cs []signal.Commit
			for i, p := range jsonPayloads {
				c := Commit(stream, int64(i+1), 1)
				c.Events[0].Data = p
				cs = append(cs, c)
			}
			return cs
		}},
		{"odd metadata strings", func() []signal.Commit {
			c := Commit(stream, 1, 2)
			c.CommandID = "Idempotency-Key: ünïcødé 購物車 🛒 with spaces, #hash, /slash, 'quotes\" and %percent_" + strings.Repeat("k", 100)
			c.CorrelationID = "corr/with/slashes#and#hashes"
			c.CausationID = signal.NewID()
			c.Actor = "arn:aws:sts::123456789012:assumed-role/Räte Ünïcødé/session name #1"
			c.Events[0].ID = "event id with spaces and ünïcødé"
			c.Events[1].Name = "Order.Placed_v2-x"
			return []signal.Commit{c}
		}},
		{"time precision", func() []signal.Commit {
			c1 := Commit(stream, 1, 1)
			c1.Time = time.Date(2026, 1, 1, 0, 0, 0, 999_000_000, time.UTC) // whole milliseconds
			c2 := Commit(stream, 2, 1)
			c2.Time = time.Date(1999, 12, 31, 23, 59, 59, 1_400_000, time.UTC) // 1.4 ms
			c3 := Commit(stream, 3, 1)
			c3.Time = time.Now().UTC().Truncate(time.Millisecond).Add(333_333) // now, plus a third of a millisecond
			return []signal.Commit{c1, c2, c3}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			want := tc.commits()
			for _, c := range want {
				MustAppend(t, st, c)
			}
			assertHistory(t, st, stream, want)
		})
	}
}

// testLoadAfter: Load(after) returns only commits with Version > after, in order.
func (s *suite) testLoadAfter(t *testing.T) {
	st := s.store(t)
	stream := signal.StreamID{Type: "cart", ID: "load-after"}
	// Commits at versions 1, 2 (2-4), 5 and 6 (6-7).
	all := appendHistory(t, st, stream, 1, 3, 1, 2)
	// Another stream whose key is an extension of this one must not show up.
	appendHistory(t, st, signal.StreamID{Type: "cart", ID: "load-after-2"}, 2, 2)

	for _, tc := range []struct {
		after int64
		want  []int64 // versions
	}{
		{0, []int64{1, 2, 5, 6}},
		{1, []int64{2, 5, 6}},
		{2, []int64{5, 6}}, // the commit 2-4 starts at 2, so it is not after 2
		{3, []int64{5, 6}}, // after a version inside a commit: only commits starting after it
		{4, []int64{5, 6}},
		{5, []int64{6}},
		{6, nil},
		{7, nil},
		{8, nil},
		{1000, nil},
	} {
		got := LoadAll(t, st, stream, tc.after)
		var want []signal.Commit
		for _, c := range all {
			for _, v := range tc.want {
				if c.Version == v {
					want = append(want, c)
				}
			}
		}
		if len(got) != len(want) {
			t.Errorf("Load(%s, after %d) returned versions %v, want %v (the commits whose Version > after, in order)", sname(stream), tc.after, versions(got), tc.want)
			continue
		}
		for i := range want {
			if d := DiffCommit(want[i], got[i]); d != "" {
				t.Errorf("Load(%s, after %d): commit %d differs:\n%s", sname(stream), tc.after, i, d)
			}
		}
	}
}

// testLoadBreakEarly: breaking out of Load's loop is fine and leaves the
// store usable.
func (s *suite) testLoadBreakEarly(t *testing.T) {
	st := s.store(t)
	stream := signal.StreamID{Type: "cart", ID: "break-early"}
	all := appendHistory(t, st, stream, 1, 2, 1, 1, 3)

	for _, stop := range []int{1, 2, 4} {
		var got []signal.Commit
		for c, err := range st.Load(t.Context(), stream, 0) {
			if err != nil {
				t.Fatalf("Load(%s, after 0) yielded %v", sname(stream), err)
			}
			got = append(got, c)
			if len(got) == stop {
				break
			}
		}
		assertCommits(t, fmt.Sprintf("Load(%s, after 0) stopped after %d", sname(stream), stop), got, all[:stop])
	}

	// The abandoned loops must not hold anything an Append needs.
	next := Commit(stream, all[len(all)-1].LastVersion()+1, 1)
	done := make(chan error, 1)
	go func() { done <- st.Append(t.Context(), next) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Append after breaking out of Load loops = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Append after breaking out of Load loops did not return within 10s: does Load keep a lock or connection after its loop ends early?")
	}
	assertHistory(t, st, stream, append(all, next))
}

// testLoadCancelled: with a cancelled context Load yields an error (once,
// last) or the whole history, never silently a part of it: an empty or
// short result would pass for a missing or shorter stream.
func (s *suite) testLoadCancelled(t *testing.T) {
	st := s.store(t)
	stream := signal.StreamID{Type: "cart", ID: "cancelled"}
	all := appendHistory(t, st, stream, 1, 2, 1)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var got []signal.Commit
	var loadErr error
	for c, err := range st.Load(ctx, stream, 0) {
		if loadErr != nil {
			t.Fatalf("Load with a cancelled context yielded a pair after its error %v; the error must be the last pair", loadErr)
		}
		if err != nil {
			loadErr = err
			continue
		}
		got = append(got, c)
	}
	if loadErr != nil {
		t.Logf("Load with a cancelled context: %v (kind %s)", loadErr, signal.KindOf(loadErr))
		return
	}
	assertCommits(t, "Load with a cancelled context (no error, so it must be complete)", got, all)
}

// testEmptyStream: a stream never written to yields nothing, with no error.
func (s *suite) testEmptyStream(t *testing.T) {
	st := s.store(t)
	missing := signal.StreamID{Type: "cart", ID: "a"}
	// Neighbours whose keys extend or contain the missing one.
	appendHistory(t, st, signal.StreamID{Type: "cart", ID: "ab"}, 1)
	appendHistory(t, st, signal.StreamID{Type: "carts", ID: "a"}, 1)
	appendHistory(t, st, signal.StreamID{Type: "car", ID: "ta"}, 1)

	for _, after := range []int64{0, 1, 10} {
		if got := LoadAll(t, st, missing, after); len(got) != 0 {
			t.Errorf("Load(never-written %s, after %d) returned versions %v of stream %s, want nothing", sname(missing), after, versions(got), sname(got[0].Stream))
		}
	}
	if ss, ok := st.(signal.SnapshotStore); ok {
		_, err := ss.LoadSnapshot(t.Context(), missing)
		wantErr(t, err, signal.ErrNotFound, "LoadSnapshot(never-written %s)", sname(missing))
	}
	if cs, ok := st.(signal.CheckpointStore); ok {
		cp, err := cs.LoadCheckpoint(t.Context(), "projector", missing)
		if err != nil || cp.Version != 0 || cp.Failure != nil {
			t.Errorf("LoadCheckpoint(never-written %s) = %+v, %v; want version 0, no failure, nil", sname(missing), cp, err)
		}
	}
}

// testContiguousVersions: many commits, several of many events, number
// their events contiguously.
func (s *suite) testContiguousVersions(t *testing.T) {
	st := s.store(t)
	stream := signal.StreamID{Type: "cart", ID: "contiguous"}
	// A commit of 3 events at version 1, then the next one at version 4, ...
	sizes := []int{3, 1, 2, 5, 1, 1, 4, 1, 10, 2, 1, 3, 1, 1, 7, 1, 2, 1, 1, 6}
	want := appendHistory(t, st, stream, sizes...)
	if want[1].Version != 4 {
		t.Fatalf("fixture: second commit at version %d, want 4", want[1].Version)
	}

	got := LoadAll(t, st, stream, 0)
	assertCommits(t, fmt.Sprintf("Load(%s, after 0)", sname(stream)), got, want)
	next := int64(1)
	for _, c := range got {
		if c.Version != next {
			t.Errorf("commit at version %d, want %d: versions must be contiguous across commits", c.Version, next)
		}
		next = c.LastVersion() + 1
	}
	// Resuming from the end of every commit returns exactly the rest.
	for i, c := range want {
		assertCommits(t, fmt.Sprintf("Load(%s, after %d)", sname(stream), c.LastVersion()), LoadAll(t, st, stream, c.LastVersion()), want[i+1:])
	}
}

// checkConflict checks err is the conflict of c against winner on an
// open stream.
func checkConflict(t *testing.T, err error, c, winner signal.Commit) {
	t.Helper()
	checkConflictOn(t, err, c, winner, false)
}

// checkConflictOn checks err is the conflict of c against winner; closed
// says the stream was closed since (the conflict wins: ErrClosed must not
// match either way).
func checkConflictOn(t *testing.T, err error, c, winner signal.Commit, closed bool) {
	t.Helper()
	what := fmt.Sprintf("Append(%s, version %d) over an existing commit", sname(c.Stream), c.Version)
	if closed {
		what += " of a closed stream"
	}
	if errors.Is(err, signal.ErrClosed) {
		if closed {
			t.Errorf("%s = %v matches signal.ErrClosed: a taken version is a conflict carrying the commit there, closed or not (signal.Store.Append)", what, err)
		} else {
			t.Errorf("%s = %v matches signal.ErrClosed, but the stream is open", what, err)
		}
	}
	if !wantErr(t, err, signal.ErrConflict, "%s", what) {
		return
	}
	if c.Version == 1 {
		wantErr(t, err, signal.ErrExists, "%s (version 1)", what)
	} else if errors.Is(err, signal.ErrExists) {
		t.Errorf("%s = %v matches signal.ErrExists; only a conflict at version 1 (a create) may", what, err)
	}
	var se *signal.Error
	if !errors.As(err, &se) || se.Conflict == nil {
		t.Errorf("%s = %v (%T) has no signal.Conflict: build it with signal.AppendConflict (or signal.DecideAppend)", what, err, err)
		return
	}
	if se.Stream != c.Stream || se.Conflict.Version != c.Version {
		t.Errorf("%s: a conflict naming %s at version %d, want %s at %d", what, sname(se.Stream), se.Conflict.Version, sname(c.Stream), c.Version)
	}
	ex := se.Conflict.Existing
	if ex == nil {
		t.Logf("%s: the conflict carries no Existing commit, so the Service cannot see the winning commit without a read", what)
		return
	}
	if ex.CommandID != winner.CommandID {
		t.Errorf("%s: Conflict.Existing.CommandID = %q, want the winner's %q", what, ex.CommandID, winner.CommandID)
	}
	if d := DiffCommit(winner, *ex); d != "" {
		t.Errorf("%s: Conflict.Existing is not the commit that won:\n%s", what, d)
	}
}

// testConflict: a second append at a taken version fails and changes nothing.
func (s *suite) testConflict(t *testing.T) {
	cases := []struct {
		name    string
		history []int // event counts of the commits already there
		at      int   // index of the commit the loser collides with
		loser   int   // events in the losing commit
	}{
		{"create race at version 1", []int{1}, 0, 1},
		{"create race, multi-event loser", []int{2}, 0, 3},
		{"race at a later version", []int{1, 1}, 1, 1},
		{"multi-event winner", []int{3, 2}, 1, 1},
		{"stale writer several commits behind", []int{1, 1, 1, 1, 1}, 2, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			stream := signal.StreamID{Type: "cart", ID: "conflict"}
			history := appendHistory(t, st, stream, tc.history...)
			winner := history[tc.at]
			loser := Commit(stream, winner.Version, tc.loser)
			checkConflict(t, st.Append(t.Context(), loser), loser, winner)
			assertHistory(t, st, stream, history)
		})
	}
}

// testConflictSameCommandID: retrying the very commit that was already
// written is a conflict whose Existing carries the same CommandID, which is
// how the Service recognises its own earlier write.
func (s *suite) testConflictSameCommandID(t *testing.T) {
	for _, tc := range []struct {
		name    string
		history []int
		retry   int // index of the commit retried
	}{
		{"retry of the first commit", []int{2}, 0},
		{"retry of a later commit", []int{1, 3, 1}, 1},
		{"retry of the latest commit", []int{1, 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			stream := signal.StreamID{Type: "cart", ID: "retry"}
			history := appendHistory(t, st, stream, tc.history...)
			orig := history[tc.retry]
			retry := orig // same CommandID, Version, events
			retry.Events = append([]signal.RawEvent(nil), orig.Events...)
			checkConflict(t, st.Append(t.Context(), retry), retry, orig)
			assertHistory(t, st, stream, history)

			got := LoadAll(t, st, stream, orig.Version-1)
			if len(got) == 0 || got[0].CommandID != orig.CommandID {
				t.Errorf("Load(%s, after %d): first commit's CommandID = %v, want %q", sname(stream), orig.Version-1, commandIDs(got), orig.CommandID)
			}
		})
	}
}

// fingerprinted returns commits with and without a Fingerprint, as the
// Service writes them: a base64url hash for caller-chosen command ids, none
// for generated ones; a final one too (DynamoDB writes those in a
// transaction, with a tombstone).
func fingerprinted(stream signal.StreamID) []signal.Commit {
	c1, c2, c3, c4 := Commit(stream, 1, 1), Commit(stream, 2, 2), Commit(stream, 4, 1), Commit(stream, 5, 1)
	c1.Fingerprint = "q1Zb0yJ4dXvWk3-_8aQy7w"
	c3.Fingerprint = "odd fingerprint: ünïcødé #/ \"quoted\""
	c4.Fingerprint, c4.Final = "AAAAAAAAAAAAAAAAAAAAAA", true
	return []signal.Commit{c1, c2, c3, c4}
}

// testFingerprint: Commit.Fingerprint survives Append and Load, and comes
// back in a conflict's Existing, where the Service compares it with the
// request of a command id another process used first.
func (s *suite) testFingerprint(t *testing.T) {
	st := s.store(t)
	stream := signal.StreamID{Type: "cart", ID: "fingerprint"}
	want := fingerprinted(stream)
	for _, c := range want {
		MustAppend(t, st, c)
	}
	assertHistory(t, st, stream, want)
	loser := Commit(stream, 1, 1)
	loser.CommandID, loser.Fingerprint = want[0].CommandID, "another request"
	checkConflict(t, st.Append(t.Context(), loser), loser, want[0])
	assertHistory(t, st, stream, want)
}

func commandIDs(cs []signal.Commit) []string {
	ids := make([]string, len(cs))
	for i := range cs {
		ids[i] = cs[i].CommandID
	}
	return ids
}

// testAtomic: a commit's events are written all together or not at all.
func (s *suite) testAtomic(t *testing.T) {
	t.Run("conflicting commit writes none of its events", func(t *testing.T) {
		st := s.store(t)
		stream := signal.StreamID{Type: "cart", ID: "atomic"}
		history := appendHistory(t, st, stream, 2) // versions 1-2
		loser := Commit(stream, 1, 5)              // would be 1-5
		checkConflict(t, st.Append(t.Context(), loser), loser, history[0])
		assertHistory(t, st, stream, history)
		// The stream is still at version 2: the next commit goes at 3.
		next := Commit(stream, 3, 2)
		MustAppend(t, st, next)
		assertHistory(t, st, stream, append(history, next))
	})
	t.Run("losing final commit does not close the stream", func(t *testing.T) {
		st := s.store(t)
		stream := signal.StreamID{Type: "cart", ID: "atomic-final"}
		history := appendHistory(t, st, stream, 1)
		loser := Commit(stream, 1, 1)
		loser.Final = true
		checkConflict(t, st.Append(t.Context(), loser), loser, history[0])
		next := Commit(stream, 2, 1)
		MustAppend(t, st, next)
		assertHistory(t, st, stream, append(history, next))
	})
	t.Run(fmt.Sprintf("%d events load back whole", signal.MaxEventsPerCommit), func(t *testing.T) {
		st := s.store(t)
		stream := signal.StreamID{Type: "cart", ID: "max-events"}
		big := Commit(stream, 1, signal.MaxEventsPerCommit)
		for i := range big.Events {
			big.Events[i].Data = jsonPayloads[i%len(jsonPayloads)]
			big.Events[i].Name = fmt.Sprintf("Event%03d", i)
		}
		MustAppend(t, st, big)
		next := Commit(stream, signal.MaxEventsPerCommit+1, 1)
		MustAppend(t, st, next)
		assertHistory(t, st, stream, []signal.Commit{big, next})
		assertCommits(t, fmt.Sprintf("Load(%s, after %d)", sname(stream), signal.MaxEventsPerCommit), LoadAll(t, st, stream, signal.MaxEventsPerCommit), []signal.Commit{next})
	})
}

// testTooLarge: a commit over the limits fails with ErrTooLarge and writes nothing.
func (s *suite) testTooLarge(t *testing.T) {
	cases := []struct {
		name   string
		events func(c *signal.Commit)
	}{
		{"one 400 KB event", func(c *signal.Commit) {
			c.Events = c.Events[:1]
			c.Events[0].Data = jsonBlob(400 * 1024)
		}},
		{"Size() one byte over MaxCommitBytes", func(c *signal.Commit) {
			c.Events = c.Events[:1]
			c.Events[0].Data = nil
			c.Events[0].Data = jsonBlob(signal.MaxCommitBytes + 1 - c.Size())
		}},
		{"two 200 KB events", func(c *signal.Commit) {
			c.Events = c.Events[:2]
			c.Events[0].Data = jsonBlob(200 * 1024)
			c.Events[1].Data = jsonBlob(200 * 1024)
		}},
		{fmt.Sprintf("%d small events", signal.MaxEventsPerCommit+1), func(c *signal.Commit) {
			*c = Commit(c.Stream, c.Version, signal.MaxEventsPerCommit+1)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			fresh := signal.StreamID{Type: "cart", ID: "too-large-new"}
			used := signal.StreamID{Type: "cart", ID: "too-large-used"}
			history := appendHistory(t, st, used, 1, 2)

			for _, c := range []signal.Commit{Commit(fresh, 1, 2), Commit(used, 4, 2)} {
				tc.events(&c)
				if c.Size() <= signal.MaxCommitBytes && len(c.Events) <= signal.MaxEventsPerCommit {
					t.Fatalf("fixture: commit of %d events, Size() %d is within the limits", len(c.Events), c.Size())
				}
				err := st.Append(t.Context(), c)
				wantErr(t, err, signal.ErrTooLarge, "Append(%s, version %d) of %d events, Size() %d", sname(c.Stream), c.Version, len(c.Events), c.Size())
				if errors.Is(err, signal.ErrConflict) {
					t.Errorf("Append of a too-large commit = %v also matches ErrConflict", err)
				}
			}
			assertHistory(t, st, fresh, nil)
			assertHistory(t, st, used, history)
			// The streams still take commits at the versions they were at.
			MustAppend(t, st, Commit(fresh, 1, 1))
			MustAppend(t, st, Commit(used, 4, 1))
		})
	}
}

// testLargeCommitFits: commits comfortably under the limits are accepted whole.
func (s *suite) testLargeCommitFits(t *testing.T) {
	cases := []struct {
		name   string
		commit func(stream signal.StreamID) signal.Commit
	}{
		{"one 300 KB event", func(stream signal.StreamID) signal.Commit {
			c := Commit(stream, 1, 1)
			c.Events[0].Data = jsonBlob(300 * 1024)
			return c
		}},
		{"three 100 KB events", func(stream signal.StreamID) signal.Commit {
			c := Commit(stream, 1, 3)
			for i := range c.Events {
				c.Events[i].Data = jsonBlob(100*1024 - i)
			}
			return c
		}},
		{fmt.Sprintf("%d events of 3 KB", signal.MaxEventsPerCommit), func(stream signal.StreamID) signal.Commit {
			c := Commit(stream, 1, signal.MaxEventsPerCommit)
			for i := range c.Events {
				c.Events[i].Data = jsonBlob(3*1024 + i)
			}
			return c
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			stream := signal.StreamID{Type: "cart", ID: "large"}
			c := tc.commit(stream)
			if c.Size() > signal.MaxCommitBytes-16*1024 {
				t.Fatalf("fixture: Size() %d is not comfortably below MaxCommitBytes %d", c.Size(), signal.MaxCommitBytes)
			}
			MustAppend(t, st, c)
			next := Commit(stream, c.LastVersion()+1, 1)
			MustAppend(t, st, next)
			assertHistory(t, st, stream, []signal.Commit{c, next})
		})
	}
}

// testInvalid: malformed commits fail with ErrInvalid and write nothing.
func (s *suite) testInvalid(t *testing.T) {
	good := signal.StreamID{Type: "cart", ID: "invalid"}
	cases := []struct {
		name   string
		mutate func(c *signal.Commit)
		// validStream: the stream is fine, so Load must show nothing written.
		validStream bool
	}{
		{"no events (nil)", func(c *signal.Commit) { c.Events = nil }, true},
		{"no events (empty slice)", func(c *signal.Commit) { c.Events = []signal.RawEvent{} }, true},
		{"version 0", func(c *signal.Commit) { c.Version = 0 }, true},
		{"negative version", func(c *signal.Commit) { c.Version = -1 }, true},
		{"empty id", func(c *signal.Commit) { c.Stream.ID = "" }, false},
		{"empty type", func(c *signal.Commit) { c.Stream.Type = "" }, false},
		{"id with '#'", func(c *signal.Commit) { c.Stream.ID = "a#b" }, false},
		{"id with '/'", func(c *signal.Commit) { c.Stream.ID = "a/b" }, false},
		{"id with a control character", func(c *signal.Commit) { c.Stream.ID = "a\nb" }, false},
		{"id of invalid UTF-8", func(c *signal.Commit) { c.Stream.ID = "a\xffb" }, false},
		{fmt.Sprintf("id of %d bytes", signal.MaxIDBytes+1), func(c *signal.Commit) { c.Stream.ID = strings.Repeat("z", signal.MaxIDBytes+1) }, false},
		{"type with '#'", func(c *signal.Commit) { c.Stream.Type = "cart#x" }, false},
		{"type starting with a digit", func(c *signal.Commit) { c.Stream.Type = "2cart" }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			c := Commit(good, 1, 1)
			tc.mutate(&c)
			wantErr(t, st.Append(t.Context(), c), signal.ErrInvalid, "Append(%s, version %d, %d events)", sname(c.Stream), c.Version, len(c.Events))
			assertHistory(t, st, good, nil)
			if tc.validStream {
				// Nothing was written: the stream is still new.
				first := Commit(good, 1, 1)
				MustAppend(t, st, first)
				assertHistory(t, st, good, []signal.Commit{first})
			}
		})
	}
}

// testClosed: after a Final commit, appends fail with ErrClosed and the
// history, final commit included, stays readable.
func (s *suite) testClosed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		history []int // the last commit is the final one
		next    int   // events in the refused commit
	}{
		{"final first commit", []int{1}, 1},
		{"final after history", []int{1, 2, 1}, 1},
		{"final multi-event commit", []int{2, 3}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			stream := signal.StreamID{Type: "cart", ID: "closed"}
			history := appendHistory(t, st, stream, tc.history[:len(tc.history)-1]...)
			v := int64(1)
			if len(history) > 0 {
				v = history[len(history)-1].LastVersion() + 1
			}
			final := Commit(stream, v, tc.history[len(tc.history)-1])
			final.Final = true
			MustAppend(t, st, final)
			history = append(history, final)

			for attempt := range 2 {
				next := Commit(stream, final.LastVersion()+1, tc.next)
				err := st.Append(t.Context(), next)
				wantErr(t, err, signal.ErrClosed, "Append(%s, version %d) after the final commit (attempt %d)", sname(stream), next.Version, attempt+1)
				if errors.Is(err, signal.ErrConflict) {
					t.Errorf("Append after the final commit = %v matches ErrConflict: the Service would retry instead of reporting the aggregate closed", err)
				}
			}
			got := LoadAll(t, st, stream, 0)
			assertCommits(t, fmt.Sprintf("Load(%s, after 0) of a closed stream", sname(stream)), got, history)
			if n := len(got); n > 0 && !got[n-1].Final {
				t.Errorf("the final commit loaded back with Final = false")
			}
		})
	}
}

// testConcurrentAppenders: writers racing on one stream, each reading the
// current version and retrying on conflict, produce a contiguous history
// holding every commit exactly once.
func (s *suite) testConcurrentAppenders(t *testing.T) {
	const writers, perWriter = 8, 25
	st := s.store(t)
	stream := signal.StreamID{Type: "cart", ID: "concurrent"}

	var wg sync.WaitGroup
	var conflicts sync.Map
	for w := range writers {
		wg.Go(func() {
			conflicts.Store(w, appendRacing(t, st, stream, w, perWriter, writers*perWriter*2))
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	got := LoadAll(t, st, stream, 0)
	if len(got) != writers*perWriter {
		t.Fatalf("Load(%s) returned %d commits, want %d", sname(stream), len(got), writers*perWriter)
	}
	checkRacedHistory(t, got, writers, perWriter)
	total := 0
	conflicts.Range(func(_, v any) bool { total += v.(int); return true })
	t.Logf("%d writers appended %d commits with %d conflicts", writers, len(got), total)
}

// appendRacing is writer w of testConcurrentAppenders: it appends
// perWriter one-event commits to stream, with command ids naming w and
// the commit, each after loading what it has not seen yet, retrying on
// a conflict up to maxAttempts times. It returns how many attempts lost
// to a conflict; an error, or too many attempts, is reported with
// t.Error and ends it.
func appendRacing(t *testing.T, st signal.Store, stream signal.StreamID, w, perWriter, maxAttempts int) int {
	ctx := t.Context()
	var known int64 // the last version this writer has seen
	lost := 0
	for i := range perWriter {
		for attempt := 0; ; attempt++ {
			if attempt > maxAttempts {
				t.Errorf("writer %d: commit %d still conflicting after %d attempts", w, i, attempt)
				return lost
			}
			for c, err := range st.Load(ctx, stream, known) {
				if err != nil {
					t.Errorf("writer %d: Load(after %d) = %v", w, known, err)
					return lost
				}
				if c.Version != known+1 {
					t.Errorf("writer %d: Load(after %d) returned version %d, want %d", w, known, c.Version, known+1)
					return lost
				}
				known = c.LastVersion()
			}
			c := Commit(stream, known+1, 1)
			c.CommandID = fmt.Sprintf("writer-%02d-commit-%03d", w, i)
			err := st.Append(ctx, c)
			if err == nil {
				known = c.LastVersion()
				break
			}
			if !errors.Is(err, signal.ErrConflict) {
				t.Errorf("writer %d: Append(version %d) = %v, want nil or a conflict", w, c.Version, err)
				return lost
			}
			if ce, _ := signal.ConflictOf(err); ce != nil && ce.Existing != nil && ce.Existing.CommandID == c.CommandID {
				// An earlier try of this very append landed and its
				// answer was lost (an SDK retry): it is stored, as the
				// Service would conclude (its ownCommit).
				known = ce.Existing.LastVersion()
				break
			}
			lost++
		}
	}
	return lost
}

// checkRacedHistory: got, the stream testConcurrentAppenders' writers
// appended to, holds versions 1, 2, ... of one event each, every
// writer's commit exactly once, each writer's in the order it appended.
func checkRacedHistory(t *testing.T, got []signal.Commit, writers, perWriter int) {
	t.Helper()
	seen := map[string]int64{}
	for i, c := range got {
		if c.Version != int64(i+1) || len(c.Events) != 1 {
			t.Errorf("commit %d: version %d with %d events, want version %d with 1 event", i, c.Version, len(c.Events), i+1)
		}
		if v, dup := seen[c.CommandID]; dup {
			t.Errorf("CommandID %q at versions %d and %d: each commit must be stored once", c.CommandID, v, c.Version)
		}
		seen[c.CommandID] = c.Version
	}
	for w := range writers {
		prev := int64(0)
		for i := range perWriter {
			id := fmt.Sprintf("writer-%02d-commit-%03d", w, i)
			v, ok := seen[id]
			switch {
			case !ok:
				t.Errorf("CommandID %q is missing from the stream", id)
			case v <= prev:
				t.Errorf("CommandID %q at version %d, not after the writer's previous commit at %d", id, v, prev)
			}
			prev = v
		}
	}
}

// testStreamIDs: odd but valid ids and types round-trip, and streams stay apart.
func (s *suite) testStreamIDs(t *testing.T) {
	streams := []signal.StreamID{
		{Type: "cart", ID: "ünïcødé-購物車"},
		{Type: "cart", ID: "with space"},
		{Type: "cart", ID: "emoji-🛒"},
		{Type: "cart", ID: "a.b-c_d"},
		{Type: "cart", ID: "x"},
		{Type: "cart", ID: "X"},
		{Type: "cart", ID: "x "},
		{Type: "cart", ID: " x"},
		{Type: "cart", ID: "a"},
		{Type: "cart", ID: "ab"},
		{Type: "cart", ID: "\u00e9"},  // é, precomposed
		{Type: "cart", ID: "e\u0301"}, // é, decomposed: a different id
		{Type: "cart", ID: `quote"apostrophe'backslash\percent%underscore_star*question?`},
		{Type: "cart", ID: "100%_"},
		{Type: "cart", ID: strings.Repeat("ü", signal.MaxIDBytes/2)},
		{Type: "cart", ID: strings.Repeat("z", signal.MaxIDBytes)},
		{Type: "order-v2", ID: "x"},
		{Type: "Order_v2.beta", ID: "x"},
		{Type: "a", ID: "bc"}, // "a"+"bc" and "ab"+"c" concatenate alike
		{Type: "ab", ID: "c"},
		{Type: "carts", ID: "x"},
	}
	checkDistinctValidStreams(t, streams)

	st := s.store(t)
	want := appendRoundRobin(t, st, streams)
	for i, id := range streams {
		assertHistory(t, st, id, want[i])
		if len(want[i]) > 1 {
			assertCommits(t, fmt.Sprintf("Load(%s, after %d)", sname(id), want[i][0].LastVersion()), LoadAll(t, st, id, want[i][0].LastVersion()), want[i][1:])
		}
	}
	// A conflict on one stream is not confused with another's commits.
	for i, id := range streams {
		loser := Commit(id, 1, 1)
		checkConflict(t, st.Append(t.Context(), loser), loser, want[i][0])
	}
}

// checkDistinctValidStreams stops the test if a fixture's stream type or
// id is not valid, or a stream is listed twice.
func checkDistinctValidStreams(t *testing.T, streams []signal.StreamID) {
	t.Helper()
	seen := map[signal.StreamID]bool{}
	for _, id := range streams {
		if err := signal.ValidateName(id.Type); err != nil {
			t.Fatalf("fixture: type %q: %v", id.Type, err)
		}
		if err := signal.ValidateID(id.ID); err != nil {
			t.Fatalf("fixture: id %q: %v", id.ID, err)
		}
		if seen[id] {
			t.Fatalf("fixture: %s twice", sname(id))
		}
		seen[id] = true
	}
}

// appendRoundRobin appends round-robin, so every stream is written
// between the others' commits: stream i gets i%3+1 commits, the one of
// round r holding r+1 events. It returns each stream's commits.
func appendRoundRobin(t *testing.T, st signal.Store, streams []signal.StreamID) [][]signal.Commit {
	t.Helper()
	want := make([][]signal.Commit, len(streams))
	next := make([]int64, len(streams))
	for round := range 3 {
		for i, id := range streams {
			if round > i%3 {
				continue
			}
			c := Commit(id, next[i]+1, round+1)
			MustAppend(t, st, c)
			want[i] = append(want[i], c)
			next[i] = c.LastVersion()
		}
	}
	return want
}
