package signal

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Rebuilt is what Service.Rebuild did.
type Rebuilt struct {
	// Commits counts the commits of the log the projection was run over.
	Commits int
	// Parked are the projection's streams parked when the rebuild ended
	// (Service.Failures' records, in its order): each stopped at the event
	// it failed on, and Replay resumes it once the cause is fixed.
	Parked []Failure
}

// rebuildSegments is how many pages of the log a rebuild asks to read at
// once (LogScanner.ScanCommits' hint).
const rebuildSegments = 4

// rebuildAttempts bounds the deliveries of one page of the log.
const rebuildAttempts = 5

// rebuildWait is the pause after a page's first failed delivery; it
// doubles after each further one. A variable so tests need not wait.
var rebuildWait = 200 * time.Millisecond

// Rebuild rebuilds a projection from the full event log: it deletes the
// documents of the named views (none named: the view named like the
// projection, the convention of `signal rebuild <view>`) and every
// checkpoint of the projection, then runs the projection, and no other
// subscriber, over every commit of the store (its LogScanner: the whole
// log, also what DynamoDB's 24-hour stream no longer holds). views must
// name every view the projection writes: the documents of a view left out
// would stay as they are and have the events folded into them again.
//
// A stream the projection fails on is parked at once (there is no later
// delivery to wait for; OnPark is called) and the rebuild goes on. A page
// the store fails on (unavailable, lost races) is delivered again up to 5
// times, with growing pauses from 200 ms; checkpoints make the repeats
// harmless. Readers of the view see it empty at first, filling as the
// rebuild proceeds.
//
// Outcomes:
//   - nil: every commit was run; Rebuilt counts them and lists the
//     projection's parked streams (a rebuild that parks is still a
//     success: the view holds everything but those streams).
//   - ErrNotFound: the Service has no projection of that name (a
//     Service whose store keeps no views has none). Nothing was dropped.
//   - ErrInvalid: a view name ValidateName refuses. Nothing was dropped.
//   - ErrUnsupported: the store cannot read its whole log (no
//     LogScanner), a configuration error. Nothing was dropped.
//   - a *DispatchError: a page still failed after its last delivery (the
//     store kept failing). The view is partly rebuilt; run Rebuild again.
//   - any other error, typed as a store error (ErrUnavailable when ctx
//     ended or the store could not be reached): dropping the views,
//     reading the log or listing the failures failed. The view may be
//     partly rebuilt; run Rebuild again.
func (s *Service) Rebuild(ctx context.Context, projection string, views ...string) (Rebuilt, error) {
	d, scan, err := s.rebuilder(projection, views)
	if err != nil {
		return Rebuilt{}, err
	}
	if len(views) == 0 {
		views = []string{projection}
	}
	for _, view := range views {
		if err := d.views.DropView(ctx, view, projection); err != nil {
			return Rebuilt{}, storeError("signal.Rebuild", StreamID{}, err)
		}
	}
	var n atomic.Int64
	err = scan.ScanCommits(ctx, rebuildSegments, func(ctx context.Context, commits []Commit) error {
		n.Add(int64(len(commits)))
		return d.dispatchRetrying(ctx, commits)
	})
	var de *DispatchError
	if err != nil && !errors.As(err, &de) {
		err = storeError("signal.Rebuild", StreamID{}, err)
	}
	if err != nil {
		return Rebuilt{}, err
	}
	out := Rebuilt{Commits: int(n.Load())}
	fs, err := s.Failures(ctx)
	if err != nil {
		return out, err
	}
	for _, f := range fs {
		if f.Subscriber == projection && f.Parked {
			out.Parked = append(out.Parked, f)
		}
	}
	return out, nil
}

// rebuilder checks what Rebuild needs and returns a dispatcher that runs
// only the projection and parks at its first failure, with the store's
// LogScanner.
func (s *Service) rebuilder(projection string, views []string) (*dispatcher, LogScanner, error) {
	sub := s.dispatcher.subscriber(projection)
	if sub == nil || !isProjection(sub) {
		return nil, nil, Errorf(KindNotFound, "signal.Rebuild", "no projection %q", truncate(projection, MaxNameBytes))
	}
	for _, view := range views {
		if err := ValidateName(view); err != nil {
			return nil, nil, err
		}
	}
	// A Service has a projection only if its store keeps views (New
	// checks), so views need no check here.
	all := s.dispatcher
	scan, ok := s.store.(LogScanner)
	if !ok {
		return nil, nil, Errorf(KindUnsupported, "signal.Rebuild", "the store cannot read its whole log (signal.LogScanner)")
	}
	d := &dispatcher{svc: s, concurrency: all.concurrency, subs: []*subscription{sub},
		checkpoints: all.checkpoints, views: all.views, parkAfter: 1, onPark: all.onPark}
	return d, scan, nil
}

func isProjection(sub *subscription) bool {
	_, ok := sub.Subscriber.(*Projection)
	return ok
}

// dispatchRetrying runs the dispatcher over commits, delivering them again
// a few times with a growing pause when it fails: a rebuild must not stop
// at a throttled request. The error is the last delivery's, or ctx's
// (typed ErrUnavailable) when it ends during a pause.
func (d *dispatcher) dispatchRetrying(ctx context.Context, commits []Commit) error {
	wait := rebuildWait
	for attempt := 1; ; attempt++ {
		err := d.dispatch(ctx, commits)
		if err == nil || attempt == rebuildAttempts {
			return err
		}
		select {
		case <-time.After(wait):
			wait *= 2
		case <-ctx.Done():
			return unavailable("signal.Rebuild", StreamID{}, ctx.Err())
		}
	}
}
