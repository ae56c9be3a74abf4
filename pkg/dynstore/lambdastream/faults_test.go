package lambdastream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/signalforgo/signal/internal/faultproxy"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/dynstore/dynstream"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// failureLog collects the adapter's "subscriber failed" log lines: the
// stream, version and subscriber of every failure it reported.
type failureLog struct {
	mu    sync.Mutex
	lines []loggedFailure
}

type loggedFailure struct {
	aggregate, subscriber string
	version               int64
	kind                  signal.Kind // of the error
}

func (l *failureLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *failureLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *failureLog) WithGroup(string) slog.Handler            { return l }
func (l *failureLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "projector: subscriber failed" {
		return nil
	}
	var f loggedFailure
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "aggregate":
			f.aggregate = a.Value.String()
		case "subscriber":
			f.subscriber = a.Value.String()
		case "version":
			f.version = a.Value.Int64()
		case "error":
			err, _ := a.Value.Any().(error)
			f.kind = signal.KindOf(err)
		}
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, f)
	l.mu.Unlock()
	return nil
}

func (l *failureLog) take() []loggedFailure {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

// sessionCommand is the i-th command of the tab session: adds on 5 tabs
// (4 items, one price per item), a few cancels, then payments of tabs 0-2
// and a void of tab 3.
type sessionCommand struct {
	tab string
	cmd any // nil: End
}

func tabSession() []sessionCommand {
	rng := rand.New(rand.NewPCG(7, 7))
	var out []sessionCommand
	for range 40 {
		c := fmt.Sprint("tab-", rng.IntN(5))
		item := rng.IntN(4)
		if rng.IntN(5) == 0 {
			out = append(out, sessionCommand{c, tab.CancelItem{Item: fmt.Sprint("tap-", item), Quantity: 1}})
			continue
		}
		out = append(out, sessionCommand{c, tab.OrderItem{Item: fmt.Sprint("tap-", item), Quantity: int64(1 + rng.IntN(3)), Price: 100 + int64(item)}})
	}
	for i := range 3 {
		out = append(out, sessionCommand{fmt.Sprint("tab-", i), tab.Pay{}})
	}
	out = append(out, sessionCommand{"tab-3", nil})
	return out
}

// runSession sends the tab session's commands to svc; between, when
// set, runs before the i-th command and after the last (i = len).
func runSession(t *testing.T, svc *signal.Service, between func(i int)) {
	ctx := t.Context()
	session := tabSession()
	for i, c := range session {
		if between != nil {
			between(i)
		}
		var err error
		if c.cmd == nil {
			_, err = svc.End(ctx, "tab", c.tab, signal.WithCommandID(fmt.Sprint("s-", i)))
		} else {
			_, err = svc.Handle(ctx, "tab", c.tab, c.cmd, signal.WithCommandID(fmt.Sprint("s-", i)))
		}
		if err != nil && signal.KindOf(err) != signal.KindRejected {
			t.Fatalf("command %d on %s: %v", i, c.tab, err)
		}
	}
	if between != nil {
		between(len(session))
	}
}

// referenceViews runs the session in process (memstore, subscribers
// inline; between as for runSession) and returns its views.
func referenceViews(t *testing.T, between func(svc *signal.Service, i int), tabs ...string) map[string]any {
	ref, err := signal.New(signal.Config{Store: memstore.New(), Types: tab.Types(), Subscribers: tab.Subscribers(), InlineDispatch: true})
	if err != nil {
		t.Fatal(err)
	}
	var hook func(int)
	if between != nil {
		hook = func(i int) { between(ref, i) }
	}
	runSession(t, ref, hook)
	return sessionViews(t, ref, tabs...)
}

// sessionViews reads the tab-summary documents of the session's tabs
// and of tabs, and the item-sales documents, decoded.
func sessionViews(t *testing.T, svc *signal.Service, tabs ...string) map[string]any {
	out := map[string]any{}
	for i := range 5 {
		tabs = append(tabs, fmt.Sprint("tab-", i))
	}
	for _, k := range tabs {
		v, err := svc.View(t.Context(), tab.TabSummaryView, k)
		var doc tab.TabSummary
		if err == nil {
			err = json.Unmarshal(v.Data, &doc)
		}
		out["summary/"+k] = fmt.Sprintf("%+v %v", doc, errKind(err))
	}
	for i := range 4 {
		k := fmt.Sprint("tap-", i)
		v, err := svc.View(t.Context(), tab.ItemSalesView, k)
		var doc tab.ItemSales
		if err == nil {
			err = json.Unmarshal(v.Data, &doc)
		}
		out["sales/"+k] = fmt.Sprintf("%+v %v", doc, errKind(err))
	}
	return out
}

// compareViews reports every view that differs from the reference's.
func compareViews(t *testing.T, got, want map[string]any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("%s: projected %v, reference %v", k, got[k], want[k])
		}
	}
}

