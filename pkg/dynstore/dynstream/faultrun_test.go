package dynstream

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/signalforgo/signal/internal/faultproxy"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/dynstore/internal/faultclient"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

// The shape of a fault run: containers each run workers, each worker
// sends perWorker commands, each retried by its client up to
// clientAttempts times.
const (
	faultContainers = 4
	faultWorkers    = 3  // per container
	clientAttempts  = 10 // per command, by the client
	faultTabs       = 10 // tab-0 .. tab-9
	faultItems      = 5  // tap-0 .. tap-4
)

// faultRun is one run of the fault scenario: fresh tables, a proxy
// injecting ~20% faults of every kind, containers and a projector whose
// clients go through it, and what the clients got.
type faultRun struct {
	t           *testing.T
	ctx         context.Context
	start       time.Time
	sdkAttempts int
	perWorker   int
	st          *testStore
	seed        uint64
	proxy       *faultproxy.Proxy
	meter       *dynstore.Meter // of every client through the proxy
	svcs        []*signal.Service

	projector *signal.Service
	arn       string
	streams   *dynamodbstreams.Client
	poller    *Poller
	// Counted by the projector's goroutine, read once it is done.
	failedBatches, pollErrors int

	outcomes []faultOutcome
}

func newFaultRun(t *testing.T, ctx context.Context, sdkAttempts, commands int) *faultRun {
	r := &faultRun{t: t, ctx: ctx, start: time.Now(), sdkAttempts: sdkAttempts, perWorker: commands / faultWorkers}
	r.st = newTestStore(t)
	r.seed = faultproxy.Seed(t)
	var err error
	r.proxy, err = faultproxy.New(faultproxy.Config{
		Upstream:   motoserver.Endpoint(t),
		Seed:       r.seed,
		Rates:      faultproxy.Uniform(0.2),
		MaxLatency: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.meter = dynstore.NewMeter()
	for range faultContainers {
		r.svcs = append(r.svcs, r.service(signal.Config{Types: tab.Types()}))
	}
	r.newProjector()
	return r
}

// service is a container: cfg on a Store of its own client through the proxy.
func (r *faultRun) service(cfg signal.Config) *signal.Service {
	s, err := dynstore.New(faultclient.DynamoDB(r.t, r.proxy, r.sdkAttempts, dynstore.ClientOptions(r.meter)), r.st.tables)
	if err != nil {
		r.t.Fatal(err)
	}
	cfg.Store = s
	svc, err := signal.New(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	return svc
}

// newProjector sets up the projector: its own container, client and
// stream client through the proxy.
func (r *faultRun) newProjector() {
	// One stream at a time: moto_server's rollback of a failed transaction
	// (see sendEnds) would otherwise lose concurrent view writes.
	r.projector = r.service(signal.Config{Types: tab.Types(), Subscribers: tab.Subscribers(), DispatchConcurrency: 1})
	var err error
	if r.arn, err = StreamARN(r.ctx, r.st.client, r.st.tables.Events); err != nil {
		r.t.Fatal(err)
	}
	r.streams = faultclient.Streams(r.t, r.proxy, r.sdkAttempts)
	r.poller = NewPoller(r.streams, PollerConfig{StreamARN: r.arn})
}

// dispatch hands a batch to the projector, counting the failed ones (the
// poller hands them over again).
func (r *faultRun) dispatch(ctx context.Context, batch []signal.Commit) error {
	err := r.projector.Dispatch(ctx, batch)
	if err != nil {
		r.failedBatches++
	}
	return err
}

// runProjector polls until stop is closed or the run's context ends,
// pausing after an empty or failed poll; the returned channel is closed
// when it has returned.
func (r *faultRun) runProjector(stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-r.ctx.Done():
				return
			default:
			}
			n, err := r.poller.Poll(r.ctx, r.dispatch)
			if err != nil {
				r.pollErrors++
			}
			if n == 0 || err != nil {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}()
	return done
}

// sendWithProjector is phase 1: every container's workers send their
// random commands at once, the projector running meanwhile.
func (r *faultRun) sendWithProjector() {
	stop := make(chan struct{})
	projectorDone := r.runProjector(stop)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range faultContainers {
		for w := range faultWorkers {
			g := c*faultWorkers + w
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(r.seed, uint64(g)))
				for i := range r.perWorker {
					tabID, cmd := faultCommand(rng)
					o := send(r.ctx, rng, r.svcs, c, fmt.Sprintf("cmd-%d-%d", g, i), tabID, cmd, clientAttempts)
					mu.Lock()
					r.outcomes = append(r.outcomes, o)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if r.ctx.Err() != nil {
		r.t.Fatal("timed out sending commands")
	}
	close(stop)
	<-projectorDone
}

// sendEnds is phase 2: payments (tabs 0-5) and voids (6-7), each sent
// twice under two keys through different containers: the second is
// refused. One at a time, with the projector stopped: a
// TransactWriteItems that fails in moto_server restores a copy of the
// whole table taken when it started, which would lose writes made
// meanwhile by other requests (and leaves stream iterators on the old
// copy). DynamoDB has no such behaviour; it is a limit of the emulator,
// not of the framework.
func (r *faultRun) sendEnds() {
	rng := rand.New(rand.NewPCG(r.seed, 1000))
	for i := range 8 {
		var cmd any = tab.Pay{}
		if i >= 6 {
			cmd = nil
		}
		for k := range 2 {
			r.outcomes = append(r.outcomes, send(r.ctx, rng, r.svcs, (i+k)%faultContainers, fmt.Sprintf("end-%d-%d", i, k), fmt.Sprint("tab-", i), cmd, clientAttempts))
		}
	}
}

// drainProjector polls, faults still on, until three polls in a row find
// nothing: the stream holds every commit by now, and the policy's
// receipts come back through it too. A new poller from the old one's
// positions (fresh iterators, see sendEnds).
func (r *faultRun) drainProjector() {
	r.poller = NewPoller(r.streams, PollerConfig{StreamARN: r.arn, Positions: r.poller.Positions()})
	for idle := 0; idle < 3; {
		n, err := r.poller.Poll(r.ctx, r.dispatch)
		switch {
		case r.ctx.Err() != nil:
			r.t.Fatalf("timed out draining the projector (%d failed batches)", r.failedBatches)
		case err != nil:
			r.pollErrors++
			idle = 0
		case n == 0:
			idle++
		default:
			idle = 0
		}
	}
}
