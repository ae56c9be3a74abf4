package dynstore

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

func TestScanCommits(t *testing.T) {
	st := newTestStore(t)
	for i := range 5 {
		seedTab(t, st, signal.StreamID{Type: "tab", ID: fmt.Sprint("s", i)}, 30)
	}
	// A snapshot is not a commit: the scan must skip it.
	if err := newService(t, st.Store).Snapshot(t.Context(), "tab", "s0"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	err := st.ScanCommits(t.Context(), 3, func(_ context.Context, cs []signal.Commit) error {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cs {
			k := fmt.Sprint(c.Stream, c.Version)
			if seen[k] {
				return fmt.Errorf("%s twice", k)
			}
			seen[k] = true
		}
		return nil
	})
	if err != nil || len(seen) != 150 {
		t.Fatalf("scanned %d commits, want 150 (%v)", len(seen), err)
	}
	boom := fmt.Errorf("stop")
	if err := st.ScanCommits(t.Context(), 2, func(context.Context, []signal.Commit) error { return boom }); err != boom {
		t.Fatalf("fn's error must stop the scan: %v", err)
	}
}
