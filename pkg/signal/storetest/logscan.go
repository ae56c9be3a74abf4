package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// ---- log scan ----

func (s *suite) scanTests() []namedTest {
	return []namedTest{
		{"Empty", s.testScanEmpty},
		{"EveryCommitOnce", s.testScanEveryCommitOnce},
		{"ErrorStops", s.testScanErrorStops},
		{"Cancelled", s.testScanCancelled},
	}
}

// scanAll runs ScanCommits with segments and returns the commits fn got,
// failing the test on an error or an empty page.
func scanAll(t *testing.T, ls signal.LogScanner, segments int) []signal.Commit {
	t.Helper()
	var mu sync.Mutex
	var got []signal.Commit
	empty := 0
	err := ls.ScanCommits(t.Context(), segments, func(_ context.Context, commits []signal.Commit) error {
		mu.Lock()
		defer mu.Unlock()
		if len(commits) == 0 {
			empty++
		}
		got = append(got, commits...)
		return nil
	})
	if err != nil {
		t.Fatalf("ScanCommits(segments %d) = %v, want nil", segments, err)
	}
	if empty > 0 {
		t.Errorf("ScanCommits(segments %d) called fn with %d empty page(s); it must not", segments, empty)
	}
	return got
}

// sortCommits orders commits by stream, then version, as the dispatcher
// would, so a scan's arbitrary order can be compared with what was appended.
func sortCommits(cs []signal.Commit) {
	slices.SortStableFunc(cs, func(a, b signal.Commit) int {
		return cmp.Or(cmp.Compare(a.Stream.Type, b.Stream.Type), cmp.Compare(a.Stream.ID, b.Stream.ID), cmp.Compare(a.Version, b.Version))
	})
}

func (s *suite) testScanEmpty(t *testing.T) {
	_, ls := ability[signal.LogScanner](t, s)
	if got := scanAll(t, ls, 0); len(got) != 0 {
		t.Errorf("ScanCommits of an empty store passed %d commits to fn, want none", len(got))
	}
}

// scanFixture appends commits over several streams and types, a final
// one, fingerprinted ones and ones with actors among them, plus appends the store refuses,
// and returns what was appended, sorted by stream and version.
func scanFixture(t *testing.T, st signal.Store) []signal.Commit {
	t.Helper()
	var want []signal.Commit
	for i := range 6 {
		typ := []string{"cart", "order"}[i%2]
		sizes := make([]int, i+1) // i+1 commits of 1 or 2 events
		for j := range sizes {
			sizes[j] = 1 + j%2
		}
		want = append(want, appendHistory(t, st, signal.StreamID{Type: typ, ID: fmt.Sprintf("scan-%d", i)}, sizes...)...)
	}
	for _, c := range fingerprinted(signal.StreamID{Type: "cart", ID: "scan-fingerprint"}) {
		MustAppend(t, st, c)
		want = append(want, c)
	}
	for _, c := range acted(signal.StreamID{Type: "order", ID: "scan-actor"}) {
		MustAppend(t, st, c)
		want = append(want, c)
	}
	// Refused appends must not show up in the scan.
	if err := st.Append(t.Context(), Commit(want[0].Stream, 1, 2)); err == nil {
		t.Fatal("a conflicting Append succeeded")
	}
	if err := st.Append(t.Context(), signal.Commit{Stream: want[0].Stream, Version: 2}); err == nil {
		t.Fatal("an Append of no events succeeded")
	}
	sortCommits(want)
	return want
}

func (s *suite) testScanEveryCommitOnce(t *testing.T) {
	st, ls := ability[signal.LogScanner](t, s)
	want := scanFixture(t, st)
	for _, segments := range []int{0, 1, 4} {
		t.Run(fmt.Sprintf("segments=%d", segments), func(t *testing.T) {
			got := scanAll(t, ls, segments)
			sortCommits(got)
			assertCommits(t, fmt.Sprintf("ScanCommits(segments %d), sorted by stream and version", segments), got, want)
		})
	}
}

// testScanErrorStops: fn's error stops the scan and is what it returns,
// and no fn runs after it returned.
func (s *suite) testScanErrorStops(t *testing.T) {
	st, ls := ability[signal.LogScanner](t, s)
	scanFixture(t, st)
	stop := errors.New("fn stops the scan")
	for _, segments := range []int{1, 4} {
		var calls, late atomic.Int32
		var returned atomic.Bool
		err := ls.ScanCommits(t.Context(), segments, func(context.Context, []signal.Commit) error {
			if returned.Load() {
				late.Add(1)
			}
			calls.Add(1)
			return stop
		})
		returned.Store(true)
		if !errors.Is(err, stop) {
			t.Errorf("ScanCommits(segments %d) with an fn that fails = %v, want fn's error", segments, err)
		}
		if segments == 1 && calls.Load() != 1 {
			t.Errorf("ScanCommits(segments 1) called fn %d times though the first call failed, want 1", calls.Load())
		}
		if n := late.Load(); n > 0 {
			t.Errorf("ScanCommits(segments %d) called fn %d time(s) after it returned", segments, n)
		}
	}
}

func (s *suite) testScanCancelled(t *testing.T) {
	st, ls := ability[signal.LogScanner](t, s)
	scanFixture(t, st)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	err := ls.ScanCommits(ctx, 1, func(context.Context, []signal.Commit) error {
		called = true
		return nil
	})
	wantErr(t, err, signal.ErrUnavailable, "ScanCommits with a cancelled context")
	if called {
		t.Error("ScanCommits with a cancelled context called fn")
	}
}
