package boltstore

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// TestGroupViewBatch: batches queued in one group behave as if they ran
// one after another in arrival order. A batch refused because the
// CommitViews before it moved a checkpoint it moves gets ErrConflict and
// leaves none of its writes, not even those that passed their checks,
// while the batch after it sees that CommitViews's document and commits.
func TestGroupViewBatch(t *testing.T) {
	s := open(t, nil)
	ctx := context.Background()
	shared := signal.StreamID{Type: "cart", ID: "shared"}
	own := signal.StreamID{Type: "cart", ID: "own"}
	b, c := signal.StreamID{Type: "cart", ID: "b"}, signal.StreamID{Type: "cart", ID: "c"}
	doc := func(key string, data string, expected int64) signal.ViewWrite {
		return signal.ViewWrite{Name: "sum", Key: key, Data: []byte(data), ExpectedVersion: expected}
	}
	release := holdWrites(t, s)
	var wg sync.WaitGroup
	var first, refused, after error
	wg.Go(func() {
		first = s.CommitViews(ctx, signal.ViewCommit{Subscriber: "p", Stream: shared, From: 0, To: 1,
			Writes: []signal.ViewWrite{doc("total", `{"n":1}`, 0)}})
	})
	waitQueued(t, s, 1)
	wg.Go(func() {
		refused = s.CommitViewBatch(ctx, signal.ViewBatch{Subscriber: "p",
			Moves:  []signal.CheckpointMove{{Stream: own, From: 0, To: 1}, {Stream: shared, From: 0, To: 1}},
			Writes: []signal.ViewWrite{doc("own", `{"own":1}`, 0)}})
	})
	waitQueued(t, s, 2)
	wg.Go(func() {
		after = s.CommitViewBatch(ctx, signal.ViewBatch{Subscriber: "p",
			Moves:  []signal.CheckpointMove{{Stream: b, From: 0, To: 2}, {Stream: c, From: 0, To: 3}},
			Writes: []signal.ViewWrite{doc("total", `{"n":2}`, 1)}})
	})
	waitQueued(t, s, 3)
	release()
	wg.Wait()

	if first != nil || after != nil {
		t.Fatalf("CommitViews = %v, the batch after the refused one = %v; want nil, nil", first, after)
	}
	if !errors.Is(refused, signal.ErrConflict) {
		t.Errorf("a batch moving a checkpoint the write before it moved = %v, want ErrConflict", refused)
	}
	cps, err := s.LoadCheckpoints(ctx, "p", []signal.StreamID{shared, own, b, c})
	if err != nil {
		t.Fatalf("LoadCheckpoints: %v", err)
	}
	for i, want := range []int64{1, 0, 2, 3} {
		if cps[i].Version != want {
			t.Errorf("checkpoint %d = %d, want %d", i, cps[i].Version, want)
		}
	}
	if v, err := s.LoadView(ctx, "sum", "total"); err != nil || v.Version != 2 || string(v.Data) != `{"n":2}` {
		t.Errorf("sum/total = version %d, %s, %v; want version 2 written by the last batch", v.Version, v.Data, err)
	}
	if _, err := s.LoadView(ctx, "sum", "own"); !errors.Is(err, signal.ErrNotFound) {
		t.Errorf("the refused batch's document: LoadView = %v, want ErrNotFound", err)
	}
}
