package dynstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/signalforgo/signal/internal/syncbuf"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/signalforgo/signal/pkg/signal"
)

// pollCommit is commit number n of a stream at version v, with one or two
// events so versions do not simply count.
func pollCommit(stream signal.StreamID, v int64, n int) signal.Commit {
	c := signal.Commit{
		Stream: stream, Version: v, CommandID: fmt.Sprintf("cmd-%s-%d", stream.ID, v),
		Time: time.UnixMilli(1_700_000_000_000 + int64(n)).UTC(),
	}
	for i := range 1 + n%2 {
		c.Events = append(c.Events, signal.RawEvent{
			ID: fmt.Sprintf("ev-%d-%d", n, i), Name: "Happened", SchemaVersion: 1,
			Data: fmt.Appendf(nil, `{"n":%d,"i":%d}`, n, i),
		})
	}
	return c
}

// writeCommits writes count commits spread over the given streams, round
// robin, each at its stream's next version, and returns them in write order.
func writeCommits(t testing.TB, e *streamEnv, streams []signal.StreamID, count int, from int) []signal.Commit {
	t.Helper()
	if e.versions == nil {
		e.versions = map[signal.StreamID]int64{}
	}
	var out []signal.Commit
	for n := from; n < from+count; n++ {
		s := streams[n%len(streams)]
		c := pollCommit(s, e.versions[s]+1, n)
		e.versions[s] = c.LastVersion()
		e.put(t, commitItem(&c))
		out = append(out, c)
	}
	return out
}

func pollerLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// drainPoller polls until want commits were accepted or 20 s passed, and
// returns the accepted batches.
func drainPoller(t testing.TB, p *Poller, want int) [][]signal.Commit {
	t.Helper()
	var batches [][]signal.Commit
	got := 0
	deadline := time.Now().Add(20 * time.Second)
	for got < want {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s, %d of %d commits", got, want)
		}
		n, err := p.Poll(t.Context(), func(_ context.Context, b []signal.Commit) error {
			batches = append(batches, slices.Clone(b))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got += n
		if n == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if got != want {
		t.Fatalf("%d commits, want %d", got, want)
	}
	return batches
}

func TestPollerDeliversEveryCommitInOrder(t *testing.T) {
	e := newStreamEnv(t)
	streams := []signal.StreamID{{Type: "cart", ID: "a"}, {Type: "cart", ID: "b"}, {Type: "order", ID: "ü-1"}, {Type: "order", ID: "2"}}
	written := writeCommits(t, e, streams[:2], 10, 0)
	// Non-commit items in between are skipped without stopping anything.
	e.put(t, tombstoneItem(&written[0]))
	written = append(written, writeCommits(t, e, streams, 22, 10)...)

	p := NewPoller(e.streams, PollerConfig{StreamARN: e.arn, BatchSize: 5, Logger: pollerLogger(t)})
	batches := drainPoller(t, p, len(written))
	var got []signal.Commit
	for _, b := range batches {
		if len(b) == 0 || len(b) > 5 {
			t.Errorf("batch of %d commits, want 1 to 5", len(b))
		}
		got = append(got, b...)
	}
	// moto has one shard, so even the global order is the write order.
	if !reflect.DeepEqual(got, written) {
		t.Fatalf("delivered %d commits\n%+v\nwant %d\n%+v", len(got), got, len(written), written)
	}
	last := map[signal.StreamID]int64{}
	for _, c := range got {
		if c.Version <= last[c.Stream] {
			t.Fatalf("%s: version %d after %d", c.Stream, c.Version, last[c.Stream])
		}
		last[c.Stream] = c.LastVersion()
	}
	if n, err := p.Poll(t.Context(), func(context.Context, []signal.Commit) error { return errors.New("called") }); n != 0 || err != nil {
		t.Fatalf("drained poller: %d, %v", n, err)
	}
	records := e.readAll(t)
	wantPos := map[string]ShardPosition{}
	desc, err := e.streams.DescribeStream(t.Context(), &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(e.arn)})
	if err != nil {
		t.Fatal(err)
	}
	wantPos[aws.ToString(desc.StreamDescription.Shards[0].ShardId)] = ShardPosition{SequenceNumber: aws.ToString(records[len(records)-1].Dynamodb.SequenceNumber)}
	if pos := p.Positions(); !reflect.DeepEqual(pos, wantPos) {
		t.Fatalf("positions %v, want %v", pos, wantPos)
	}
}

func TestPollerRedeliversAfterHandlerError(t *testing.T) {
	e := newStreamEnv(t)
	written := writeCommits(t, e, []signal.StreamID{{Type: "cart", ID: "r"}}, 5, 0)
	boom := errors.New("boom")
	for failOn := 1; failOn <= 3; failOn++ {
		t.Run(fmt.Sprintf("batch %d fails", failOn), func(t *testing.T) {
			p := NewPoller(e.streams, PollerConfig{StreamARN: e.arn, BatchSize: 2, Logger: pollerLogger(t)})
			var failed, accepted [][]signal.Commit
			calls := 0
			handle := func(_ context.Context, b []signal.Commit) error {
				calls++
				if calls == failOn {
					failed = append(failed, slices.Clone(b))
					return boom
				}
				accepted = append(accepted, slices.Clone(b))
				return nil
			}
			n, err := p.Poll(t.Context(), handle)
			if !errors.Is(err, boom) || n != 2*(failOn-1) {
				t.Fatalf("first poll: %d, %v; want %d, boom", n, err, 2*(failOn-1))
			}
			before := p.Positions()
			if n, err := p.Poll(t.Context(), handle); err != nil || n != len(written)-2*(failOn-1) {
				t.Fatalf("second poll: %d, %v", n, err)
			}
			// The failed batch came again, first, and nothing was skipped.
			if len(failed) != 1 || !reflect.DeepEqual(accepted[failOn-1], failed[0]) {
				t.Fatalf("failed %+v, redelivered %+v", failed, accepted[failOn-1:])
			}
			if got := slices.Concat(accepted...); !reflect.DeepEqual(got, written) {
				t.Fatalf("accepted\n%+v\nwant\n%+v", got, written)
			}
			// The failed batch did not move the position.
			if failOn == 1 && len(before) != 0 {
				t.Fatalf("positions after a failed first batch: %v", before)
			}
			if failOn > 1 && reflect.DeepEqual(before, p.Positions()) {
				t.Fatalf("positions did not move after the redelivery: %v", before)
			}
		})
	}
}

func TestPollerRunStopsOnCancel(t *testing.T) {
	e := newStreamEnv(t)
	stream := []signal.StreamID{{Type: "cart", ID: "run"}}
	written := writeCommits(t, e, stream, 3, 0)
	p := NewPoller(e.streams, PollerConfig{StreamARN: e.arn, PollInterval: 10 * time.Millisecond, MaxPollInterval: 50 * time.Millisecond, Logger: pollerLogger(t)})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan signal.Commit, 10)
	var calls int
	done := make(chan error, 1)
	go func() {
		done <- p.Run(ctx, func(_ context.Context, b []signal.Commit) error {
			calls++
			if calls == 1 {
				return errors.New("first call fails; Run retries it")
			}
			for _, c := range b {
				got <- c
			}
			return nil
		})
	}()
	receive := func(want []signal.Commit) {
		t.Helper()
		for _, w := range want {
			select {
			case c := <-got:
				if !reflect.DeepEqual(c, w) {
					t.Fatalf("got %+v, want %+v", c, w)
				}
			case err := <-done:
				t.Fatalf("Run returned %v", err)
			case <-time.After(10 * time.Second):
				t.Fatalf("no commit %s@%d within 10 s", w.Stream, w.Version)
			}
		}
	}
	receive(written)
	receive(writeCommits(t, e, stream, 2, 3)) // written while Run idles
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return within 2 s of cancel")
	}
	if len(got) != 0 {
		t.Fatalf("unexpected commit %+v", <-got)
	}
}

