package dynstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/internal/faultproxy"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/dynstore/internal/faultclient"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// The ledger: a test domain whose projection runs touch many documents.
// A batch posts an amount to many accounts; the balances projection adds
// it to each account's document, documents every batch shares.

type ledgerBatch struct{ Posts int }

type post struct {
	Accounts []string `json:"accounts"`
	Amount   int64    `json:"amount"`
}

type posted post

type balance struct {
	Total int64 `json:"total"`
	Posts int64 `json:"posts"`
}

var ledgerType = signal.MustDefine(signal.Spec[ledgerBatch]{
	Name: "batch",
	Commands: []signal.CommandSpec[ledgerBatch]{
		signal.Decide("Post", func(_ ledgerBatch, cmd post) ([]any, error) { return []any{posted(cmd)}, nil }, signal.Genesis),
	},
	Events: []signal.EventSpec[ledgerBatch]{
		signal.Evolve("Posted", func(s ledgerBatch, _ posted) ledgerBatch { s.Posts++; return s }),
	},
})

func balancesProjection() *signal.Projection {
	return &signal.Projection{
		Name: "balances",
		On: []signal.ProjectionHandler{signal.Project(func(ctx context.Context, tx *signal.ViewTx, _ signal.Event, p posted) error {
			for _, acct := range p.Accounts {
				var b balance
				if _, err := tx.Get(ctx, "balance", acct, &b); err != nil {
					return err
				}
				b.Total += p.Amount
				b.Posts++
				if err := tx.Put(ctx, "balance", acct, b); err != nil {
					return err
				}
			}
			return nil
		})},
	}
}

