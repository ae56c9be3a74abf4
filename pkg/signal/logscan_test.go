package signal_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// brokenFeed is a change feed whose every read fails.
type brokenFeed struct{ signal.ChangeFeed }

func (brokenFeed) Changes(context.Context, uint64, int) ([]signal.Change, error) {
	return nil, errors.New("the feed is broken")
}

// TestScanChangesPages: the feed is read from the beginning in pages of
// at most 500, one after the other, each commit once.
func TestScanChangesPages(t *testing.T) {
	st := memstore.New()
	const commits = 1201
	for i := range commits {
		storetest.MustAppend(t, st, storetest.Commit(signal.StreamID{Type: "cart", ID: fmt.Sprintf("c%d", i%7)}, int64(i/7+1), 1))
	}
	var pages []int
	seen := map[string]int{}
	err := signal.ScanChanges(t.Context(), st, func(_ context.Context, cs []signal.Commit) error {
		pages = append(pages, len(cs))
		for _, c := range cs {
			seen[fmt.Sprintf("%s@%d", c.Stream, c.Version)]++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ScanChanges = %v", err)
	}
	if fmt.Sprint(pages) != "[500 500 201]" {
		t.Errorf("pages of %v commits, want [500 500 201]", pages)
	}
	if len(seen) != commits {
		t.Errorf("%d distinct commits scanned, want %d", len(seen), commits)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("commit %s scanned %d times, want once", k, n)
		}
	}
}

func TestScanChangesStops(t *testing.T) {
	st := memstore.New()
	for v := range int64(3) {
		storetest.MustAppend(t, st, storetest.Commit(signal.StreamID{Type: "cart", ID: "c"}, v+1, 1))
	}
	stop := errors.New("stop")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	cases := []struct {
		name  string
		ctx   context.Context
		feed  signal.ChangeFeed
		fn    error
		want  error
		calls int // of fn
	}{
		{"fn's error is returned as is", t.Context(), st, stop, stop, 1},
		{"a feed failure is a store error", t.Context(), brokenFeed{st}, nil, signal.ErrInternal, 0},
		{"an ended context", cancelled, st, nil, signal.ErrUnavailable, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := signal.ScanChanges(tc.ctx, tc.feed, func(context.Context, []signal.Commit) error {
				calls++
				return tc.fn
			})
			if !errors.Is(err, tc.want) {
				t.Errorf("ScanChanges = %v, want %v", err, tc.want)
			}
			if calls != tc.calls {
				t.Errorf("fn called %d times, want %d", calls, tc.calls)
			}
		})
	}
}