func TestPollerResume(t *testing.T) {
	e := newStreamEnv(t)
	streams := []signal.StreamID{{Type: "cart", ID: "x"}, {Type: "cart", ID: "y"}}
	first := writeCommits(t, e, streams, 3, 0)
	p1 := NewPoller(e.streams, PollerConfig{StreamARN: e.arn, Logger: pollerLogger(t)})
	if got := slices.Concat(drainPoller(t, p1, 3)...); !reflect.DeepEqual(got, first) {
		t.Fatalf("first poller: %+v", got)
	}
	// Positions survive a JSON round trip, as a caller would persist them.
	b, err := json.Marshal(p1.Positions())
	if err != nil {
		t.Fatal(err)
	}
	var saved map[string]ShardPosition
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}

	// A poller started at LATEST, before the next writes, sees only them.
	latest := NewPoller(e.streams, PollerConfig{StreamARN: e.arn, Start: StartLatest, Logger: pollerLogger(t)})
	if n, err := latest.Poll(t.Context(), func(context.Context, []signal.Commit) error { return nil }); n != 0 || err != nil {
		t.Fatalf("latest poller before writes: %d, %v", n, err)
	}

	second := writeCommits(t, e, streams, 2, 3)
	p2 := NewPoller(e.streams, PollerConfig{StreamARN: e.arn, Positions: saved, Logger: pollerLogger(t)})
	if got := slices.Concat(drainPoller(t, p2, 2)...); !reflect.DeepEqual(got, second) {
		t.Fatalf("resumed poller: %+v\nwant %+v", got, second)
	}
	if got := slices.Concat(drainPoller(t, latest, 2)...); !reflect.DeepEqual(got, second) {
		t.Fatalf("latest poller: %+v\nwant %+v", got, second)
	}
	for _, p := range []*Poller{p2, latest} {
		if n, err := p.Poll(t.Context(), func(context.Context, []signal.Commit) error { return nil }); n != 0 || err != nil {
			t.Fatalf("drained: %d, %v", n, err)
		}
	}
}

func TestPollerMalformedRecord(t *testing.T) {
	e := newStreamEnv(t)
	stream := signal.StreamID{Type: "cart", ID: "m"}
	c1, c2 := pollCommit(stream, 1, 0), pollCommit(stream, 3, 2)
	bad := commitItem(&c2)
	bad[attrSK] = num(2)
	bad[attrEvents] = str("not a list")
	e.put(t, commitItem(&c1))
	e.put(t, bad)
	e.put(t, commitItem(&c2))
	records := e.readAll(t)
	badID, badSeq := aws.ToString(records[1].EventID), aws.ToString(records[1].Dynamodb.SequenceNumber)
	firstSeq := aws.ToString(records[0].Dynamodb.SequenceNumber)

	p := NewPoller(e.streams, PollerConfig{StreamARN: e.arn, Logger: pollerLogger(t)})
	var got []signal.Commit
	handle := func(_ context.Context, b []signal.Commit) error { got = append(got, b...); return nil }
	for pass := range 2 {
		n, err := p.Poll(t.Context(), handle)
		se := wantRecordError(t, err, badID, badSeq, "no events")
		if se.Stream != stream || n != 1-pass {
			t.Fatalf("pass %d: %d commits, error stream %v", pass, n, se.Stream)
		}
		for _, pos := range p.Positions() {
			if pos.SequenceNumber != firstSeq {
				t.Fatalf("pass %d: position %v, want %s", pass, pos, firstSeq)
			}
		}
	}
	if !reflect.DeepEqual(got, []signal.Commit{c1}) {
		t.Fatalf("delivered %+v, want only the commit before the bad record", got)
	}

	// Run gives up at once: waiting cannot repair the record.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got = nil
	err := NewPoller(e.streams, PollerConfig{StreamARN: e.arn, Logger: pollerLogger(t)}).Run(ctx, handle)
	wantRecordError(t, err, badID, badSeq, "no events")
	if !reflect.DeepEqual(got, []signal.Commit{c1}) {
		t.Fatalf("Run delivered %+v", got)
	}
}

