package signal_test

import (
	"errors"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// TestStaleProcessMeetsEnd: a process whose pooled state is from before
// another process ended the aggregate appends at a version the
// final commit holds. Stores answer a taken version with the conflict and
// the commit there, closed or not (signal.Store.Append), and the Service
// reads what that means from the commit it folds: a new command is
// refused as closed, and a repeat of the ending request with its key is
// answered as the success it was, as on the process that ended it. An
// ErrClosed from the store would have answered the repeat with 410.
func TestStaleProcessMeetsEnd(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		run  func(svc *signal.Service) (signal.Result, error)
		dup  bool // answered as a repeat, not refused
	}{
		{"another command", func(svc *signal.Service) (signal.Result, error) {
			return svc.Handle(ctx, "account", "a1", Deposit{Amount: 1})
		}, false},
		{"another end", func(svc *signal.Service) (signal.Result, error) {
			return svc.End(ctx, "account", "a1", signal.WithCommandID("end-2"))
		}, false},
		{"the same end again", func(svc *signal.Service) (signal.Result, error) {
			return svc.End(ctx, "account", "a1", signal.WithCommandID("end-1"))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			stale, err := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stale.Handle(ctx, "account", "a1", Open{Owner: "ann"}); err != nil {
				t.Fatal(err)
			}
			closed, err := f.svc.End(ctx, "account", "a1", signal.WithCommandID("end-1"))
			if err != nil || closed.Version != 2 {
				t.Fatalf("End = %+v, %v", closed, err)
			}
			before := f.store.Counts()

			r, err := tc.run(stale)
			if tc.dup {
				if err != nil || !r.Duplicate || r.Version != 2 || len(r.Events) != 1 || r.Events[0].ID != closed.Events[0].ID {
					t.Fatalf("repeat of the end on a stale process = %+v, %v; want the original end as a duplicate", r, err)
				}
			} else if !errors.Is(err, signal.ErrClosed) {
				t.Fatalf("command on a stale process after the end = %+v, %v; want ErrClosed", r, err)
			}
			if n := f.store.Counts().Appends - before.Appends; n != 1 {
				t.Errorf("%d appends, want the one that met the final commit", n)
			}
			if got := history(t, f.store, "a1"); len(got) != 2 {
				t.Errorf("history %v, want the two events before", got)
			}
		})
	}
}
