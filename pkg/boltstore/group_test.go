package boltstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// holdWrites starts a write that keeps the store's transaction open
// until the returned release is called, so that the writes made
// meanwhile queue for the next group. release waits for the held write
// to end and fails t if it failed.
func holdWrites(t *testing.T, s *Store) (release func()) {
	t.Helper()
	entered, unblock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := s.writes.run(func(*bolt.Tx) error {
			select {
			case <-entered:
			default:
				close(entered)
			}
			<-unblock
			return nil
		})
		done <- err
	}()
	<-entered
	return func() {
		close(unblock)
		if err := <-done; err != nil {
			t.Errorf("the held write: %v", err)
		}
	}
}

// waitQueued waits until n writes are queued behind the running group.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.writes.mu.Lock()
		queued := len(s.writes.queue)
		s.writes.mu.Unlock()
		if queued >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued after 10 s, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupShareOneTransaction: appends made while a transaction runs
// are all committed by the next one, together (one fsync for all), and
// each returns only after it: its commit and feed entry are readable.
func TestGroupShareOneTransaction(t *testing.T) {
	s := open(t, nil)
	ctx := context.Background()
	release := holdWrites(t, s)
	const n = 8
	var wg sync.WaitGroup
	txIDs, errs := make([]int, n), make([]error, n)
	for i := range n {
		wg.Go(func() {
			// Record the transaction each write ran in, beside an Append.
			_, errs[i] = s.writes.run(func(tx *bolt.Tx) error { txIDs[i] = tx.ID(); return nil })
		})
		wg.Go(func() {
			id := signal.StreamID{Type: "cart", ID: fmt.Sprint("g-", i)}
			if err := s.Append(ctx, storetest.Commit(id, 1, 1)); err != nil {
				t.Errorf("Append %v: %v", id, err)
			}
		})
	}
	waitQueued(t, s, 2*n)
	release()
	wg.Wait()
	for i := range n {
		if errs[i] != nil || txIDs[i] != txIDs[0] {
			t.Errorf("write %d ran in transaction %d (%v), want all in %d", i, txIDs[i], errs[i], txIDs[0])
		}
	}
	changes, err := s.Changes(ctx, 0, 100)
	if err != nil || len(changes) != n {
		t.Fatalf("Changes = %d changes, %v; want %d", len(changes), err, n)
	}
	for i, c := range changes {
		if c.Position != uint64(i+1) {
			t.Errorf("change %d has position %d, want %d", i, c.Position, i+1)
		}
	}
}

// TestGroupFailureAlone: an Append refused inside a group (a gap, a
// conflict) gets its own error and leaves no trace, while the others of
// its group are committed, and the feed stays dense.
func TestGroupFailureAlone(t *testing.T) {
	s := open(t, nil)
	ctx := context.Background()
	taken := signal.StreamID{Type: "cart", ID: "taken"}
	must(t, s.Append(ctx, storetest.Commit(taken, 1, 1)))
	release := holdWrites(t, s)
	ok := []signal.StreamID{{Type: "cart", ID: "a"}, {Type: "cart", ID: "b"}, {Type: "cart", ID: "c"}}
	gap := signal.StreamID{Type: "cart", ID: "gap"}
	var wg sync.WaitGroup
	okErrs := make([]error, len(ok))
	for i, id := range ok {
		wg.Go(func() { okErrs[i] = s.Append(ctx, storetest.Commit(id, 1, 1)) })
	}
	var gapErr, conflictErr error
	wg.Go(func() { gapErr = s.Append(ctx, storetest.Commit(gap, 2, 1)) })
	wg.Go(func() { conflictErr = s.Append(ctx, storetest.Commit(taken, 1, 1)) })
	waitQueued(t, s, len(ok)+2)
	release()
	wg.Wait()
	for i, err := range okErrs {
		if err != nil {
			t.Errorf("Append %v beside refused ones: %v", ok[i], err)
		}
		if got := storetest.LoadAll(t, s, ok[i], 0); len(got) != 1 {
			t.Errorf("%v has %d commits, want 1", ok[i], len(got))
		}
	}
	if !errors.Is(gapErr, signal.ErrInvalid) {
		t.Errorf("Append leaving a gap = %v, want ErrInvalid", gapErr)
	}
	if !errors.Is(conflictErr, signal.ErrConflict) {
		t.Errorf("Append at a taken version = %v, want ErrConflict", conflictErr)
	}
	if got := storetest.LoadAll(t, s, gap, 0); len(got) != 0 {
		t.Errorf("the refused stream has %d commits, want none", len(got))
	}
	changes, err := s.Changes(ctx, 0, 100)
	if err != nil || len(changes) != 1+len(ok) || changes[len(changes)-1].Position != uint64(1+len(ok)) {
		t.Errorf("Changes = %+v, %v; want positions 1..%d", changes, err, 1+len(ok))
	}
}

// TestGroupPanicAlone: a write that panics inside a group panics in its
// own caller's goroutine, with its own value, and the others of its
// group are committed.
func TestGroupPanicAlone(t *testing.T) {
	s := open(t, nil)
	ctx := context.Background()
	release := holdWrites(t, s)
	id := signal.StreamID{Type: "cart", ID: "beside-a-panic"}
	var wg sync.WaitGroup
	var recovered any
	var appendErr error
	wg.Go(func() {
		defer func() { recovered = recover() }()
		s.writes.run(func(*bolt.Tx) error { panic("boom") })
	})
	wg.Go(func() { appendErr = s.Append(ctx, storetest.Commit(id, 1, 1)) })
	waitQueued(t, s, 2)
	release()
	wg.Wait()
	if recovered != "boom" {
		t.Errorf("the panicking write's caller recovered %v, want boom", recovered)
	}
	if appendErr != nil {
		t.Errorf("Append beside a panic: %v", appendErr)
	}
	if got := storetest.LoadAll(t, s, id, 0); len(got) != 1 {
		t.Errorf("%v has %d commits, want 1", id, len(got))
	}
}

// TestGroupClose: Close while writes are queued returns, and each
// queued write either committed or failed with ErrUnavailable; none
// hangs.
func TestGroupClose(t *testing.T) {
	s := open(t, nil)
	ctx := context.Background()
	release := holdWrites(t, s)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Append(ctx, storetest.Commit(signal.StreamID{Type: "cart", ID: fmt.Sprint("c-", i)}, 1, 1))
		})
	}
	waitQueued(t, s, n)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	release()
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, signal.ErrUnavailable) {
			t.Errorf("queued Append %d at Close = %v, want nil or ErrUnavailable", i, err)
		}
	}
}
