package cli

import (
	"context"
	"fmt"

	"github.com/signalforgo/signal/pkg/signal"
)

// rebuild drops a view and rebuilds it from the full event log
// (signal.Service.Rebuild: the embedded and Postgres stores' change feed
// from the beginning, a parallel Scan of the DynamoDB events table, whose
// stream keeps only 24 hours). Only the view's projection runs: policies
// and other views are left alone. A stream the projection fails on is
// parked at once and the rebuild goes on, and then fails naming how many
// are parked; failures of the store are retried a few times.
func (k *kit) rebuild(ctx context.Context, o storeOptions, view string) error {
	proj, err := k.projection(view)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, o)
	if err != nil {
		return err
	}
	defer st.Close()
	cfg := k.app.Config(st.store, false)
	cfg.Subscribers, cfg.Logger = []signal.Subscriber{proj}, k.logger
	svc, err := signal.New(cfg)
	if err != nil {
		return err
	}
	res, err := svc.Rebuild(ctx, proj.Name)
	if err != nil {
		return err
	}
	fmt.Fprintf(k.stdout, "rebuilt view %s from %d commits\n", view, res.Commits)
	if parked := len(res.Parked); parked > 0 {
		return fmt.Errorf("%d stream(s) of view %s are parked: list them with %s parked, replay them once fixed", parked, view, k.o.name)
	}
	return nil
}

// projection is the app's projection whose view is named view (a
// projection's view is named after it), or a usage error listing them.
func (k *kit) projection(view string) (*signal.Projection, error) {
	var names []string
	for _, sub := range k.app.Subscribers {
		if p, ok := sub.(*signal.Projection); ok {
			if p.Name == view {
				return p, nil
			}
			names = append(names, p.Name)
		}
	}
	return nil, fmt.Errorf("%w: no view %q (views: %s)", errUsage, view, list(names))
}