// streamEnv is a pair of tables in moto_server, written directly (no
// faults), with the events table's stream read as Lambda's batches.
type streamEnv struct {
	cfg         aws.Config
	tables      dynstore.Tables
	directStore *dynstore.Store
	// writer writes commands directly; reader reads views, checkpoints
	// and failures directly (neither has subscribers).
	writer, reader *signal.Service
	arn            string
	streams        *dynamodbstreams.Client
	iters          map[string]*string
}

var tableSeq atomic.Int64

func newStreamEnv(t *testing.T, ctx context.Context) *streamEnv {
	e := &streamEnv{cfg: motoserver.Config(t), iters: map[string]*string{}}
	direct := dynamodb.NewFromConfig(e.cfg, dynstore.ClientOptions(nil))
	n := tableSeq.Add(1)
	e.tables = dynstore.Tables{Events: fmt.Sprintf("ls-events-%d-%d-%d", os.Getpid(), n, time.Now().UnixNano()),
		Views: fmt.Sprintf("ls-views-%d-%d-%d", os.Getpid(), n, time.Now().UnixNano())}
	if err := dynstore.CreateTables(ctx, direct, e.tables); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.directStore, err = dynstore.New(direct, e.tables); err != nil {
		t.Fatal(err)
	}
	if e.writer, err = signal.New(signal.Config{Store: e.directStore, Types: tab.Types()}); err != nil {
		t.Fatal(err)
	}
	if e.reader, err = signal.New(signal.Config{Store: e.directStore, Types: tab.Types()}); err != nil {
		t.Fatal(err)
	}
	if e.arn, err = dynstream.StreamARN(ctx, direct, e.tables.Events); err != nil {
		t.Fatal(err)
	}
	e.streams = dynamodbstreams.NewFromConfig(e.cfg)
	return e
}

// read returns the stream's commit records (INSERTs) written since the
// last read, in Lambda's shape.
func (e *streamEnv) read(t *testing.T, ctx context.Context) []events.DynamoDBEventRecord {
	desc, err := e.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(e.arn)})
	if err != nil {
		t.Fatal(err)
	}
	var out []events.DynamoDBEventRecord
	for _, sh := range desc.StreamDescription.Shards {
		id := aws.ToString(sh.ShardId)
		if e.iters[id] == nil {
			it, err := e.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(e.arn), ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
			if err != nil {
				t.Fatal(err)
			}
			e.iters[id] = it.ShardIterator
		}
		for e.iters[id] != nil {
			o, err := e.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: e.iters[id]})
			if err != nil {
				t.Fatal(err)
			}
			e.iters[id] = o.NextShardIterator
			if len(o.Records) == 0 {
				break
			}
			for _, r := range o.Records {
				if r.EventName != streamtypes.OperationTypeInsert || r.Dynamodb == nil {
					continue
				}
				if k, ok := r.Dynamodb.NewImage["kind"].(*streamtypes.AttributeValueMemberS); !ok || k.Value != dynstore.KindCommit {
					continue
				}
				lr, err := dynstream.LambdaRecord(r, e.arn)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, lr)
			}
		}
	}
	return out
}

// faultyStore is a Store on the env's tables whose client goes through
// the proxy, with SDK retries of attempts attempts 1 ms apart and an HTTP
// timeout per attempt.
func (e *streamEnv) faultyStore(t *testing.T, p *faultproxy.Proxy, attempts int, timeout time.Duration) *dynstore.Store {
	client := dynamodb.NewFromConfig(e.cfg, dynstore.ClientOptions(nil), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(p.URL())
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.RateLimiter = ratelimit.None
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(timeout)
	})
	s, err := dynstore.New(client, e.tables)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// errKind is "ok" or the error's kind (stores word their errors differently).
