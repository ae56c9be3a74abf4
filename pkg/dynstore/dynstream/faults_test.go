package dynstream

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/signalforgo/signal/internal/faultproxy"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

// faultCommand is a random command: mostly OrderItem (one price per item, so
// they are never refused), some CancelItem (refused when the item is not on the tab).
func faultCommand(rng *rand.Rand) (tabID string, cmd any) {
	tabID = fmt.Sprint("tab-", rng.IntN(10))
	item := rng.IntN(5)
	if rng.IntN(4) == 0 {
		return tabID, tab.CancelItem{Item: fmt.Sprint("tap-", item), Quantity: 1}
	}
	return tabID, tab.OrderItem{Item: fmt.Sprint("tap-", item), Quantity: int64(1 + rng.IntN(3)), Price: 100 + int64(item)}
}

// faultOutcome is what a client finally got for one command.
type faultOutcome struct {
	id, tab string
	kind    string // "ack", "refused", "unknown"
	version int64
	tries   int
	dup     bool
	err     error
}

// send is an HTTP client with an idempotency key: it sends the command to
// svcs[first] and retries ErrUnavailable and ErrConflict with the same key
// on any container, up to attempts times. cmd nil means End.
func send(ctx context.Context, rng *rand.Rand, svcs []*signal.Service, first int, id, tabID string, cmd any, attempts int) faultOutcome {
	o := faultOutcome{id: id, tab: tabID}
	svc := svcs[first]
	for o.tries = 1; ; o.tries++ {
		var r signal.Result
		var err error
		if cmd == nil {
			r, err = svc.End(ctx, "tab", tabID, signal.WithCommandID(id))
		} else {
			r, err = svc.Handle(ctx, "tab", tabID, cmd, signal.WithCommandID(id))
		}
		kind := signal.KindOf(err)
		switch {
		case err == nil:
			o.kind, o.version, o.dup = "ack", r.Version, r.Duplicate
		case kind == signal.KindRejected || kind == signal.KindClosed || kind == signal.KindNotFound:
			o.kind, o.err = "refused", err
		case (kind == signal.KindUnavailable || kind == signal.KindConflict) && o.tries < attempts && ctx.Err() == nil:
			svc = svcs[rng.IntN(len(svcs))]
			time.Sleep(time.Duration(rng.IntN(5)+1) * time.Millisecond)
			continue
		default:
			o.kind, o.err = "unknown", err
		}
		return o
	}
}

// TestFaultsContainersAndProjector: 4 containers (4 Services, each with
// its own client through a fault proxy injecting ~20% faults of every
// kind, lost responses of writes included) handle commands on 10 tabs,
// each command with its own idempotency key, each client retrying
// ErrUnavailable and ErrConflict with the same key on any container, as
// an HTTP client behind a load balancer would. A projector (the Streams
// Poller feeding Service.Dispatch, also through the proxy) builds the
// views meanwhile. Afterwards, read without the proxy:
//   - every acknowledged command is in the log exactly once, at the
//     version it was acknowledged with; refused commands are absent;
//     commands given up on are absent or present once;
//   - versions are contiguous per tab; every commit is one we sent;
//   - every payment issued exactly one receipt (the policy, under faults);
//   - the projector's views equal the views rebuilt from the log.
//
// Two schedules: the SDK's retryer with 5 attempts (Retryer's setting),
// which absorbs nearly every fault, and with 2 attempts, so that lost
// responses and failures reach the Service and the clients' retries
// (ambiguous appends, evictions, duplicates answered from the window).
func TestFaultsContainersAndProjector(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		sdkAttempts, commands int
	}{
		{"sdk-5-attempts", 5, 200},
		{"sdk-2-attempts", 2, 120},
	} {
		t.Run(tc.name, func(t *testing.T) { faultScenario(t, tc.sdkAttempts, tc.commands) })
	}
}

// faultScenario is one schedule of TestFaultsContainersAndProjector:
// commands from every container at once with the projector running, then
// the payments and voids one at a time, then the projector drained, then
// the log, the receipts and the views checked without the proxy.
func faultScenario(t *testing.T, sdkAttempts, commands int) {
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Second)
	defer cancel()
	r := newFaultRun(t, ctx, sdkAttempts, commands)
	defer r.proxy.Close()
	r.sendWithProjector()
	r.sendEnds()
	commandsDone := time.Since(r.start)
	r.drainProjector()
	projected := time.Since(r.start)
	pstats := r.proxy.Stats()
	if err := r.proxy.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}
	log := r.readLog()
	tally := r.checkOutcomes(log)
	r.checkReceipts(log.paid)
	r.checkViews(log)
	total := r.meter.Total()
	t.Logf("SDK attempts %d, seed %d: %d commands (%d acknowledged, %d refused, %d given up), %d retried by the client (max %d tries), %d answered as duplicates; %d commits in the log, %d payments",
		sdkAttempts, r.seed, len(r.outcomes), tally.counts["ack"], tally.counts["refused"], tally.counts["unknown"], tally.retried, tally.maxTries, tally.dups, len(log.all), len(log.paid))
	t.Logf("proxy: %v", pstats)
	t.Logf("SDK: %d calls, %d attempts; projector: %d failed batches, %d failed polls", total.Calls, total.Attempts, r.failedBatches, r.pollErrors)
	t.Logf("commands done in %v, projector drained at %v, checked at %v", commandsDone.Round(time.Millisecond), projected.Round(time.Millisecond), time.Since(r.start).Round(time.Millisecond))
	if pstats.Faults[faultproxy.DropResponse] == 0 || pstats.ByOperation["PutItem"] == 0 {
		t.Errorf("the schedule injected no lost responses or no PutItem faults: %v", pstats)
	}
}
