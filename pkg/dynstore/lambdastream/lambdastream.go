// Package lambdastream is the projector's Lambda adapter: it turns a
// DynamoDB Streams batch (events.DynamoDBEvent) into commits, runs the
// Service's dispatcher over them (checkpoints, duplicates, gap fill) and
// answers with the partial batch failures Lambda retries.
//
// It lives under dynstore because its input is dynstore's items: the
// record decoding is dynstream's (over dynstore's item layout), and no
// other store produces such batches.
package lambdastream

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/signalforgo/signal/pkg/dynstore/dynstream"
	"github.com/signalforgo/signal/pkg/signal"
)

// BatchInfo describes one handled batch, for metrics.
type BatchInfo struct {
	Records  int // records in the batch
	Commits  int // commit records among them
	Failures int // records reported as failed
	// Lag is the age of the oldest record (now minus its approximate
	// creation time): how far the projector trails the writes.
	Lag      time.Duration
	Duration time.Duration
}

// Config wires a Handler.
type Config struct {
	// Service runs the subscribers; it must have been built with them.
	Service *signal.Service
	// Logger receives one line per batch and one per failure. Nil: slog.Default().
	Logger *slog.Logger
	// OnBatch, if set, is called after each batch.
	OnBatch func(ctx context.Context, info BatchInfo)
	// Now is the clock for the lag. Nil: time.Now.
	Now func() time.Time
}

// Handler handles DynamoDB Streams batches.
type Handler struct {
	cfg Config
}

// New returns a Handler.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg}
}

// Handle processes a batch and never returns an error: every problem is a
// partial batch failure, so Lambda (with ReportBatchItemFailures) retries
// from the earliest failed record while the rest of the batch counts as
// done.
//
//   - A malformed record is reported by its own sequence number; one
//     without a sequence number fails the whole batch (an empty
//     identifier, which Lambda reads so), since it cannot be named.
//   - A subscriber that fails on the same event ParkAfter times is
//     parked (signal.Config.ParkAfter): that delivery succeeds, so the
//     shard moves on, and Config.OnPark hears of it.
//   - When a subscriber fails on an aggregate at version V, the first
//     record of that aggregate in the batch holding V or later is
//     reported. The dispatcher never applies that aggregate's later events
//     before V (it stops there, and the checkpoint would make a later
//     event a gap to fill first), so nothing is applied out of order.
//   - Other aggregates are unaffected.
//
// Non-commit records (snapshots, tombstones, modifications) are skipped.
func (h *Handler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	start := h.cfg.Now()
	decoded := dynstream.DecodeLambdaEvent(ev)
	var resp events.DynamoDBEventResponse
	failed := map[string]bool{}
	fail := func(seq string) {
		if !failed[seq] {
			// An empty identifier fails the whole batch (Lambda's rule
			// for partial batch responses): what a record without a
			// sequence number must do, since it cannot be named.
			failed[seq] = true
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
		}
	}
	var commits []signal.Commit
	var lag time.Duration
	for i, d := range decoded {
		if t := ev.Records[i].Change.ApproximateCreationDateTime.Time; !t.IsZero() {
			lag = max(lag, start.Sub(t))
		}
		switch {
		case d.SequenceNumber == "":
			h.cfg.Logger.ErrorContext(ctx, "projector: stream record without a sequence number; failing the batch", "event_id", d.EventID)
			fail("")
		case d.Err != nil:
			h.cfg.Logger.ErrorContext(ctx, "projector: malformed stream record", "sequence_number", d.SequenceNumber, "event_id", d.EventID, "error", d.Err)
			fail(d.SequenceNumber)
		case d.IsCommit:
			commits = append(commits, d.Commit)
		}
	}
	if err := h.cfg.Service.Dispatch(ctx, commits); err != nil {
		var de *signal.DispatchError
		if !errors.As(err, &de) {
			// Not per stream: report every commit record, so nothing is lost.
			h.cfg.Logger.ErrorContext(ctx, "projector: dispatch failed", "error", err)
			for _, d := range decoded {
				if d.IsCommit {
					fail(d.SequenceNumber)
				}
			}
		}
		if de != nil {
			for _, f := range de.Failures {
				h.cfg.Logger.ErrorContext(ctx, "projector: subscriber failed", "aggregate", f.Stream.String(), "version", f.Version, "subscriber", f.Subscriber, "error", f.Err)
				fail(firstRecordAtOrAfter(decoded, f.Stream, f.Version))
			}
		}
	}
	info := BatchInfo{Records: len(ev.Records), Commits: len(commits), Failures: len(resp.BatchItemFailures), Lag: lag, Duration: h.cfg.Now().Sub(start)}
	h.cfg.Logger.InfoContext(ctx, "projector batch", "records", info.Records, "commits", info.Commits, "failures", info.Failures, "lag_ms", info.Lag.Milliseconds(), "duration_ms", info.Duration.Milliseconds())
	if h.cfg.OnBatch != nil {
		h.cfg.OnBatch(ctx, info)
	}
	return resp, nil
}

// firstRecordAtOrAfter returns the sequence number of the first record (in
// batch order) of stream whose commit ends at or after version; failing
// that (the failure was in events read from the table to fill a gap), the
// stream's first record in the batch.
func firstRecordAtOrAfter(decoded []dynstream.DecodedRecord, stream signal.StreamID, version int64) string {
	first := ""
	for _, d := range decoded {
		if !d.IsCommit || d.Commit.Stream != stream {
			continue
		}
		if first == "" {
			first = d.SequenceNumber
		}
		if d.Commit.LastVersion() >= version {
			return d.SequenceNumber
		}
	}
	return first
}
