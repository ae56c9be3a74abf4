package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// parkedService opens the store and a Service with every subscriber, the
// ones whose failures are listed and replayed.
func (k *kit) parkedService(ctx context.Context, o storeOptions) (*openedStore, *signal.Service, error) {
	st, err := openStore(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	cfg := k.app.Config(st.store, true)
	cfg.Logger = k.logger
	svc, err := signal.New(cfg)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, svc, nil
}

// listParked prints the subscribers that failed on a stream: parked ones
// (skipped until replayed) and those still being retried.
func (k *kit) listParked(ctx context.Context, o storeOptions) error {
	out := k.stdout
	st, svc, err := k.parkedService(ctx, o)
	if err != nil {
		return err
	}
	defer st.Close()
	fs, err := svc.Failures(ctx)
	if err != nil {
		return err
	}
	if len(fs) == 0 {
		fmt.Fprintln(out, "no subscriber is failing or parked")
		return nil
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SUBSCRIBER\tSTREAM\tVERSION\tATTEMPTS\tSTATE\tLAST FAILED\tERROR")
	for _, f := range fs {
		state := "retrying"
		if f.Parked {
			state = "parked"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", f.Subscriber, f.Stream, f.Version, f.Attempts, state,
			f.Time.UTC().Format(time.RFC3339), oneLine(f.Error))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nreplay once fixed: %s parked replay [<subscriber> <type> <id>]\n", k.o.name)
	return nil
}

// replayParked replays one (subscriber, stream), or every parked one
// when args is empty, and says how each went. On DynamoDB it first
// resolves projection runs interrupted mid-way, whose locks would hold
// the replays back.
func (k *kit) replayParked(ctx context.Context, o storeOptions, args []string) error {
	out := k.stdout
	st, svc, err := k.parkedService(ctx, o)
	if err != nil {
		return err
	}
	defer st.Close()
	if st.dyn != nil {
		if rs, err := st.dyn.ResolveRuns(ctx); err != nil {
			return err
		} else if rs.Completed+rs.Aborted+rs.Released > 0 {
			fmt.Fprintf(out, "resolved interrupted projection runs: %d completed, %d aborted, %d locks released\n", rs.Completed, rs.Aborted, rs.Released)
		}
	}
	var todo []signal.Failure
	if len(args) == 3 {
		if err := knownType(k.app, args[1]); err != nil {
			return err
		}
		todo = []signal.Failure{{Subscriber: args[0], Stream: signal.StreamID{Type: args[1], ID: args[2]}}}
	} else {
		all, err := svc.Failures(ctx)
		if err != nil {
			return err
		}
		for _, f := range all {
			if f.Parked {
				todo = append(todo, f)
			}
		}
		if len(todo) == 0 {
			fmt.Fprintln(out, "nothing is parked")
			return nil
		}
	}
	failed := 0
	for _, f := range todo {
		cp, err := svc.Replay(ctx, f.Subscriber, f.Stream)
		if err != nil {
			if errors.Is(err, signal.ErrNotFound) || errors.Is(err, signal.ErrInvalid) {
				return fmt.Errorf("%w: %s", errUsage, signal.PublicMessage(err))
			}
			failed++
			fmt.Fprintf(out, "%s on %s: failed again, still parked: %s\n", f.Subscriber, f.Stream, oneLine(err.Error()))
			continue
		}
		fmt.Fprintf(out, "%s on %s: replayed, now at version %d\n", f.Subscriber, f.Stream, cp.Version)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d replays failed; see %s parked", failed, len(todo), k.o.name)
	}
	return nil
}

// oneLine keeps an error on one line of a table.
func oneLine(s string) string {
	b := []rune(s)
	for i, r := range b {
		if r == '\n' || r == '\t' || r == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}
