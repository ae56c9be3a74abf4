package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// RunAfterClose checks what a store that can be closed promises: Close
// wakes a WaitForChange in progress with ErrUnavailable (stores with a
// change feed), a second Close is harmless (nil), and every method of
// the store and its abilities called afterwards fails with
// ErrUnavailable rather than panicking, hanging or answering as if the
// store were empty. newStore makes a fresh, empty store; closeStore
// closes it (for a Close without a result, return nil).
func RunAfterClose(t *testing.T, newStore func(t *testing.T) signal.Store, closeStore func(signal.Store) error) {
	t.Helper()
	st := newStore(t)
	id := signal.StreamID{Type: "cart", ID: "closed-store"}
	MustAppend(t, st, Commit(id, 1, 1))
	woken := waitBeforeClose(t, st)
	if err := closeStore(st); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	if woken != nil {
		select {
		case err := <-woken:
			wantErr(t, err, signal.ErrUnavailable, "WaitForChange woken by Close")
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not wake WaitForChange")
		}
	}
	if err := closeStore(st); err != nil {
		t.Errorf("a second Close = %v, want nil", err)
	}
	for name, err := range callsAfterClose(t, st, id) {
		wantErr(t, err, signal.ErrUnavailable, "%s after Close", name)
	}
}

// waitBeforeClose starts a WaitForChange past the store's last change,
// if it has a feed, and returns where its result will arrive (nil
// without a feed).
func waitBeforeClose(t *testing.T, st signal.Store) <-chan error {
	t.Helper()
	feed, ok := st.(signal.ChangeFeed)
	if !ok {
		return nil
	}
	ch := changes(t, feed, 0, 10)
	if len(ch) == 0 {
		t.Fatal("Changes after an Append returned nothing")
	}
	done := waitAsync(t.Context(), feed, ch[len(ch)-1].Position)
	time.Sleep(50 * time.Millisecond)
	return done
}

// callsAfterClose calls every method st has, with valid arguments, and
// returns their errors by name.
func callsAfterClose(t *testing.T, st signal.Store, id signal.StreamID) map[string]error {
	ctx := t.Context()
	errs := map[string]error{"Append": st.Append(ctx, Commit(id, 2, 1))}
	errs["Load"] = errors.New("the Load sequence yielded nothing")
	for _, err := range st.Load(ctx, id, 0) {
		errs["Load"] = err
	}
	if ss, ok := st.(signal.SnapshotStore); ok {
		_, errs["LoadSnapshot"] = ss.LoadSnapshot(ctx, id)
		errs["SaveSnapshot"] = ss.SaveSnapshot(ctx, signal.Snapshot{Stream: id, Version: 1, Data: []byte(`{}`)})
	}
	if cs, ok := st.(signal.CheckpointStore); ok {
		_, errs["LoadCheckpoint"] = cs.LoadCheckpoint(ctx, "p", id)
		errs["SaveCheckpoint"] = cs.SaveCheckpoint(ctx, "p", id, 0, 1)
		errs["RecordFailure"] = cs.RecordFailure(ctx, signal.Failure{Subscriber: "p", Stream: id, Version: 1, Attempts: 1, Error: "boom", Time: baseTime})
		_, errs["Failures"] = cs.Failures(ctx)
	}
	if vs, ok := st.(signal.ViewStore); ok {
		_, errs["LoadView"] = vs.LoadView(ctx, "v", "k")
		errs["CommitViews"] = vs.CommitViews(ctx, signal.ViewCommit{Subscriber: "p", Stream: id, From: 0, To: 1})
		errs["DropView"] = vs.DropView(ctx, "v", "p")
	}
	if feed, ok := st.(signal.ChangeFeed); ok {
		_, errs["Changes"] = feed.Changes(ctx, 0, 10)
		errs["WaitForChange"] = feed.WaitForChange(ctx, 1<<40)
	}
	if ls, ok := st.(signal.LogScanner); ok {
		errs["ScanCommits"] = ls.ScanCommits(ctx, 1, func(context.Context, []signal.Commit) error { return nil })
	}
	return errs
}
