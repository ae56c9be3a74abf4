package dynstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/signal"
)

const opPoll = "dynstream.Poll"

// StreamsAPI is the part of the DynamoDB Streams client a Poller uses;
// *dynamodbstreams.Client satisfies it.
type StreamsAPI interface {
	DescribeStream(context.Context, *dynamodbstreams.DescribeStreamInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(context.Context, *dynamodbstreams.GetShardIteratorInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(context.Context, *dynamodbstreams.GetRecordsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// StartPosition says where a Poller without saved positions starts reading.
type StartPosition uint8

const (
	// StartTrimHorizon reads every record still in the stream (24 hours).
	StartTrimHorizon StartPosition = iota
	// StartLatest reads only records written after the poller's first pass.
	StartLatest
)

// ShardPosition is how far a Poller has acknowledged one shard.
type ShardPosition struct {
	// SequenceNumber is the last record whose batch the handler accepted
	// (commits and skipped records alike); "" if none yet.
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	// Finished: the shard is closed and every record of it was acknowledged.
	Finished bool `json:"finished,omitempty"`
}

// PollerConfig configures a Poller. Only StreamARN is required.
type PollerConfig struct {
	// StreamARN is the events table's stream (see StreamARN).
	StreamARN string
	// Start applies when Positions is empty, to the shards open at the
	// poller's first pass: StartLatest skips what they already hold (and
	// shards already closed). Shards found later are always read from
	// their beginning, since every record in them is new to the poller.
	Start StartPosition
	// Positions resumes a previous poller (Poller.Positions): a listed
	// shard is read after its SequenceNumber, or skipped when Finished; a
	// shard not listed is read from its beginning.
	Positions map[string]ShardPosition
	// PollInterval is the pause after a pass that delivered something;
	// idle or failing passes double it up to MaxPollInterval. Default 250ms.
	PollInterval time.Duration
	// MaxPollInterval bounds the backoff. Default 8 × PollInterval.
	MaxPollInterval time.Duration
	// BatchSize is the GetRecords Limit, 1 to 1000. Default 100.
	BatchSize int32
	// Logger receives expired iterators, trimmed data and retried failures.
	// Default slog.Default().
	Logger *slog.Logger
}

// Poller reads the commits of an events table's DynamoDB stream through the
// Streams API, the local and self-hosted counterpart of the Lambda
// projector (`signal dev` drains it into Service.Dispatch).
//
// Order: each shard is read in order, and a child shard (after a split or
// a rollover) only once its parent is finished, so the records of one item
// arrive in the order they were written, as DynamoDB guarantees per item.
// As with Lambda, nothing orders different items across shards; the
// dispatcher sorts and checkpoints per stream.
//
// Delivery is at least once. A batch (one GetRecords page, non-commit
// records removed) is acknowledged, moving its shard's position past it,
// only when the handler returns nil; otherwise the same batch is handed
// over again on the next pass. Positions live in memory; Positions exposes
// them for a caller that wants to persist them.
//
// A malformed record (see DecodeStreamRecord) is never skipped: the
// commits before it in its page are delivered, then its shard stops there
// and every pass reports the record's *signal.Error again, so Poll returns
// it and Run returns it at once, since waiting cannot repair it. Other
// shards are not held up by it within the pass.
//
// A Poller is safe for concurrent use; passes are serialised.
type Poller struct {
	api      StreamsAPI
	cfg      PollerConfig
	log      *slog.Logger
	interval time.Duration
	maxWait  time.Duration

	mu          sync.Mutex // held for a whole pass
	shards      map[string]*shardState
	order       []*shardState // parents before children
	listed      bool          // the stream was described at least once
	needRefresh bool
	refreshAt   time.Time

	posMu     sync.Mutex
	positions map[string]ShardPosition
}

// shardRefreshInterval bounds how long a new shard can go unnoticed. New
// shards normally appear only when one closes, which triggers a refresh by
// itself; the periodic one is a safety net that costs one request.
const shardRefreshInterval = 30 * time.Second

// maxPagesPerPass bounds the GetRecords calls of one shard in one pass, so
// a busy shard cannot keep a pass (and the shards after it) waiting.
const maxPagesPerPass = 64

type shardState struct {
	id, parent string
	start      streamtypes.ShardIteratorType // used while readSeq is ""
	ackSeq     string                        // last acknowledged record
	readSeq    string                        // last fetched record; iter points after it
	iter       *string
	finished   bool
	// pending is a fetched batch not yet acknowledged; it is handed over
	// again until the handler accepts it.
	pending *batch
}

type batch struct {
	commits []signal.Commit
	lastSeq string // last record of the batch that decoded, "" if none
	closed  bool   // the shard ends after this batch
	bad     error  // a malformed record follows the batch
}

// NewPoller returns a Poller of cfg.StreamARN. It makes no request; an
// empty StreamARN is reported by the first Poll or Run.
func NewPoller(api StreamsAPI, cfg PollerConfig) *Poller {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 250 * time.Millisecond
	}
	if cfg.MaxPollInterval < cfg.PollInterval {
		cfg.MaxPollInterval = 8 * cfg.PollInterval
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 100
	}
	cfg.BatchSize = min(cfg.BatchSize, 1000)
	cfg.Positions = maps.Clone(cfg.Positions)
	p := &Poller{
		api: api, cfg: cfg, log: cfg.Logger,
		interval: cfg.PollInterval, maxWait: cfg.MaxPollInterval,
		shards:    map[string]*shardState{},
		positions: maps.Clone(cfg.Positions),
	}
	if p.positions == nil {
		p.positions = map[string]ShardPosition{}
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	return p
}

// Positions returns a copy of the acknowledged position of every shard the
// poller has acknowledged something of (including those given in
// PollerConfig.Positions), keyed by shard id. Pass it as
// PollerConfig.Positions to resume.
func (p *Poller) Positions() map[string]ShardPosition {
	p.posMu.Lock()
	defer p.posMu.Unlock()
	return maps.Clone(p.positions)
}

// BatchFunc receives a batch of commits of one shard, in stream order. It
// must not modify or retain the slice: an unaccepted batch is handed over
// again. Returning nil acknowledges the batch; an error has it delivered
// again later.
type BatchFunc func(ctx context.Context, batch []signal.Commit) error

// Poll does one pass over every readable shard (parents before children),
// reading each until it has nothing more now (an empty page), it closes,
// or 64 pages, and calling handle with each non-empty batch of commits.
// It returns how many commits handle accepted, and:
//   - nil: every shard read was caught up at the time of reading. A caller
//     draining the stream repeats Poll until it returns 0.
//   - handle's error, unchanged: the batch is kept and delivered first on
//     the next pass; later pages of that shard wait for it.
//   - a *signal.Error of KindInternal naming a malformed record (see
//     DecodeStreamRecord): its shard stays before it; every pass returns it.
//   - a *signal.Error of KindInvalid: cfg.StreamARN is empty.
//   - another *signal.Error wrapping the AWS error (KindUnavailable for
//     throttling, timeouts and 5xx): a request failed; nothing was
//     skipped, the next pass retries.
//   - ctx's error when ctx ended.
//
// Errors of several shards are joined (errors.Join); the other shards of
// the pass are still read.
func (p *Poller) Poll(ctx context.Context, handle BatchFunc) (int, error) {
	n, _, err := p.pass(ctx, handle)
	return n, err
}

// Run polls until ctx ends, calling handle as Poll does, with
// PollInterval between passes that delivered something and a doubling
// pause, up to MaxPollInterval, after idle or failed passes. handle and
// AWS failures are logged and retried (the batch comes again). Run
// returns:
//   - ctx.Err() once ctx ends (handle's ctx ends with it);
//   - the *signal.Error of a malformed record or of an empty StreamARN,
//     as soon as a pass reports it: no wait can fix those.
func (p *Poller) Run(ctx context.Context, handle BatchFunc) error {
	wait := p.interval
	for {
		n, fatal, err := p.pass(ctx, handle)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fatal {
			return err
		}
		if err != nil {
			p.log.WarnContext(ctx, "dynstream: stream poll failed; retrying", "stream_arn", p.cfg.StreamARN, "error", err, "retry_in", wait)
		}
		if err == nil && n > 0 {
			wait = p.interval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if err != nil || n == 0 {
			wait = min(2*wait, p.maxWait)
		}
	}
}

// pass is one Poll; fatal reports an error retrying cannot fix.
func (p *Poller) pass(ctx context.Context, handle BatchFunc) (n int, fatal bool, err error) {
	if p.cfg.StreamARN == "" {
		return 0, true, signal.Errorf(signal.KindInvalid, opPoll, "the poller has no stream ARN")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	if !p.listed || p.needRefresh || time.Now().After(p.refreshAt) || !p.anyOpen() {
		if err := p.refresh(ctx); err != nil {
			return 0, false, err
		}
	}
	var errs []error
	for _, s := range p.order {
		if s.finished || !p.parentFinished(s) {
			continue
		}
		k, f, err := p.readShard(ctx, s, handle)
		n += k
		if err != nil {
			errs = append(errs, err)
			fatal = fatal || f
		}
		if ctx.Err() != nil {
			return n, false, ctx.Err()
		}
	}
	switch len(errs) {
	case 0:
		return n, false, nil
	case 1:
		return n, fatal, errs[0]
	}
	return n, fatal, errors.Join(errs...)
}

func (p *Poller) anyOpen() bool {
	for _, s := range p.order {
		if !s.finished {
			return true
		}
	}
	return false
}

// parentFinished reports whether s may be read: its parent is finished or
// unknown (trimmed from the stream, or older than the saved positions).
func (p *Poller) parentFinished(s *shardState) bool {
	parent, ok := p.shards[s.parent]
	return !ok || parent.finished
}

// refresh lists the stream's shards (every page), adds the new ones,
// forgets the trimmed ones and orders the rest parents first.
func (p *Poller) refresh(ctx context.Context) error {
	listed, err := p.describeShards(ctx)
	if err != nil {
		return err
	}
	seen, ids := p.addShards(listed)
	p.forgetTrimmed(seen)
	// Shards kept though no longer listed (unfinished) stay in the order.
	for _, s := range p.order {
		if _, ok := p.shards[s.id]; ok && !seen[s.id] {
			ids = append(ids, s.id)
		}
	}
	p.placeInOrder(ids)
	p.listed, p.needRefresh = true, false
	p.refreshAt = time.Now().Add(shardRefreshInterval)
	return nil
}

// describeShards returns every page of the stream's shard list, or the
// DescribeStream failure as awsError words it.
func (p *Poller) describeShards(ctx context.Context) ([]streamtypes.Shard, error) {
	var listed []streamtypes.Shard
	var start *string
	for {
		out, err := p.api.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{
			StreamArn: aws.String(p.cfg.StreamARN), ExclusiveStartShardId: start,
		})
		if err != nil {
			return nil, p.awsError(ctx, "describe stream", err)
		}
		if out.StreamDescription == nil {
			return listed, nil
		}
		listed = append(listed, out.StreamDescription.Shards...)
		next := out.StreamDescription.LastEvaluatedShardId
		// A server repeating a page would otherwise keep this loop going.
		if next == nil || (start != nil && *next == *start) {
			return listed, nil
		}
		start = next
	}
}

// addShards adds the listed shards the poller does not know yet, each
// starting from its saved position, or per cfg.Start on the first
// listing, or else from its beginning. It returns the listed ids, as a
// set and in listing order without duplicates or empty ids.
func (p *Poller) addShards(listed []streamtypes.Shard) (seen map[string]bool, ids []string) {
	first := !p.listed
	latest := first && len(p.cfg.Positions) == 0 && p.cfg.Start == StartLatest
	seen = make(map[string]bool, len(listed))
	for _, sh := range listed {
		id := aws.ToString(sh.ShardId)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
		if _, ok := p.shards[id]; ok {
			continue
		}
		s := &shardState{id: id, parent: aws.ToString(sh.ParentShardId), start: streamtypes.ShardIteratorTypeTrimHorizon}
		if pos, ok := p.cfg.Positions[id]; ok {
			s.ackSeq, s.readSeq, s.finished = pos.SequenceNumber, pos.SequenceNumber, pos.Finished
		} else if latest {
			if sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil {
				// Closed before the poller started: nothing new will come.
				s.finished = true
				p.publish(s)
			} else {
				s.start = streamtypes.ShardIteratorTypeLatest
			}
		}
		p.shards[id] = s
	}
	return seen, ids
}

// forgetTrimmed drops the finished shards no longer listed: they have
// been trimmed away, and forgetting them keeps the state bounded. An
// unfinished one stays: reading it tells whether it is gone.
func (p *Poller) forgetTrimmed(seen map[string]bool) {
	for id, s := range p.shards {
		if !seen[id] && s.finished {
			delete(p.shards, id)
			p.posMu.Lock()
			delete(p.positions, id)
			p.posMu.Unlock()
		}
	}
}

// placeInOrder rebuilds p.order from ids: each known shard once, after
// its parent when the parent is known.
func (p *Poller) placeInOrder(ids []string) {
	p.order = p.order[:0]
	placed := map[string]bool{}
	var place func(id string)
	place = func(id string) {
		s, ok := p.shards[id]
		if !ok || placed[id] {
			return
		}
		placed[id] = true // before the parent: a cycle cannot recurse forever
		place(s.parent)
		p.order = append(p.order, s)
	}
	for _, id := range ids {
		place(id)
	}
}

// readShard delivers what one shard holds now. fatal marks a malformed record.
func (p *Poller) readShard(ctx context.Context, s *shardState, handle BatchFunc) (n int, fatal bool, err error) {
	for range maxPagesPerPass {
		if s.pending == nil {
			b, err := p.fetch(ctx, s)
			if err != nil || b == nil {
				return n, false, err
			}
			s.pending = b
		}
		b := s.pending
		if len(b.commits) > 0 {
			if err := handle(ctx, b.commits); err != nil {
				return n, false, err
			}
			n += len(b.commits)
		}
		if b.lastSeq != "" {
			s.ackSeq = b.lastSeq
		}
		if b.bad != nil {
			// Stay before the bad record: it is reported on every pass
			// without another request, and nothing after it is read.
			s.pending = &batch{bad: b.bad}
			p.publish(s)
			return n, true, b.bad
		}
		s.pending = nil
		if b.closed {
			s.finished = true
			p.needRefresh = true // its children are listed by now
		}
		p.publish(s)
		if s.finished {
			return n, false, nil
		}
	}
	return n, false, nil
}

// fetch reads the shard's next page. It returns nil, nil when the shard
// has nothing now, and marks it finished when it is closed and read.
func (p *Poller) fetch(ctx context.Context, s *shardState) (*batch, error) {
	// Each round either succeeds or replaces a dead iterator; three rounds
	// allow an expiry followed by trimmed data.
	for range 3 {
		if s.iter == nil {
			ok, err := p.iterator(ctx, s)
			if err != nil || !ok {
				return nil, err
			}
		}
		out, err := p.api.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: s.iter, Limit: aws.Int32(p.cfg.BatchSize)})
		var expired *streamtypes.ExpiredIteratorException
		var trimmed *streamtypes.TrimmedDataAccessException
		switch {
		case errors.As(err, &expired):
			// Iterators live 15 minutes; a slow handler or a paused
			// process outlives them. The next one starts after readSeq.
			p.log.InfoContext(ctx, "dynstream: shard iterator expired; getting a new one", "shard", s.id, "after", s.readSeq)
			s.iter = nil
			continue
		case errors.As(err, &trimmed):
			p.trimmed(ctx, s)
			continue
		case err != nil:
			return nil, p.awsError(ctx, "get records", err)
		}
		return p.toBatch(s, out), nil
	}
	return nil, signal.Errorf(signal.KindUnavailable, opPoll, "shard %s: could not get a usable shard iterator", s.id)
}

// toBatch decodes a page and moves the shard's read position past it.
func (p *Poller) toBatch(s *shardState, out *dynamodbstreams.GetRecordsOutput) *batch {
	b := &batch{}
	for _, r := range out.Records {
		c, ok, err := DecodeStreamRecord(r)
		if err != nil {
			b.bad = err
			break
		}
		if ok {
			b.commits = append(b.commits, c)
		}
		b.lastSeq = aws.ToString(r.Dynamodb.SequenceNumber)
	}
	if b.lastSeq != "" {
		s.readSeq = b.lastSeq
	}
	s.iter = out.NextShardIterator
	if b.bad != nil {
		s.iter = nil
		return b
	}
	b.closed = out.NextShardIterator == nil
	if len(out.Records) == 0 && !b.closed {
		return nil
	}
	return b
}

// iterator gets s a shard iterator after its last fetched record, or at its
// start. ok is false when the shard no longer exists; it is then finished.
func (p *Poller) iterator(ctx context.Context, s *shardState) (ok bool, err error) {
	for range 2 {
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.cfg.StreamARN), ShardId: aws.String(s.id), ShardIteratorType: s.start}
		if s.readSeq != "" {
			in.ShardIteratorType = streamtypes.ShardIteratorTypeAfterSequenceNumber
			in.SequenceNumber = aws.String(s.readSeq)
		}
		out, err := p.api.GetShardIterator(ctx, in)
		var trimmed *streamtypes.TrimmedDataAccessException
		var notFound *streamtypes.ResourceNotFoundException
		switch {
		case errors.As(err, &trimmed):
			p.trimmed(ctx, s)
			continue
		case errors.As(err, &notFound):
			p.log.WarnContext(ctx, "dynstream: shard no longer exists; treating it as finished", "shard", s.id, "after", s.readSeq)
			s.finished = true
			p.needRefresh = true
			p.publish(s)
			return false, nil
		case err != nil:
			return false, p.awsError(ctx, "get shard iterator", err)
		case out.ShardIterator == nil:
			// No iterator: the shard is closed and there is nothing past
			// the position.
			s.finished = true
			p.needRefresh = true
			p.publish(s)
			return false, nil
		}
		s.iter = out.ShardIterator
		return true, nil
	}
	return false, signal.Errorf(signal.KindUnavailable, opPoll, "shard %s: data trimmed again at TRIM_HORIZON", s.id)
}

// trimmed handles records that expired (24 hours) before the poller read
// them: they are gone, so the shard restarts at its oldest record. Logged
// as an error, because commits were lost to this reader.
func (p *Poller) trimmed(ctx context.Context, s *shardState) {
	p.log.ErrorContext(ctx, "dynstream: stream records were trimmed before they were read; resuming at TRIM_HORIZON", "shard", s.id, "after", s.readSeq)
	s.readSeq, s.iter = "", nil
	s.start = streamtypes.ShardIteratorTypeTrimHorizon
}

func (p *Poller) publish(s *shardState) {
	if s.ackSeq == "" && !s.finished {
		return
	}
	p.posMu.Lock()
	p.positions[s.id] = ShardPosition{SequenceNumber: s.ackSeq, Finished: s.finished}
	p.posMu.Unlock()
}

func (p *Poller) awsError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return dynstore.AWSError(opPoll+": "+what, err)
}

// DescribeTableAPI is what StreamARN needs of a DynamoDB client;
// *dynamodb.Client satisfies it.
type DescribeTableAPI interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// StreamARN returns the ARN of the table's current stream, for
// PollerConfig.StreamARN. Errors are *signal.Error: KindNotFound when the
// table does not exist, KindInvalid when it has no enabled stream, and
// otherwise the AWS failure (KindUnavailable when retrying may help).
func StreamARN(ctx context.Context, client DescribeTableAPI, table string) (string, error) {
	const op = "dynstream.StreamARN"
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return "", &signal.Error{Kind: signal.KindNotFound, Op: op, Message: fmt.Sprintf("table %q does not exist", table), Err: err}
	case err != nil:
		return "", dynstore.AWSError(op, err)
	}
	t := out.Table
	// A table whose stream was disabled keeps reporting the old ARN, whose
	// records end; polling it would look like a quiet table.
	if t == nil || t.LatestStreamArn == nil || t.StreamSpecification == nil || !aws.ToBool(t.StreamSpecification.StreamEnabled) {
		return "", signal.Errorf(signal.KindInvalid, op, "table %q has no enabled stream", table)
	}
	return *t.LatestStreamArn, nil
}