func errKind(err error) string {
	if err == nil {
		return "ok"
	}
	return signal.KindOf(err).String()
}

// TestProjectorUnderFaults: a tab session written directly to moto, then
// projected by a Handler whose DynamoDB client goes through a fault proxy
// throttling 30% of TransactWriteItems, GetItem and PutItem (3 SDK
// attempts, so some runs fail), with an extra subscriber that fails on one
// chosen event the first 3 times. Batches are built from the table's
// stream (commit INSERTs, dynstream.LambdaRecord) and redelivered from the
// earliest reported record, as Lambda does. Checked: every reported
// identifier is a record of the batch, the earliest of its aggregate at or
// after the failed version (exactly the chosen event's record for the
// flaky subscriber); nothing is applied past a failure (the flaky
// subscriber's versions never jump and stop at its injected failure, the
// tab-summary document never moves past a reported tab-summary failure);
// after convergence the views equal an in-process reference's.
func TestProjectorUnderFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	start := time.Now()
	env := newStreamEnv(t, ctx)
	runSession(t, env.writer, nil)
	want := referenceViews(t, nil)
	first := env.read(t, ctx)
	r := &flakyRun{t: t, ctx: ctx, reader: env.reader, flakySeen: map[string]int64{}}
	r.choose(first)

	// The projector, through the proxy.
	seed := faultproxy.Seed(t)
	proxy, err := faultproxy.New(faultproxy.Config{
		Upstream:   motoserver.Endpoint(t),
		Seed:       seed,
		Rates:      faultproxy.Rates{Throttle: 0.3},
		Operations: []string{"TransactWriteItems", "GetItem", "PutItem"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	r.newHandler(env.faultyStore(t, proxy, 3, 5*time.Second))
	for recs := first; len(recs) > 0; recs = env.read(t, ctx) {
		for i := 0; i < len(recs); i += batchSize {
			r.deliver(recs[i:min(i+batchSize, len(recs))])
		}
	}
	// A failure of the chosen event is reported under the flaky
	// subscriber's name unless another subscriber failed earlier on tab-1
	// in the same run (the dispatcher reports a stream's first failure).
	if r.flakyFailed != flakyTimes || r.chosenReports == 0 {
		t.Errorf("the flaky subscriber failed %d times, reported %d times; want %d and at least 1", r.flakyFailed, r.chosenReports, flakyTimes)
	}
	pstats := proxy.Stats()
	if err := proxy.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}
	compareViews(t, sessionViews(t, env.reader), want)
	for i := range 3 {
		if _, err := env.reader.Get(ctx, "receipt", fmt.Sprint("tab-", i)); err != nil {
			t.Errorf("receipt tab-%d: %v", i, err)
		}
	}
	t.Logf("%d commit records, %d invocations, seed %d: %d reported failures, the chosen event reported %d times; proxy %v; %v", len(first), r.invocations, seed, r.reported, r.chosenReports, pstats, time.Since(start).Round(time.Millisecond))
}

// flakyTimes is how many times the flaky subscriber fails on the chosen event.
const flakyTimes = 3

// flakyRun is TestProjectorUnderFaults' projector: the session's
// subscribers plus a flaky one failing on a chosen event, and what its
// invocations reported.
type flakyRun struct {
	t      *testing.T
	ctx    context.Context
	reader *signal.Service // reads views directly

	// The chosen event: the first event of tab-1's third commit.
	chosenID, chosenSeq string
	chosenStream        signal.StreamID
	chosenVersion       int64

	// The flaky subscriber's failures so far and, per aggregate, the
	// highest version it handled.
	flakyFailed int
	flakySeen   map[string]int64

	handler *Handler
	logs    *failureLog

	invocations, reported, chosenReports int
}

// choose picks the chosen event among the session's records: the first
// event of tab-1's third commit (a commit with records of its aggregate
// before and after it in the stream).
func (r *flakyRun) choose(records []events.DynamoDBEventRecord) {
	for _, d := range dynstream.DecodeLambdaEvent(events.DynamoDBEvent{Records: records}) {
		if d.Err != nil {
			r.t.Fatal(d.Err)
		}
		if d.IsCommit && d.Commit.Stream.ID == "tab-1" && d.Commit.Version == 3 {
			r.chosenID, r.chosenSeq, r.chosenStream, r.chosenVersion = d.Commit.Events[0].ID, d.SequenceNumber, d.Commit.Stream, d.Commit.Version
		}
	}
	if r.chosenID == "" {
		r.t.Fatalf("no commit at version 3 of tab-1 among %d records", len(records))
	}
}

// newHandler builds the projector on store, with the flaky subscriber,
// and its Lambda handler logging failures to r.logs.
func (r *flakyRun) newHandler(store *dynstore.Store) {
	flaky := &signal.Observer{Name: "flaky", Types: []string{tab.TypeName}, On: []signal.ObserverHandler{signal.ObserveAll(r.flakyHandle)}}
	// One stream at a time: moto_server's rollback of a failed transaction
	// would otherwise lose concurrent view writes.
	projector, err := signal.New(signal.Config{Store: store, Types: tab.Types(),
		Subscribers: append(tab.Subscribers(), flaky), DispatchConcurrency: 1})
	if err != nil {
		r.t.Fatal(err)
	}
	r.logs = &failureLog{}
	r.handler = New(Config{Service: projector, Logger: slog.New(r.logs)})
}

// flakyHandle is the flaky subscriber: it fails on the chosen event its
// first flakyTimes times, and checks that versions never jump.
func (r *flakyRun) flakyHandle(_ context.Context, ev signal.Event) error {
	k := ev.AggregateType + "#" + ev.AggregateID
	if ev.Version > r.flakySeen[k]+1 {
		r.t.Errorf("flaky subscriber: %s version %d after %d (a jump)", k, ev.Version, r.flakySeen[k])
	}
	if ev.ID == r.chosenID && r.flakyFailed < flakyTimes {
		r.flakyFailed++
		return errors.New("flaky: injected failure")
	}
	r.flakySeen[k] = max(r.flakySeen[k], ev.Version)
	return nil
}

// summaryVersion is the version of tab id's summary document, 0 when
// there is none (or it does not decode).
func (r *flakyRun) summaryVersion(id string) int64 {
	v, err := r.reader.View(r.ctx, tab.TabSummaryView, id)
	var doc tab.TabSummary
	if err == nil && json.Unmarshal(v.Data, &doc) == nil {
		return doc.Version
	}
	return 0
}

// deliver invokes the handler with batch, redelivering it from the
// earliest reported record, as Lambda does, until an invocation reports
// nothing; more than 50 invocations fail the test.
func (r *flakyRun) deliver(batch []events.DynamoDBEventRecord) {
	for attempt := 0; len(batch) > 0; attempt++ {
		if attempt > 50 || r.ctx.Err() != nil {
			r.t.Fatalf("the batch from %s did not converge", batch[0].Change.SequenceNumber)
		}
		batch = r.invokeOnce(batch)
	}
}

// flakyInvocation is one invocation of the handler: the state before it,
// its batch decoded and what it reported.
type flakyInvocation struct {
	seenBefore    map[string]int64 // flakySeen before
	summaryBefore map[string]int64 // the tabs' summary versions before
	injected      bool             // the flaky subscriber failed in it
	decoded       []dynstream.DecodedRecord
	index         map[string]int // sequence number -> position in the batch
	reportedSeqs  map[string]bool
	failures      []events.DynamoDBBatchItemFailure
}

// invokeOnce runs one invocation, checks what it reported, and returns
// what Lambda redelivers: the batch from the earliest reported record,
// or nothing.
func (r *flakyRun) invokeOnce(batch []events.DynamoDBEventRecord) []events.DynamoDBEventRecord {
	r.invocations++
	inv := flakyInvocation{seenBefore: maps.Clone(r.flakySeen), summaryBefore: map[string]int64{}}
	failedBefore := r.flakyFailed
	for i := range 5 {
		id := fmt.Sprint("tab-", i)
		inv.summaryBefore[id] = r.summaryVersion(id)
	}
	resp, err := r.handler.Handle(r.ctx, events.DynamoDBEvent{Records: batch})
	inv.injected = r.flakyFailed > failedBefore
	if err != nil {
		r.t.Fatal(err)
	}
	if len(resp.BatchItemFailures) == 0 {
		r.logs.take()
		return nil
	}
	inv.failures = resp.BatchItemFailures
	inv.decoded = dynstream.DecodeLambdaEvent(events.DynamoDBEvent{Records: batch})
	inv.index = map[string]int{}
	for i, d := range inv.decoded {
		inv.index[d.SequenceNumber] = i
	}
	earliest := len(batch)
	inv.reportedSeqs = map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		r.reported++
		i, in := inv.index[f.ItemIdentifier]
		if !in {
			r.t.Fatalf("reported %s, not a record of the batch", f.ItemIdentifier)
		}
		inv.reportedSeqs[f.ItemIdentifier] = true
		earliest = min(earliest, i)
	}
	for _, lf := range r.logs.take() {
		r.checkLoggedFailure(&inv, lf)
	}
	r.checkEarliestReported(&inv)
	return batch[earliest:]
}

