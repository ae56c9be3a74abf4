package storetest

import (
	"fmt"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// RunLatestLoader runs the conformance tests of signal.LatestLoader against
// stores made by newStore (each subtest gets a fresh, empty store). It
// fails at once if the first store lacks the ability. Every test compares
// LoadLatest with what LoadSnapshot and Load answer on the same store, for
// several values of expect, the guess of commits after the snapshot, since
// the guess may change how a store reads but never what it returns.
func RunLatestLoader(t *testing.T, newStore func(t *testing.T) signal.Store) {
	t.Helper()
	s := &suite{newStore: newStore}
	if probe := s.store(t); !is[signal.LatestLoader](probe) {
		t.Fatalf("%T does not implement signal.LatestLoader", probe)
	}
	for _, tc := range []namedTest{
		{"Missing", s.testLatestMissing},
		{"NoSnapshot", s.testLatestNoSnapshot},
		{"AfterSnapshot", s.testLatestAfterSnapshot},
		{"SnapshotAtEnd", s.testLatestSnapshotAtEnd},
		{"ShortGuess", s.testLatestShortGuess},
		{"Closed", s.testLatestClosed},
		{"NewestSnapshot", s.testLatestNewest},
		{"PerStream", s.testLatestPerStream},
		{"BreakEarly", s.testLatestBreakEarly},
		{"InvalidStream", s.testLatestUnreadable},
	} {
		t.Run(tc.name, tc.fn)
	}
}

// guesses are the expect values every test tries: no guess, far too few,
// about right, far too many.
var guesses = []int{0, 1, 4, 1000}

// latest collects LoadLatest, failing the test on an error.
func latest(t *testing.T, ll signal.LatestLoader, stream signal.StreamID, expect int) (signal.Snapshot, bool, []signal.Commit) {
	t.Helper()
	snap, found, commits := ll.LoadLatest(t.Context(), stream, expect)
	var out []signal.Commit
	for c, err := range commits {
		if err != nil {
			t.Fatalf("LoadLatest(%s, expect %d) yielded error %v after %d commits", sname(stream), expect, err, len(out))
		}
		out = append(out, c)
	}
	return snap, found, out
}

// assertLatest checks LoadLatest for every guess: no snapshot and every
// commit when want is nil, else want and the commits after it.
func assertLatest(t *testing.T, ll signal.LatestLoader, stream signal.StreamID, want *signal.Snapshot, history []signal.Commit) {
	t.Helper()
	after := int64(0)
	if want != nil {
		after = want.Version
	}
	var wantCommits []signal.Commit
	for _, c := range history {
		if c.Version > after {
			wantCommits = append(wantCommits, c)
		}
	}
	for _, expect := range guesses {
		snap, found, got := latest(t, ll, stream, expect)
		what := fmt.Sprintf("LoadLatest(%s, expect %d)", sname(stream), expect)
		switch {
		case want == nil && found:
			t.Errorf("%s found a snapshot at version %d, want none", what, snap.Version)
		case want != nil && !found:
			t.Errorf("%s found no snapshot, want the one at version %d", what, want.Version)
		case want != nil:
			checkSnapshot(t, what, snap, *want)
		}
		assertCommits(t, what, got, wantCommits)
	}
}

// checkSnapshot reports how got differs from want.
func checkSnapshot(t *testing.T, what string, got, want signal.Snapshot) {
	t.Helper()
	if got.Stream != want.Stream || got.Version != want.Version || got.SchemaVersion != want.SchemaVersion {
		t.Errorf("%s: snapshot of %s at version %d, schema %d; want %s, %d, %d", what,
			sname(got.Stream), got.Version, got.SchemaVersion, sname(want.Stream), want.Version, want.SchemaVersion)
	}
	if string(got.Data) != string(want.Data) {
		t.Errorf("%s: snapshot Data = %s, want %s (must be kept byte for byte)", what, showBytes(got.Data), showBytes(want.Data))
	}
	if msg := diffTime(want.Time, got.Time); msg != "" {
		t.Errorf("%s: snapshot Time: %s", what, msg)
	}
}

func (s *suite) testLatestMissing(t *testing.T) {
	_, ll := ability[signal.LatestLoader](t, s)
	assertLatest(t, ll, signal.StreamID{Type: "cart", ID: "never-written"}, nil, nil)
}

func (s *suite) testLatestNoSnapshot(t *testing.T) {
	st, ll := ability[signal.LatestLoader](t, s)
	stream := signal.StreamID{Type: "cart", ID: "latest-none"}
	history := appendHistory(t, st, stream, 1, 3, 1, 2, 1, 1, 1)
	assertLatest(t, ll, stream, nil, history)
}

func (s *suite) testLatestAfterSnapshot(t *testing.T) {
	st, ll := ability[signal.LatestLoader](t, s)
	stream := signal.StreamID{Type: "cart", ID: "latest-ünï 🛒"}
	history := appendHistory(t, st, stream, 2, 1, 3, 1, 1, 2, 1)
	snap := snapshot(stream, history[2].LastVersion(), 3, jsonPayloads[1])
	saveSnapshot(t, ll, snap)
	assertLatest(t, ll, stream, &snap, history)
}

func (s *suite) testLatestSnapshotAtEnd(t *testing.T) {
	st, ll := ability[signal.LatestLoader](t, s)
	stream := signal.StreamID{Type: "cart", ID: "latest-end"}
	history := appendHistory(t, st, stream, 1, 2, 1)
	snap := snapshot(stream, history[2].LastVersion(), 1, jsonBlob(300*1024))
	saveSnapshot(t, ll, snap)
	assertLatest(t, ll, stream, &snap, history)
}

// testLatestShortGuess: many more commits after the snapshot than any
// guess, and than one page of a small store's reads.
func (s *suite) testLatestShortGuess(t *testing.T) {
	st, ll := ability[signal.LatestLoader](t, s)
	stream := signal.StreamID{Type: "cart", ID: "latest-long"}
	sizes := make([]int, 60)
	for i := range sizes {
		sizes[i] = 1 + i%3
	}
	history := appendHistory(t, st, stream, sizes...)
	snap := snapshot(stream, history[4].LastVersion(), 1, []byte(`{"at":"fifth"}`))
	saveSnapshot(t, ll, snap)
	assertLatest(t, ll, stream, &snap, history)
}

func (s *suite) testLatestClosed(t *testing.T) {
	st, ll := ability[signal.LatestLoader](t, s)
	stream := signal.StreamID{Type: "cart", ID: "latest-closed"}
	history := appendHistory(t, st, stream, 1, 2)
	final := Commit(stream, history[1].LastVersion()+1, 2)
	final.Final = true
	MustAppend(t, st, final)
	history = append(history, final)
	assertLatest(t, ll, stream, nil, history)
	snap := snapshot(stream, history[0].LastVersion(), 1, []byte(`{}`))
	saveSnapshot(t, ll, snap)
	assertLatest(t, ll, stream, &snap, history)
	if _, _, got := latest(t, ll, stream, 1); len(got) == 0 || !got[len(got)-1].Final {
		t.Errorf("LoadLatest(%s) of a closed stream did not end with the final commit", sname(stream))
	}
}

// testLatestNewest: LoadLatest returns what LoadSnapshot returns after
// newer and late, older saves.
func (s *suite) testLatestNewest(t *testing.T) {
	st, ll := ability[signal.LatestLoader](t, s)
	stream := signal.StreamID{Type: "cart", ID: "latest-newest"}
	history := appendHistory(t, st, stream, 1, 1, 1, 1, 1, 1, 1, 1)
	saveSnapshot(t, ll, snapshot(stream, 2, 1, []byte(`{"at":2}`)))
	newest := snapshot(stream, 6, 2, []byte(`{"at":6}`))
	saveSnapshot(t, ll, newest)
	saveSnapshot(t, ll, snapshot(stream, 4, 1, []byte(`{"at":4}`)))
	assertSnapshot(t, ll, newest)
	assertLatest(t, ll, stream, &newest, history)
}

// testLatestPerStream: streams whose keys are prefixes of each other, or
// concatenate alike, never share snapshots or commits.
func (s *suite) testLatestPerStream(t *testing.T) {
	st, ll := ability[signal.LatestLoader](t, s)
	streams := []signal.StreamID{{Type: "cart", ID: "a"}, {Type: "cart", ID: "ab"}, {Type: "carts", ID: "a"}, {Type: "a", ID: "bc"}, {Type: "ab", ID: "c"}}
	histories := make([][]signal.Commit, len(streams))
	for i, id := range streams {
		histories[i] = appendHistory(t, st, id, 1, i+1, 1)
	}
	snaps := make([]*signal.Snapshot, len(streams))
	for i, id := range streams {
		if i%2 == 0 {
			snap := snapshot(id, 1, i+1, fmt.Appendf(nil, `{"stream":%q}`, id.String()))
			saveSnapshot(t, ll, snap)
			snaps[i] = &snap
		}
	}
	for i, id := range streams {
		assertLatest(t, ll, id, snaps[i], histories[i])
	}
}

// testLatestBreakEarly: a caller may stop ranging at any point.
func (s *suite) testLatestBreakEarly(t *testing.T) {
	st, ll := ability[signal.LatestLoader](t, s)
	stream := signal.StreamID{Type: "cart", ID: "latest-break"}
	history := appendHistory(t, st, stream, 1, 1, 1, 1, 1, 1)
	saveSnapshot(t, ll, snapshot(stream, 2, 1, []byte(`{}`)))
	for _, expect := range guesses {
		_, _, commits := ll.LoadLatest(t.Context(), stream, expect)
		n := 0
		for c, err := range commits {
			if err != nil {
				t.Fatalf("LoadLatest(expect %d): %v", expect, err)
			}
			if n++; n == 2 {
				if c.Version != history[3].Version {
					t.Errorf("LoadLatest(expect %d): second commit at version %d, want %d", expect, c.Version, history[3].Version)
				}
				break
			}
		}
	}
}

// testLatestUnreadable: a stream no write can have stored has no snapshot
// and no commits, and reads no other stream's (the twin's).
func (s *suite) testLatestUnreadable(t *testing.T) {
	st, ll := ability[signal.LatestLoader](t, s)
	MustAppend(t, st, Commit(twin, 1, 1))
	saveSnapshot(t, ll, snapshot(twin, 1, 1, []byte(`{}`)))
	for _, id := range unreadableStreams {
		snap, found, commits := ll.LoadLatest(t.Context(), id, 4)
		var yielded []error
		for _, err := range commits {
			yielded = append(yielded, err)
		}
		if found || len(yielded) > 0 {
			t.Errorf("LoadLatest(%s) of an invalid stream = snapshot %v (version %d), %d pairs (errors %v); want none", sname(id), found, snap.Version, len(yielded), yielded)
		}
	}
}