func TestPollerNoStreamARN(t *testing.T) {
	p := NewPoller(&fakeStreams{t: t}, PollerConfig{})
	for name, run := range map[string]func() error{
		"Poll": func() error { _, err := p.Poll(t.Context(), nil); return err },
		"Run":  func() error { return p.Run(t.Context(), nil) },
	} {
		if err := run(); !errors.Is(err, signal.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestStreamARN(t *testing.T) {
	e := newStreamEnv(t)
	desc, err := e.ddb.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(e.tables.Events)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		table string
		arn   string
		kind  signal.Kind
	}{
		{e.tables.Events, aws.ToString(desc.Table.LatestStreamArn), 0},
		{e.tables.Views, "", signal.KindInvalid},
		{e.tables.Events + "-missing", "", signal.KindNotFound},
	}
	for _, tc := range cases {
		arn, err := StreamARN(t.Context(), e.ddb, tc.table)
		if tc.arn != "" {
			if err != nil || arn != tc.arn {
				t.Errorf("%s: %q, %v; want %q", tc.table, arn, err, tc.arn)
			}
			continue
		}
		var se *signal.Error
		if !errors.As(err, &se) || se.Kind != tc.kind || arn != "" {
			t.Errorf("%s: %q, %v; want kind %v", tc.table, arn, err, tc.kind)
		}
	}
}

// fakeStreams serves a fixed tree of shards through the Streams API.
// moto_server cannot test lineage: it has exactly one shard per table,
// which never closes or splits, and its iterators never expire. It keeps
// only what the poller needs, and fails the test if a child shard is read
// before its parent was read to its end.
type fakeStreams struct {
	t        testing.TB
	mu       sync.Mutex
	shards   []*fakeShard
	pageSize int                      // DescribeStream page size
	expire   map[int]bool             // GetRecords calls (1-based) that report an expired iterator
	drained  map[string]bool          // shards whose end was returned
	iterLog  []string                 // "shard type seq" of every GetShardIterator
	calls    int                      // GetRecords calls
	trimmed  map[string]bool          // sequence numbers reported as trimmed by GetShardIterator
	commits  map[string]signal.Commit // by sequence number
	sequence int
}

type fakeShard struct {
	id, parent string
	closed     bool
	records    []streamtypes.Record
}

// add appends commits to a shard as INSERT records.
func (f *fakeStreams) add(s *fakeShard, cs ...signal.Commit) {
	if f.commits == nil {
		f.commits = map[string]signal.Commit{}
	}
	for i := range cs {
		f.sequence++
		seq := fmt.Sprintf("%05d", f.sequence)
		s.records = append(s.records, streamRecord("ev-"+seq, "INSERT", seq, commitItem(&cs[i])))
		f.commits[seq] = cs[i]
	}
}

func (f *fakeStreams) shard(id string) *fakeShard {
	for _, s := range f.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (f *fakeStreams) DescribeStream(_ context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := 0
	if in.ExclusiveStartShardId != nil {
		start = slices.IndexFunc(f.shards, func(s *fakeShard) bool { return s.id == *in.ExclusiveStartShardId }) + 1
	}
	end := min(start+max(f.pageSize, 1), len(f.shards))
	desc := &streamtypes.StreamDescription{StreamArn: in.StreamArn}
	for _, s := range f.shards[start:end] {
		sh := streamtypes.Shard{ShardId: aws.String(s.id), SequenceNumberRange: &streamtypes.SequenceNumberRange{}}
		if s.parent != "" {
			sh.ParentShardId = aws.String(s.parent)
		}
		if s.closed && len(s.records) > 0 {
			sh.SequenceNumberRange.EndingSequenceNumber = s.records[len(s.records)-1].Dynamodb.SequenceNumber
		}
		desc.Shards = append(desc.Shards, sh)
	}
	if end < len(f.shards) {
		desc.LastEvaluatedShardId = aws.String(f.shards[end-1].id)
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: desc}, nil
}

func (f *fakeStreams) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shard(aws.ToString(in.ShardId))
	if s == nil {
		return nil, &streamtypes.ResourceNotFoundException{Message: aws.String("no shard")}
	}
	if p := f.shard(s.parent); p != nil && !f.drained[p.id] {
		f.t.Errorf("shard %s read before its parent %s was finished", s.id, p.id)
	}
	seq := aws.ToString(in.SequenceNumber)
	f.iterLog = append(f.iterLog, strings.TrimSpace(fmt.Sprintf("%s %s %s", s.id, in.ShardIteratorType, seq)))
	pos := 0
	switch in.ShardIteratorType {
	case streamtypes.ShardIteratorTypeLatest:
		pos = len(s.records)
	case streamtypes.ShardIteratorTypeAfterSequenceNumber:
		if f.trimmed[seq] {
			return nil, &streamtypes.TrimmedDataAccessException{Message: aws.String("trimmed")}
		}
		i := slices.IndexFunc(s.records, func(r streamtypes.Record) bool { return *r.Dynamodb.SequenceNumber == seq })
		if i < 0 {
			f.t.Errorf("no record %s in shard %s", seq, s.id)
			return nil, errors.New("bad sequence number")
		}
		pos = i + 1
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s|%d", s.id, pos))}, nil
}

func (f *fakeStreams) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.expire[f.calls] {
		return nil, &streamtypes.ExpiredIteratorException{Message: aws.String("expired")}
	}
	id, p, _ := strings.Cut(aws.ToString(in.ShardIterator), "|")
	pos, err := strconv.Atoi(p)
	s := f.shard(id)
	if err != nil || s == nil {
		f.t.Errorf("bad iterator %q", aws.ToString(in.ShardIterator))
		return nil, errors.New("bad iterator")
	}
	end := min(pos+int(aws.ToInt32(in.Limit)), len(s.records))
	out := &dynamodbstreams.GetRecordsOutput{Records: s.records[pos:end]}
	// A closed shard returns no next iterator with its last records, the
	// hardest case for a reader: data and the end in one page.
	if s.closed && end == len(s.records) {
		f.drained[s.id] = true
	} else {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s|%d", s.id, end))
	}
	return out, nil
}

// TestPollerShardLineage reads a split stream: a child shard only after its
// parent, whatever order DescribeStream lists them in.
func TestPollerShardLineage(t *testing.T) {
	f := splitStream(t)
	x := signal.StreamID{Type: "c", ID: "x"}
	p := NewPoller(f, PollerConfig{StreamARN: "arn:fake", BatchSize: 1, Logger: pollerLogger(t)})
	var got []signal.Commit
	boom := errors.New("boom")
	failed := false
	handle := func(_ context.Context, b []signal.Commit) error {
		// The first batch of s1 fails once: s1 stays unfinished for the
		// rest of the pass, so its child s3 must wait for the next one.
		if !failed && b[0].Stream == x && b[0].Version == 3 {
			failed = true
			return boom
		}
		got = append(got, b...)
		return nil
	}
	n, err := p.Poll(t.Context(), handle)
	if !errors.Is(err, boom) || n != len(f.commits)-3 || len(got) != n {
		t.Fatalf("first pass: %d (%d delivered), %v; want %d, boom", n, len(got), err, len(f.commits)-3)
	}
	// Parents finish within the pass, so one more pass reads the rest of the tree.
	n, err = p.Poll(t.Context(), handle)
	if err != nil || n != 3 || len(got) != len(f.commits) {
		t.Fatalf("second pass: %d (%d delivered in all), %v; want 3 (%d)", n, len(got), err, len(f.commits))
	}
	checkLineageOrder(t, f, got)
	wantPos := map[string]ShardPosition{
		"s0": {SequenceNumber: "00003", Finished: true},
		"s1": {SequenceNumber: "00005", Finished: true},
		"s2": {SequenceNumber: "00006", Finished: true},
		"s3": {SequenceNumber: "00007"},
		"r":  {SequenceNumber: "00008"},
	}
	if pos := p.Positions(); !reflect.DeepEqual(pos, wantPos) {
		t.Fatalf("positions %v, want %v", pos, wantPos)
	}
	// Resuming from those positions reads only the open shards, after
	// their positions, and delivers nothing new.
	f.iterLog = nil
	p2 := NewPoller(f, PollerConfig{StreamARN: "arn:fake", Positions: p.Positions(), Logger: pollerLogger(t)})
	if n, err := p2.Poll(t.Context(), func(context.Context, []signal.Commit) error { return errors.New("called") }); n != 0 || err != nil {
		t.Fatalf("resumed: %d, %v", n, err)
	}
	slices.Sort(f.iterLog)
	if want := []string{"r AFTER_SEQUENCE_NUMBER 00008", "s3 AFTER_SEQUENCE_NUMBER 00007"}; !reflect.DeepEqual(f.iterLog, want) {
		t.Fatalf("resumed iterators %q, want %q", f.iterLog, want)
	}
}

// lineageParents is the shard tree of splitStream: s0 split into s1 and
// s2, s1 rolled over into s3 (r's parent is not listed).
var lineageParents = map[string]string{"s1": "s0", "s2": "s0", "s3": "s1"}

// splitStream is a fake stream after a split, listed children before
// parents over three DescribeStream pages: closed s0 (x1, y1, x2), its
// closed children s1 (x3, y2) and s2 (z1), s1's open child s3 (x4), and
// open r (w1) whose parent was trimmed away.
func splitStream(t *testing.T) *fakeStreams {
	x, y, z, w := signal.StreamID{Type: "c", ID: "x"}, signal.StreamID{Type: "c", ID: "y"}, signal.StreamID{Type: "c", ID: "z"}, signal.StreamID{Type: "c", ID: "w"}
	s0 := &fakeShard{id: "s0", closed: true}
	s1 := &fakeShard{id: "s1", parent: "s0", closed: true}
	s2 := &fakeShard{id: "s2", parent: "s0", closed: true}
	s3 := &fakeShard{id: "s3", parent: "s1"}
	r := &fakeShard{id: "r", parent: "trimmed-away"} // its parent is no longer listed
	f := &fakeStreams{t: t, pageSize: 2, drained: map[string]bool{}}
	f.add(s0, pollCommit(x, 1, 0), pollCommit(y, 1, 2), pollCommit(x, 2, 4))
	f.add(s1, pollCommit(x, 3, 6), pollCommit(y, 2, 8))
	f.add(s2, pollCommit(z, 1, 10))
	f.add(s3, pollCommit(x, 4, 12))
	f.add(r, pollCommit(w, 1, 14))
	f.shards = []*fakeShard{s3, s2, r, s1, s0}
	return f
}

// checkLineageOrder checks that got holds each of f's commits once, as
// written, and none of a shard before its parent's last one.
func checkLineageOrder(t *testing.T, f *fakeStreams, got []signal.Commit) {
	t.Helper()
	shardOf := map[string]string{} // sequence number -> shard
	for _, s := range f.shards {
		for _, rec := range s.records {
			shardOf[*rec.Dynamodb.SequenceNumber] = s.id
		}
	}
	seqOf := map[string]string{} // command id -> sequence number
	for seq, c := range f.commits {
		seqOf[c.CommandID] = seq
	}
	seen := map[string]bool{}
	last := map[string]int{} // shard -> index in got of its last commit
	for i, c := range got {
		seq := seqOf[c.CommandID]
		if seen[seq] || !reflect.DeepEqual(c, f.commits[seq]) {
			t.Fatalf("delivered %+v: a repeat, or not a written commit", c)
		}
		seen[seq] = true
		last[shardOf[seq]] = i
	}
	for i, c := range got {
		shard := shardOf[seqOf[c.CommandID]]
		if parent := lineageParents[shard]; parent != "" && i < last[parent] {
			t.Fatalf("commit %s of shard %s delivered before its parent %s ended", c.CommandID, shard, parent)
		}
	}
}

// TestPollerIteratorFailures: an expired iterator is replaced by one after
// the last record read, so nothing is lost or repeated; trimmed data
// restarts the shard at TRIM_HORIZON, delivering all it still holds.
func TestPollerIteratorFailures(t *testing.T) {
	x := signal.StreamID{Type: "c", ID: "x"}
	cases := []struct {
		name      string
		expire    map[int]bool
		positions map[string]ShardPosition
		trimmed   map[string]bool
		iterators []string
		log       string
	}{
		{
			name:      "expired iterator",
			expire:    map[int]bool{2: true, 3: true},
			iterators: []string{"s TRIM_HORIZON", "s AFTER_SEQUENCE_NUMBER 00001", "s AFTER_SEQUENCE_NUMBER 00001"},
			log:       "iterator expired",
		},
		{
			name:      "trimmed data",
			positions: map[string]ShardPosition{"s": {SequenceNumber: "00001"}},
			trimmed:   map[string]bool{"00001": true},
			iterators: []string{"s AFTER_SEQUENCE_NUMBER 00001", "s TRIM_HORIZON"},
			log:       "trimmed",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeShard{id: "s"}
			f := &fakeStreams{t: t, shards: []*fakeShard{s}, drained: map[string]bool{}, expire: tc.expire, trimmed: tc.trimmed}
			want := []signal.Commit{pollCommit(x, 1, 0), pollCommit(x, 2, 2), pollCommit(x, 3, 4)}
			f.add(s, want...)
			var logs syncbuf.Buffer
			p := NewPoller(f, PollerConfig{StreamARN: "arn:fake", BatchSize: 1, Positions: tc.positions, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			var got []signal.Commit
			n, err := p.Poll(t.Context(), func(_ context.Context, b []signal.Commit) error { got = append(got, b...); return nil })
			if err != nil || n != len(want) || !reflect.DeepEqual(got, want) {
				t.Fatalf("poll: %d, %v\ngot %+v\nwant %+v", n, err, got, want)
			}
			if !reflect.DeepEqual(f.iterLog, tc.iterators) {
				t.Errorf("iterators %q, want %q", f.iterLog, tc.iterators)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log %q does not mention %q", logs.String(), tc.log)
			}
		})
	}
}