// TestLargeRunsUnderFaults: projection runs of 101 to 220 documents, more
// than one transaction holds, run by two projector containers at once
// (each on its own streams, as Lambda runs one batch per shard, all on
// the same shared documents), through a proxy that throttles, fails and
// loses answers (also of writes that landed) on 15% of the requests,
// while runs are also cut short as a crash would, once after each step.
// Delivery is repeated until it succeeds, as Lambda does, and then all of
// it again by every container at once. In the end every balance equals a
// rebuild from the log, no lock or committed run is left, and nothing was
// parked.
func TestLargeRunsUnderFaults(t *testing.T) {
	const (
		accounts, batches, streams, containers = 120, 4, 3, 2
	)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	st := newTestStore(t)
	seed := faultproxy.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 7))
	writeLedgerBatches(ctx, t, st, rng, accounts, batches, streams)
	commits := loadAllCommits(t, st, streams)

	proxy, err := faultproxy.New(faultproxy.Config{Upstream: motoserver.Endpoint(t), Seed: seed,
		Rates: faultproxy.Uniform(0.15), MaxLatency: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	crashes := &stepCrashes{at: map[string]int{}}
	svcs := ledgerProjectors(t, proxy, st, containers, crashes.crash)
	var redeliveries atomic.Int64
	deliverOwnThenAll(ctx, t, svcs, commits, &redeliveries)
	if ctx.Err() != nil {
		t.Fatalf("the projectors did not finish: %d redeliveries, %s", redeliveries.Load(), proxy.Stats())
	}
	stats := proxy.Stats()
	if err := proxy.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}

	// A clean delivery finds nothing to do but what crashes left: runs
	// committed and not applied are completed by the checkpoint's mark.
	clean, err := signal.New(signal.Config{Store: st.Store, Types: []signal.AggregateType{ledgerType}, Subscribers: []signal.Subscriber{balancesProjection()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := clean.Dispatch(ctx, commits); err != nil {
		t.Fatal(err)
	}
	checkBalancesRebuilt(ctx, t, clean, commits, accounts)
	before, resolved := checkRunsResolved(ctx, t, st)
	if fs, err := clean.Failures(ctx); err != nil || len(fs) != 0 {
		t.Errorf("failures: %+v, %v", fs, err)
	}
	if stats.Faults[faultproxy.DropResponse] == 0 || len(crashes.at) != 5 {
		t.Errorf("the test injected too little: crashes %v, %s", crashes.at, stats)
	}
	t.Logf("%d crashes, %d redeliveries, left by crashes %+v, resolved %+v; %s", crashes.n.Load(), redeliveries.Load(), before, resolved, stats)
}

// writeLedgerBatches writes the batches, directly and without faults:
// each posts a random amount to 101 to 110 of the accounts, on streams
// b0..b(streams-1) (some streams get two batches: runs of two events).
func writeLedgerBatches(ctx context.Context, t *testing.T, st *testStore, rng *rand.Rand, accounts, batches, streams int) {
	t.Helper()
	writer, err := signal.New(signal.Config{Store: st.Store, Types: []signal.AggregateType{ledgerType}})
	if err != nil {
		t.Fatal(err)
	}
	for b := range batches {
		n := 101 + rng.IntN(10)
		p := post{Amount: int64(1 + rng.IntN(50))}
		for _, i := range rng.Perm(accounts)[:n] {
			p.Accounts = append(p.Accounts, fmt.Sprint("acct-", i))
		}
		id := fmt.Sprint("b", b%streams)
		if _, err := writer.Handle(ctx, "batch", id, p); err != nil {
			t.Fatal(err)
		}
	}
}

// stepCrashes cuts runs short as a crash would: the first run to reach
// each step stops there.
type stepCrashes struct {
	mu sync.Mutex
	at map[string]int // crashes per step
	n  atomic.Int64
}

// crash is a Store's runHook: ErrUnavailable the first time step is
// reached, nil after.
func (c *stepCrashes) crash(step string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at[step] >= 1 {
		return nil
	}
	c.at[step]++
	c.n.Add(1)
	return signal.Errorf(signal.KindUnavailable, "test", "crashed after %s", step)
}

// ledgerProjectors returns n projector containers of the balances
// projection, each on its own client through the proxy, with a short run
// lease, runHook crash and no parking.
func ledgerProjectors(t *testing.T, proxy *faultproxy.Proxy, st *testStore, n int, crash func(string) error) []*signal.Service {
	t.Helper()
	var svcs []*signal.Service
	for range n {
		s, err := New(faultclient.DynamoDB(t, proxy, 5, ClientOptions(NewMeter())), st.tables)
		if err != nil {
			t.Fatal(err)
		}
		s.runLease = 300 * time.Millisecond
		s.runHook = crash
		svc, err := signal.New(signal.Config{Store: s, Types: []signal.AggregateType{ledgerType},
			Subscribers: []signal.Subscriber{balancesProjection()}, ParkAfter: -1})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	return svcs
}

// deliverOwnThenAll delivers commits to every container at once, each
// its own streams (b<i> goes to container i mod the containers), then
// every container all of them.
func deliverOwnThenAll(ctx context.Context, t *testing.T, svcs []*signal.Service, commits []signal.Commit, redeliveries *atomic.Int64) {
	for _, all := range []bool{false, true} {
		var wg sync.WaitGroup
		for c, svc := range svcs {
			var batch []signal.Commit
			for _, cm := range commits {
				if all || int(cm.Stream.ID[1]-'0')%len(svcs) == c {
					batch = append(batch, cm)
				}
			}
			wg.Go(func() { redeliverUntilDone(ctx, t, c, svc, batch, redeliveries) })
		}
		wg.Wait()
	}
}

// redeliverUntilDone dispatches batch on container c's svc until it
// succeeds or ctx ends, as Lambda redelivers, counting redeliveries. An
// error other than a *DispatchError fails t.
func redeliverUntilDone(ctx context.Context, t *testing.T, c int, svc *signal.Service, batch []signal.Commit, redeliveries *atomic.Int64) {
	for ctx.Err() == nil {
		err := svc.Dispatch(ctx, batch)
		if err == nil {
			return
		}
		var de *signal.DispatchError
		if !errors.As(err, &de) {
			t.Errorf("container %d: %v", c, err)
			return
		}
		redeliveries.Add(1)
		time.Sleep(20 * time.Millisecond)
	}
}

// checkBalancesRebuilt checks every account's balance as projected
// against the reference: the same log rebuilt in memory.
func checkBalancesRebuilt(ctx context.Context, t *testing.T, projected *signal.Service, commits []signal.Commit, accounts int) {
	t.Helper()
	ref, err := signal.New(signal.Config{Store: memstore.New(), Types: []signal.AggregateType{ledgerType}, Subscribers: []signal.Subscriber{balancesProjection()}})
	if err != nil {
		t.Fatal(err)
	}
	refStore := ref.Store().(*memstore.Store)
	for _, c := range commits {
		if err := refStore.Append(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := ref.Dispatch(ctx, commits); err != nil {
		t.Fatal(err)
	}
	for i := range accounts {
		key := fmt.Sprint("acct-", i)
		want, _, werr := signal.LoadView[balance](ctx, ref, "balance", key)
		got, _, gerr := signal.LoadView[balance](ctx, projected, "balance", key)
		if want != got || (werr == nil) != (gerr == nil) {
			t.Errorf("balance/%s = %+v (%v), rebuilt from the log %+v (%v)", key, got, gerr, want, werr)
		}
	}
}

// checkRunsResolved checks what crashes left where nobody came by:
// committed runs are all complete (the marks saw to it); pending ones are
// aborted once their lease is over, and then nothing is left locked. It
// returns the leftovers before ResolveRuns and what it resolved.
func checkRunsResolved(ctx context.Context, t *testing.T, st *testStore) (runLeftovers, RunStats) {
	t.Helper()
	before := scanRunLeftovers(t, st)
	if before.committed != 0 || before.marks != 0 {
		t.Errorf("committed runs left after a clean delivery: %+v", before)
	}
	st.runLease = 300 * time.Millisecond
	time.Sleep(st.lease())
	resolved, err := st.ResolveRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leftovers := scanRunLeftovers(t, st)
	if leftovers.locks != 0 || leftovers.committed != 0 || leftovers.pending != 0 || leftovers.marks != 0 {
		t.Errorf("left behind after ResolveRuns (%+v): %+v", resolved, leftovers)
	}
	return before, resolved
}

// loadAllCommits reads the commits of batch streams b0..b(n-1).
func loadAllCommits(t *testing.T, st *testStore, n int) []signal.Commit {
	t.Helper()
	var out []signal.Commit
	for b := range n {
		for c, err := range st.Load(t.Context(), signal.StreamID{Type: "batch", ID: fmt.Sprint("b", b)}, 0) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
	}
	return out
}

type runLeftovers struct {
	locks, committed, pending, marks, pages int
}

// scanRunLeftovers counts what multi-step runs left in the views table:
// locked documents, run items by state, checkpoints still marked with a
// run, journal pages. Pending runs and pages nobody met are allowed to
// stay (they take no lock that matters once aborted, and expire).
func scanRunLeftovers(t *testing.T, st *testStore) runLeftovers {
	t.Helper()
	var l runLeftovers
	p := dynamodb.NewScanPaginator(st.client, &dynamodb.ScanInput{TableName: aws.String(st.tables.Views), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			kind, _ := getS(item, attrKind)
			_, locked := item[attrLock].(*types.AttributeValueMemberS)
			_, marked := item[attrRun].(*types.AttributeValueMemberS)
			state, _ := getS(item, attrState)
			switch {
			case kind == KindView && locked:
				l.locks++
			case kind == KindCheckpoint && marked:
				l.marks++
			case kind == KindRun && state == runCommitted:
				l.committed++
			case kind == KindRun:
				l.pending++
			case kind == KindJournal:
				l.pages++
			}
		}
	}
	return l
}

// TestLargeRunCost: the requests of a projection run, by the meter. One
// that fits a transaction is its reads and one TransactWriteItems; one
// over 99 documents adds a run item, a journal page, a lock transaction
// per 100 documents, the commit transaction, a write per document and
// the clean-up (viewrun.go, docs/TABLE.md).
func TestLargeRunCost(t *testing.T) {
	for _, tc := range []struct {
		docs int
		want map[string]int64
	}{
		{99, map[string]int64{"GetItem": 1 + 99, "TransactWriteItems": 1}},
		{250, map[string]int64{"GetItem": 1 + 250, "PutItem": 1 + 1, "TransactWriteItems": 3 + 1, "UpdateItem": 250 + 1, "DeleteItem": 1 + 1}},
	} {
		t.Run(fmt.Sprint(tc.docs, " documents"), func(t *testing.T) {
			st := newTestStore(t)
			svc, err := signal.New(signal.Config{Store: st.Store, Types: []signal.AggregateType{ledgerType}, Subscribers: []signal.Subscriber{balancesProjection()}})
			if err != nil {
				t.Fatal(err)
			}
			p := post{Amount: 1}
			for i := range tc.docs {
				p.Accounts = append(p.Accounts, fmt.Sprint("acct-", i))
			}
			if _, err := svc.Handle(t.Context(), "batch", "b0", p); err != nil {
				t.Fatal(err)
			}
			commits := loadAllCommits(t, st, 1)
			st.meter.Reset()
			if err := svc.Dispatch(t.Context(), commits); err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for op, s := range st.meter.Stats() {
				got[op] = s.Calls
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("requests %v, want %v", got, tc.want)
			}
			if l := scanRunLeftovers(t, st); l != (runLeftovers{}) {
				t.Fatalf("left behind: %+v", l)
			}
		})
	}
}

// throttledLocks cancels the first lock transaction of a run as DynamoDB
// does when it throttles one: TransactionCanceledException with the
// reason ThrottlingError, nothing written. (moto_server never throttles,
// and the fault proxy throttles requests, not transactions' items.)
type throttledLocks struct {
	API
	done atomic.Bool
}

func (a *throttledLocks) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if u := in.TransactItems[0].Update; u != nil && u.ExpressionAttributeNames["#lk"] == attrLock && a.done.CompareAndSwap(false, true) {
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i].Code = aws.String("ThrottlingError")
		}
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
	}
	return a.API.TransactWriteItems(ctx, in, opts...)
}

// TestLockTransactionThrottled: a lock transaction canceled by throttling
// took no lock; the run must fail (unavailable, nothing written), not go
// on as if it held the documents.
func TestLockTransactionThrottled(t *testing.T) {
	st := newTestStore(t)
	api := &throttledLocks{API: st.client}
	s, err := New(api, st.tables)
	if err != nil {
		t.Fatal(err)
	}
	stream := signal.StreamID{Type: "batch", ID: "b0"}
	writes := make([]signal.ViewWrite, 150)
	for i := range writes {
		writes[i] = signal.ViewWrite{Name: "balance", Key: fmt.Sprint("acct-", i), Data: []byte(`{"total":1,"posts":1}`)}
	}
	c := signal.ViewCommit{Subscriber: "balances", Stream: stream, From: 0, To: 1, Writes: writes}
	err = s.CommitViews(t.Context(), c)
	if signal.KindOf(err) != signal.KindUnavailable {
		t.Fatalf("CommitViews with a throttled lock transaction = %v, want unavailable", err)
	}
	if cp, err := s.LoadCheckpoint(t.Context(), "balances", stream); err != nil || cp.Version != 0 {
		t.Fatalf("checkpoint %+v %v, want 0", cp, err)
	}
	for _, w := range writes {
		if _, err := s.LoadView(t.Context(), w.Name, w.Key); signal.KindOf(err) != signal.KindNotFound {
			t.Fatalf("%s/%s after a failed run: %v, want not found", w.Name, w.Key, err)
		}
	}
	if err := s.CommitViews(t.Context(), c); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if v, err := s.LoadView(t.Context(), "balance", "acct-149"); err != nil || v.Version != 1 {
		t.Fatalf("after the retry: %+v %v", v, err)
	}
}
