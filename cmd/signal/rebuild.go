package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/signal"
)

// rebuild drops a view and rebuilds it from the full event log: the
// embedded store's change feed from the beginning, or a parallel Scan of
// the DynamoDB events table (the stream keeps only 24 hours). Only the
// view's projection runs: policies and other views are left alone.
func rebuild(ctx context.Context, o storeOptions, view string, out io.Writer, logger *slog.Logger) error {
	var proj *signal.Projection
	var names []string
	for _, sub := range cart.Subscribers() {
		if p, ok := sub.(*signal.Projection); ok {
			names = append(names, p.Name)
			if p.Name == view {
				proj = p
			}
		}
	}
	if proj == nil {
		return fmt.Errorf("%w: no view %q (views: %v)", errUsage, view, names)
	}
	st, err := openStore(ctx, o)
	if err != nil {
		return err
	}
	defer st.Close()
	vs, ok := st.store.(signal.ViewStore)
	if !ok {
		return fmt.Errorf("the store keeps no views")
	}
	svc, err := signal.New(signal.Config{Store: st.store, Types: cart.Types(), Subscribers: []signal.Subscriber{proj}, Logger: logger})
	if err != nil {
		return err
	}
	if err := vs.DropView(ctx, view, proj.Name); err != nil {
		return err
	}
	var n int64
	if st.dyn != nil {
		var count atomic.Int64
		err = st.dyn.ScanCommits(ctx, 4, func(ctx context.Context, commits []signal.Commit) error {
			count.Add(int64(len(commits)))
			return svc.Dispatch(ctx, commits)
		})
		n = count.Load()
	} else {
		var dispatched int
		_, dispatched, err = svc.DispatchChanges(ctx, st.feed, 0, 500)
		n = int64(dispatched)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "rebuilt view %s from %d commits\n", view, n)
	return nil
}
