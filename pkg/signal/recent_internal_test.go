package signal

import (
	"fmt"
	"testing"
)

// TestRecentCommandsGrowToTheWindow: the window holds the latest commits
// up to its size, with no more room than twice what it holds, and never
// more than the window.
func TestRecentCommandsGrowToTheWindow(t *testing.T) {
	const window = 5
	var r recentCommands
	for k := 1; k <= 12; k++ {
		r.add(window, fmt.Sprint("c", k), "", int64(k), int64(k))
		held := min(k, window)
		if len(r.buf) != held || cap(r.buf) > window || cap(r.buf) > 2*held {
			t.Fatalf("after %d commits: %d held in room for %d, want %d in at most %d", k, len(r.buf), cap(r.buf), held, min(window, 2*held))
		}
		got := r.ordered()
		for i, c := range got {
			if want := fmt.Sprint("c", k-held+1+i); c.id != want {
				t.Fatalf("after %d commits: entry %d is %s, want %s", k, i, c.id, want)
			}
		}
		if _, ok := r.find(fmt.Sprint("c", k-held)); ok {
			t.Fatalf("after %d commits: c%d is still found", k, k-held)
		}
		if rc, ok := r.find(fmt.Sprint("c", k)); !ok || rc.first != int64(k) {
			t.Fatalf("after %d commits: the latest is not found: %+v", k, rc)
		}
	}
}

func TestRecentCommandsKeepNothingWithoutAWindow(t *testing.T) {
	var r recentCommands
	r.add(0, "c1", "", 1, 1)
	r.add(4, "", "", 2, 2)
	if len(r.buf) != 0 || cap(r.buf) != 0 {
		t.Fatalf("kept %d entries in room for %d, want none", len(r.buf), cap(r.buf))
	}
}
