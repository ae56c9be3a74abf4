package signal

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"sync"
)

// Subscriber reacts to committed events. The framework has three kinds,
// each a struct to fill in: *Projection (builds views), *Policy (sends
// commands) and *Handler (anything else: metrics, notifications, logs).
// The same subscriber code runs in-process and behind DynamoDB Streams.
type Subscriber interface {
	// SubscriberName is the stable name checkpoints are kept under.
	SubscriberName() string
	// Subscribes reports whether the subscriber wants events of the aggregate type.
	Subscribes(aggregateType string) bool
}

// Projection builds read models (views) from events. Its document writes
// and its checkpoint are committed together (ViewStore.CommitViews), so a
// redelivered or reordered event is never applied twice.
type Projection struct {
	Name string
	// Types lists the aggregate types it follows; empty means all.
	Types []string
	// Apply folds one event into views through tx. An error leaves the
	// views and the checkpoint as they were; the event is delivered again.
	Apply func(ctx context.Context, tx *ViewTx, ev Event) error
}

// Policy turns events into commands: "when a purchase completes, open an
// order". Each command gets a command id derived from the policy's name,
// the event's id and its position, so redelivery cannot apply it twice.
type Policy struct {
	Name  string
	Types []string
	// React returns the commands to send for ev. A command refused by its
	// aggregate (rejected, closed, exists, not found, or its id already
	// applied to a command of another shape) is logged and not retried;
	// any other failure makes the event be delivered again, and after
	// Config.ParkAfter deliveries parks the policy on that aggregate.
	React func(ctx context.Context, ev Event) ([]Send, error)
}

// Send is a command a Policy sends to an aggregate.
type Send struct {
	Type    string
	ID      string
	Command any
}

// Handler runs arbitrary code for each event, at least once.
type Handler struct {
	Name  string
	Types []string
	// Ephemeral handlers keep no checkpoint: they run on every delivery,
	// duplicates included. Right for in-memory metrics and logs, whose
	// state does not survive a restart anyway.
	Ephemeral bool
	Handle    func(ctx context.Context, ev Event) error
}

func (p *Projection) SubscriberName() string               { return p.Name }
func (p *Projection) Subscribes(aggregateType string) bool { return follows(p.Types, aggregateType) }
func (p *Policy) SubscriberName() string                   { return p.Name }
func (p *Policy) Subscribes(aggregateType string) bool     { return follows(p.Types, aggregateType) }
func (h *Handler) SubscriberName() string                  { return h.Name }
func (h *Handler) Subscribes(aggregateType string) bool    { return follows(h.Types, aggregateType) }

func follows(types []string, t string) bool { return len(types) == 0 || slices.Contains(types, t) }

// LogHandler logs every event at Info level through logger: type, id,
// version, name, ids. It is ephemeral (no checkpoint).
func LogHandler(logger *slog.Logger) *Handler {
	return &Handler{
		Name:      "log",
		Ephemeral: true,
		Handle: func(ctx context.Context, ev Event) error {
			logger.LogAttrs(ctx, slog.LevelInfo, "event",
				slog.String("aggregate_type", ev.AggregateType),
				slog.String("aggregate_id", ev.AggregateID),
				slog.Int64("version", ev.Version),
				slog.String("event", ev.Name),
				slog.String("event_id", ev.ID),
				slog.String("command_id", ev.CommandID),
				slog.String("correlation_id", ev.CorrelationID),
			)
			return nil
		},
	}
}

// EventCounter is a metrics subscriber: it counts events by
// "<aggregate type>.<event name>". Read it with Counts; export it however
// the process reports metrics (the Lambda functions emit it as EMF).
type EventCounter struct {
	mu     sync.Mutex
	counts map[string]int64
}

// Handler returns the ephemeral subscriber that feeds the counter.
func (c *EventCounter) Handler() *Handler {
	return &Handler{
		Name:      "event-counter",
		Ephemeral: true,
		Handle: func(_ context.Context, ev Event) error {
			c.mu.Lock()
			if c.counts == nil {
				c.counts = map[string]int64{}
			}
			c.counts[ev.AggregateType+"."+ev.Name]++
			c.mu.Unlock()
			return nil
		},
	}
}

// Counts returns a copy of the counts.
func (c *EventCounter) Counts() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// Names returns the counted keys, sorted.
func (c *EventCounter) Names() []string {
	counts := c.Counts()
	out := make([]string, 0, len(counts))
	for k := range counts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