// checkLoggedFailure checks one failure the adapter logged: its reported
// record is the earliest of its aggregate in the batch ending at or after
// the version; the flaky subscriber's injected failure is the chosen
// event's record and stops it there; the tab-summary moves past no
// reported failure.
func (r *flakyRun) checkLoggedFailure(inv *flakyInvocation, lf loggedFailure) {
	t := r.t
	want := ""
	for _, d := range inv.decoded {
		if d.IsCommit && d.Commit.Stream.String() == lf.aggregate && d.Commit.LastVersion() >= lf.version {
			want = d.SequenceNumber
			break
		}
	}
	if want == "" {
		return // the failure was in commits read to fill a gap
	}
	if !inv.reportedSeqs[want] {
		t.Errorf("%s failed at version %d (%s): %s not reported (reported %v)", lf.aggregate, lf.version, lf.subscriber, want, inv.failures)
	}
	chosen := lf.subscriber == "flaky" && lf.aggregate == r.chosenStream.String() && lf.version == r.chosenVersion
	if chosen {
		r.chosenReports++
		if want != r.chosenSeq {
			t.Errorf("flaky failure reported as %s, want %s (the chosen event's record)", want, r.chosenSeq)
		}
	}
	// The injected failure stops the flaky subscriber at the chosen
	// event: it handled nothing of the aggregate past it. (Other failures
	// of a Handler, a checkpoint save, may come after it handled the
	// whole batch: at least once.)
	if inv.injected && chosen && r.flakySeen[lf.aggregate] > max(r.chosenVersion-1, inv.seenBefore[lf.aggregate]) {
		t.Errorf("flaky subscriber at %s version %d (%d before the invocation), past its injected failure at %d", lf.aggregate, r.flakySeen[lf.aggregate], inv.seenBefore[lf.aggregate], lf.version)
	}
	// A projection commits its documents with its checkpoint: after a
	// failure at V the tab-summary reflects nothing past V-1 it did not
	// reflect before the invocation (V may be lower than what it had
	// reached: a failed checkpoint read reports the batch's first event).
	if lf.subscriber == tab.TabSummaryView {
		id := lf.aggregate[len("tab#"):]
		if after := r.summaryVersion(id); after > max(lf.version-1, inv.summaryBefore[id]) {
			t.Errorf("tab-summary of %s at version %d (%d before the invocation), past its reported failure at %d", id, after, inv.summaryBefore[id], lf.version)
		}
	}
}

// checkEarliestReported checks that no reported record has a record of
// the same aggregate before it in the batch at or after its version.
func (r *flakyRun) checkEarliestReported(inv *flakyInvocation) {
	for seq := range inv.reportedSeqs {
		d := inv.decoded[inv.index[seq]]
		for _, e := range inv.decoded[:inv.index[seq]] {
			if e.IsCommit && d.IsCommit && e.Commit.Stream == d.Commit.Stream && e.Commit.Version >= d.Commit.Version {
				r.t.Errorf("reported %s (%s v%d) but %s (v%d) comes before it", seq, d.Commit.Stream, d.Commit.Version, e.SequenceNumber, e.Commit.Version)
			}
		}
	}
}
