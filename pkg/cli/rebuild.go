package cli

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// rebuild drops a view and rebuilds it from the full event log: the
// embedded store's change feed from the beginning, or a parallel Scan of
// the DynamoDB events table (the stream keeps only 24 hours). Only the
// view's projection runs: policies and other views are left alone. A
// stream the projection fails on is parked at once (there is no later
// delivery to wait for) and the rebuild goes on; failures of the store
// are retried a few times.
func (k *kit) rebuild(ctx context.Context, o storeOptions, view string) error {
	var proj *signal.Projection
	var names []string
	for _, sub := range k.app.Subscribers {
		if p, ok := sub.(*signal.Projection); ok {
			names = append(names, p.Name)
			if p.Name == view {
				proj = p
			}
		}
	}
	if proj == nil {
		return fmt.Errorf("%w: no view %q (views: %s)", errUsage, view, list(names))
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
	cfg := k.app.Config(st.store, false)
	cfg.Subscribers, cfg.Logger, cfg.ParkAfter = []signal.Subscriber{proj}, k.logger, 1
	svc, err := signal.New(cfg)
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
			return dispatchRetrying(ctx, svc, commits)
		})
		n = count.Load()
	} else {
		// Resume where a failed page stopped, a few times.
		var last uint64
		for attempt := 1; attempt <= 5; attempt++ {
			var dispatched int
			last, dispatched, err = svc.DispatchChanges(ctx, st.feed, last, 500)
			n += int64(dispatched)
			if err == nil {
				break
			}
			time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(k.stdout, "rebuilt view %s from %d commits\n", view, n)
	fs, err := svc.Failures(ctx)
	if err != nil {
		return err
	}
	parked := 0
	for _, f := range fs {
		if f.Subscriber == proj.Name && f.Parked {
			parked++
		}
	}
	if parked > 0 {
		return fmt.Errorf("%d stream(s) of view %s are parked: list them with %s parked, replay them once fixed", parked, view, k.o.name)
	}
	return nil
}

// dispatchRetrying runs the subscribers over commits, retrying what
// failed a few times with a growing pause: a rebuild must not stop at a
// throttled request. Checkpoints make the repeats harmless.
func dispatchRetrying(ctx context.Context, svc *signal.Service, commits []signal.Commit) error {
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := svc.Dispatch(ctx, commits)
		if err == nil || attempt == 5 {
			return err
		}
		select {
		case <-time.After(wait):
			wait *= 2
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
