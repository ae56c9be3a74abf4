package dynamotest

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/signalforgo/signal/pkg/dynstore/dynstream"
)

// shard is how far the Pump has read and delivered one shard.
type shard struct {
	id, parent string
	iter       *string
	lastSeq    string // the last record read, delivered or filtered out
	finished   bool   // closed, and every record of it done
	// pending is the rest of a batch not yet done, delivered first by the
	// next Drain; failedAt counts the deliveries in a row that failed at
	// its first record.
	pending  []events.DynamoDBEventRecord
	failedAt int
}

// Drain delivers everything the stream holds now, shard by shard, batch by
// batch, each batch until it is done (see Pump). It returns how many
// records it delivered for the first time. The projector's own writes
// (a policy's commands) are new records: repeat Drain until it returns 0
// to deliver those too.
//
// Outcomes:
//   - n, nil: every shard was read to its end at the time of reading;
//   - the Projector's error (wrapped, errors.Is/As see it) when an
//     invocation failed: the batch is kept, and the next Drain delivers it
//     first;
//   - an error when a response names a record that is not in its batch
//     (a projector bug); the batch is kept as well;
//   - the Streams API's error when a request failed (nothing is skipped:
//     the next Drain reads the same records), or ctx's when it ended.
func (p *Pump) Drain(ctx context.Context) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.listShards(ctx); err != nil {
		return 0, err
	}
	total := 0
	for _, s := range p.order {
		if s.finished || !p.parentFinished(s) {
			continue
		}
		n, err := p.drainShard(ctx, s)
		total += n
		if err != nil {
			return total, fmt.Errorf("dynamotest: shard %s: %w", s.id, err)
		}
	}
	return total, nil
}

// parentFinished: a child shard waits for its parent, when the parent is
// still listed (shards older than the trim horizon are not).
func (p *Pump) parentFinished(s *shard) bool {
	parent, ok := p.shards[s.parent]
	return !ok || parent.finished
}

// listShards adds the shards not seen before, in listing order (parents
// first), all pages of it.
func (p *Pump) listShards(ctx context.Context) error {
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.arn)}
	for {
		out, err := p.streams.DescribeStream(ctx, in)
		if err != nil {
			return fmt.Errorf("dynamotest: describe stream %s: %w", p.arn, err)
		}
		for _, sh := range out.StreamDescription.Shards {
			id := aws.ToString(sh.ShardId)
			if p.shards[id] == nil {
				s := &shard{id: id, parent: aws.ToString(sh.ParentShardId)}
				p.shards[id] = s
				p.order = append(p.order, s)
			}
		}
		if out.StreamDescription.LastEvaluatedShardId == nil {
			return nil
		}
		in.ExclusiveStartShardId = out.StreamDescription.LastEvaluatedShardId
	}
}

// drainShard delivers the pending batch, then reads s page by page until
// a page is empty (caught up) or the shard ends.
func (p *Pump) drainShard(ctx context.Context, s *shard) (int, error) {
	if err := p.settle(ctx, s); err != nil {
		return 0, err
	}
	n := 0
	for !s.finished {
		if err := p.iterator(ctx, s); err != nil {
			return n, err
		}
		out, err := p.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: s.iter, Limit: aws.Int32(int32(p.batchSize))})
		var expired *streamtypes.ExpiredIteratorException
		if errors.As(err, &expired) {
			s.iter = nil // a new one after lastSeq, on the next turn
			continue
		}
		if err != nil {
			return n, fmt.Errorf("get records: %w", err)
		}
		batch, err := p.batchOf(out.Records)
		if err != nil {
			return n, err
		}
		s.iter = out.NextShardIterator
		if len(out.Records) > 0 {
			s.lastSeq = aws.ToString(out.Records[len(out.Records)-1].Dynamodb.SequenceNumber)
		}
		s.pending, s.failedAt = batch, 0
		n += len(batch)
		if err := p.settle(ctx, s); err != nil {
			return n, err
		}
		if s.iter == nil {
			s.finished = true // closed, and read to its end
		}
		if len(out.Records) == 0 {
			break
		}
	}
	return n, nil
}

// iterator makes sure s has an iterator: from the trim horizon, or after
// the last record read when an iterator expired.
func (p *Pump) iterator(ctx context.Context, s *shard) error {
	if s.iter != nil {
		return nil
	}
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.arn), ShardId: aws.String(s.id), ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon}
	if s.lastSeq != "" {
		in.ShardIteratorType, in.SequenceNumber = streamtypes.ShardIteratorTypeAfterSequenceNumber, aws.String(s.lastSeq)
	}
	out, err := p.streams.GetShardIterator(ctx, in)
	if err != nil {
		return fmt.Errorf("get shard iterator: %w", err)
	}
	if out.ShardIterator == nil {
		return errors.New("get shard iterator: no iterator in the answer")
	}
	s.iter = out.ShardIterator
	return nil
}

// batchOf converts a page's records to Lambda's shape and keeps the
// filter's. A record without its dynamodb part is an error: it cannot be
// converted, and skipping it would lose it silently.
func (p *Pump) batchOf(records []streamtypes.Record) ([]events.DynamoDBEventRecord, error) {
	var batch []events.DynamoDBEventRecord
	for _, r := range records {
		lr, err := dynstream.LambdaRecord(r, p.arn)
		if err != nil {
			return nil, err
		}
		if p.filter(lr) {
			batch = append(batch, lr)
		}
	}
	return batch, nil
}
