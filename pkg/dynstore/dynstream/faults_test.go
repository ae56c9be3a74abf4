package dynstream

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/signalforgo/signal/internal/faultproxy"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

// The fault client below is that of dynstore's fault tests (with
// faultproxy.Seed and Retryer), so the scenario runs as it did there.

// faultClient is a DynamoDB client as a container builds it
// (ClientOptions), pointed at the fault proxy, with test timings.
func faultClient(t *testing.T, p *faultproxy.Proxy, m *dynstore.Meter, attempts int) *dynamodb.Client {
	return dynamodb.NewFromConfig(motoserver.Config(t), dynstore.ClientOptions(m), func(o *dynamodb.Options) {
		// Here, not in the aws.Config: the config's own endpoint
		// setting would win over aws.Config.BaseEndpoint.
		o.BaseEndpoint = aws.String(p.URL())
		o.Retryer = faultproxy.Retryer(attempts)
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(5 * time.Second)
	})
}

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

func faultScenario(t *testing.T, sdkAttempts, commands int) {
	const (
		containers = 4
		workers    = 3  // per container
		attempts   = 10 // per command, by the client
	)
	perWorker := commands / workers
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Second)
	defer cancel()
	start := time.Now()
	st := newTestStore(t)
	seed := faultproxy.Seed(t)
	proxy, err := faultproxy.New(faultproxy.Config{
		Upstream:   motoserver.Endpoint(t),
		Seed:       seed,
		Rates:      faultproxy.Uniform(0.2),
		MaxLatency: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	meter := dynstore.NewMeter()
	var svcs []*signal.Service
	for range containers {
		s, err := dynstore.New(faultClient(t, proxy, meter, sdkAttempts), st.tables)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := signal.New(signal.Config{Store: s, Types: tab.Types()})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}

	// The projector: its own container, client and stream client through the proxy.
	projStore, err := dynstore.New(faultClient(t, proxy, meter, sdkAttempts), st.tables)
	if err != nil {
		t.Fatal(err)
	}
	// One stream at a time: moto_server's rollback of a failed transaction
	// (see phase 2) would otherwise lose concurrent view writes.
	projector, err := signal.New(signal.Config{Store: projStore, Types: tab.Types(), Subscribers: tab.Subscribers(), DispatchConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	arn, err := StreamARN(ctx, st.client, st.tables.Events)
	if err != nil {
		t.Fatal(err)
	}
	streams := dynamodbstreams.NewFromConfig(motoserver.Config(t), func(o *dynamodbstreams.Options) {
		o.BaseEndpoint = aws.String(proxy.URL())
		o.Retryer = faultproxy.Retryer(sdkAttempts)
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(5 * time.Second)
	})
	poller := NewPoller(streams, PollerConfig{StreamARN: arn})
	var failedBatches, pollErrors int
	dispatch := func(ctx context.Context, batch []signal.Commit) error {
		err := projector.Dispatch(ctx, batch)
		if err != nil {
			failedBatches++ // the poller hands the batch over again
		}
		return err
	}
	stopProjector := make(chan struct{})
	projectorDone := make(chan struct{})
	go func() {
		defer close(projectorDone)
		for {
			select {
			case <-stopProjector:
				return
			case <-ctx.Done():
				return
			default:
			}
			n, err := poller.Poll(ctx, dispatch)
			if err != nil {
				pollErrors++
			}
			if n == 0 || err != nil {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}()

	// Phase 1: every container's workers at once.
	var mu sync.Mutex
	var outcomes []faultOutcome
	var wg sync.WaitGroup
	for c := range containers {
		for w := range workers {
			g := c*workers + w
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(seed, uint64(g)))
				for i := range perWorker {
					tabID, cmd := faultCommand(rng)
					o := send(ctx, rng, svcs, c, fmt.Sprintf("cmd-%d-%d", g, i), tabID, cmd, attempts)
					mu.Lock()
					outcomes = append(outcomes, o)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("timed out sending commands")
	}
	close(stopProjector)
	<-projectorDone

	// Phase 2: payments (tabs 0-5) and voids (6-7), each sent twice
	// under two keys through different containers: the second is refused.
	// One at a time, with the projector stopped: a TransactWriteItems that
	// fails in moto_server restores a copy of the whole table taken when it
	// started, which would lose writes made meanwhile by other requests
	// (and leaves stream iterators on the old copy). DynamoDB has no such
	// behaviour; it is a limit of the emulator, not of the framework.
	rng := rand.New(rand.NewPCG(seed, 1000))
	for i := range 8 {
		var cmd any = tab.Pay{}
		if i >= 6 {
			cmd = nil
		}
		for k := range 2 {
			outcomes = append(outcomes, send(ctx, rng, svcs, (i+k)%containers, fmt.Sprintf("end-%d-%d", i, k), fmt.Sprint("tab-", i), cmd, attempts))
		}
	}
	commandsDone := time.Since(start)

	// Drain the projector, faults still on: the stream holds every commit
	// by now, and the policy's receipts come back through it too. A new
	// poller from the old one's positions (fresh iterators, see above).
	poller = NewPoller(streams, PollerConfig{StreamARN: arn, Positions: poller.Positions()})
	for idle := 0; idle < 3; {
		n, err := poller.Poll(ctx, dispatch)
		switch {
		case ctx.Err() != nil:
			t.Fatalf("timed out draining the projector (%d failed batches)", failedBatches)
		case err != nil:
			pollErrors++
			idle = 0
		case n == 0:
			idle++
		default:
			idle = 0
		}
	}
	projected := time.Since(start)
	pstats := proxy.Stats()
	if err := proxy.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}

	// The log, read directly.
	type stored struct {
		version, last int64
	}
	log := map[string]stored{}
	var all []signal.Commit
	lastVersion := map[string]int64{}
	paid := map[string]bool{}
	for i := range 10 {
		id := fmt.Sprint("tab-", i)
		var last int64
		for c, err := range st.Load(ctx, signal.StreamID{Type: "tab", ID: id}, 0) {
			if err != nil {
				t.Fatal(err)
			}
			if c.Version != last+1 {
				t.Errorf("%s: version %d after %d", id, c.Version, last)
			}
			if _, dup := log[c.CommandID]; dup {
				t.Errorf("%s: command %s stored twice (v%d and v%d)", id, c.CommandID, log[c.CommandID].version, c.Version)
			}
			log[c.CommandID] = stored{c.Version, c.LastVersion()}
			if c.Final && c.Events[0].Name == "TabPaid" {
				paid[id] = true
			}
			all = append(all, c)
			last = c.LastVersion()
		}
		lastVersion[id] = last
	}
	counts := map[string]int{}
	var retried, dups, maxTries int
	sent := map[string]bool{}
	for _, o := range outcomes {
		sent[o.id] = true
		counts[o.kind]++
		if o.tries > 1 {
			retried++
		}
		if o.dup {
			dups++
		}
		maxTries = max(maxTries, o.tries)
		s, in := log[o.id]
		switch o.kind {
		case "ack":
			if !in {
				t.Errorf("acknowledged command %s (%s v%d, %d tries) is not in the log", o.id, o.tab, o.version, o.tries)
			} else if s.last != o.version {
				t.Errorf("command %s acknowledged at version %d, stored at %d..%d", o.id, o.version, s.version, s.last)
			}
		case "refused":
			if in {
				t.Errorf("refused command %s (%v) is in the log at version %d", o.id, o.err, s.version)
			}
		default:
			t.Logf("command %s given up after %d tries (in the log: %v): %v", o.id, o.tries, in, o.err)
		}
	}
	if len(outcomes) != containers*workers*perWorker+16 {
		t.Fatalf("%d outcomes", len(outcomes))
	}
	for id := range log {
		if !sent[id] {
			t.Errorf("the log holds command %s, which nobody sent", id)
		}
	}
	if counts["ack"] < len(outcomes)/2 {
		t.Errorf("only %d of %d commands acknowledged", counts["ack"], len(outcomes))
	}

	// The policy issued exactly one receipt per payment.
	for i := range 10 {
		id := fmt.Sprint("tab-", i)
		n := 0
		for _, err := range st.Load(ctx, signal.StreamID{Type: "receipt", ID: id}, 0) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if want := map[bool]int{true: 1}[paid[id]]; n != want {
			t.Errorf("receipt %s has %d commits, want %d", id, n, want)
		}
	}

	// The projector's views, read directly; then the same views rebuilt
	// from the log on a clean service.
	direct, err := signal.New(signal.Config{Store: st.Store, Types: tab.Types()})
	if err != nil {
		t.Fatal(err)
	}
	readViews := func() map[string]string {
		out := map[string]string{}
		for i := range 10 {
			k := fmt.Sprint("tab-", i)
			v, err := direct.View(ctx, tab.TabSummaryView, k)
			out[tab.TabSummaryView+"/"+k] = fmt.Sprintf("%s %v", v.Data, signal.KindOf(err))
		}
		for i := range 5 {
			k := fmt.Sprint("tap-", i)
			v, err := direct.View(ctx, tab.ItemSalesView, k)
			out[tab.ItemSalesView+"/"+k] = fmt.Sprintf("%s %v", v.Data, signal.KindOf(err))
		}
		return out
	}
	projectedViews := readViews()
	for i := range 10 {
		k := fmt.Sprint("tab-", i)
		var sum tab.TabSummary
		v, err := direct.View(ctx, tab.TabSummaryView, k)
		if err == nil {
			err = json.Unmarshal(v.Data, &sum)
		}
		if lastVersion[k] > 0 && (err != nil || sum.Version != lastVersion[k]) {
			t.Errorf("projected %s is at version %d, the log at %d (%v)", k, sum.Version, lastVersion[k], err)
		}
	}
	for _, name := range []string{tab.TabSummaryView, tab.ItemSalesView} {
		if err := st.DropView(ctx, name, name); err != nil {
			t.Fatal(err)
		}
	}
	clean, err := signal.New(signal.Config{Store: st.Store, Types: tab.Types(), DispatchConcurrency: 1,
		Subscribers: []signal.Subscriber{tab.TabSummaryProjection(), tab.ItemSalesProjection()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := clean.Dispatch(ctx, all); err != nil {
		t.Fatal(err)
	}
	rebuilt := readViews()
	for k, want := range rebuilt {
		if got := projectedViews[k]; got != want {
			t.Errorf("%s: projected %s, rebuilt from the log %s", k, got, want)
		}
	}
	total := meter.Total()
	t.Logf("SDK attempts %d, seed %d: %d commands (%d acknowledged, %d refused, %d given up), %d retried by the client (max %d tries), %d answered as duplicates; %d commits in the log, %d payments",
		sdkAttempts, seed, len(outcomes), counts["ack"], counts["refused"], counts["unknown"], retried, maxTries, dups, len(all), len(paid))
	t.Logf("proxy: %v", pstats)
	t.Logf("SDK: %d calls, %d attempts; projector: %d failed batches, %d failed polls", total.Calls, total.Attempts, failedBatches, pollErrors)
	t.Logf("commands done in %v, projector drained at %v, checked at %v", commandsDone.Round(time.Millisecond), projected.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if pstats.Faults[faultproxy.DropResponse] == 0 || pstats.ByOperation["PutItem"] == 0 {
		t.Errorf("the schedule injected no lost responses or no PutItem faults: %v", pstats)
	}
}
