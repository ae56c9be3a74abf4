package dynamotest

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
)

// settle delivers s's pending batch until it is done, under Lambda's rules
// for partial batch responses (see Pump). On an error the rest stays
// pending.
func (p *Pump) settle(ctx context.Context, s *shard) error {
	for len(s.pending) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		failed, err := p.deliver(ctx, s.pending)
		if err != nil {
			return err
		}
		if len(failed) == 0 {
			s.pending, s.failedAt = nil, 0
			return nil
		}
		first, err := firstFailed(s.pending, failed)
		if err != nil {
			return err
		}
		if first > 0 { // the records before it are done
			s.pending, s.failedAt = s.pending[first:], 0
		}
		s.failedAt++
		if s.failedAt > p.retries {
			p.logMu.Lock()
			p.deadLetters = append(p.deadLetters, s.pending[0])
			p.logMu.Unlock()
			s.pending, s.failedAt = s.pending[1:], 0
		}
	}
	return nil
}

// firstFailed returns the index of the first record of batch that failed
// names; an empty identifier is the whole batch (index 0), as Lambda reads
// it. A name not in the batch is an error.
func firstFailed(batch []events.DynamoDBEventRecord, failed []string) (int, error) {
	index := make(map[string]int, len(batch))
	for i, r := range batch {
		if _, dup := index[r.Change.SequenceNumber]; !dup {
			index[r.Change.SequenceNumber] = i
		}
	}
	first := len(batch)
	for _, id := range failed {
		if id == "" {
			return 0, nil
		}
		i, ok := index[id]
		if !ok {
			return 0, fmt.Errorf("the projector reported a failure of %q, which is not in the batch of %d records", id, len(batch))
		}
		first = min(first, i)
	}
	return first, nil
}

// Deliver invokes the projector once with records as one batch, whatever
// the stream holds, and returns the identifiers its response names as
// failed (in its order; nil when none failed). It neither retries nor
// moves the Pump's reading on: it is for tests of redelivery (a batch
// twice, reversed, with a forged record), and Delivered and Failures
// record it.
//
// Outcomes: the failed identifiers, nil; the Projector's error, wrapped,
// when the invocation failed.
func (p *Pump) Deliver(ctx context.Context, records []events.DynamoDBEventRecord) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.deliver(ctx, records)
}

func (p *Pump) deliver(ctx context.Context, records []events.DynamoDBEventRecord) ([]string, error) {
	p.logMu.Lock()
	p.delivered = append(p.delivered, records...)
	p.logMu.Unlock()
	resp, err := p.to(ctx, events.DynamoDBEvent{Records: records})
	if err != nil {
		return nil, fmt.Errorf("dynamotest: the projector failed a batch of %d records: %w", len(records), err)
	}
	var failed []string
	p.logMu.Lock()
	defer p.logMu.Unlock()
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
		p.failures[f.ItemIdentifier]++
	}
	return failed, nil
}
