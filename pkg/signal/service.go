package signal

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Service handles commands and queries over the registered aggregate types.
// It is safe for concurrent use; create one per process and keep it for
// the process's life (in Lambda: at init), so its pool stays warm.
type Service struct {
	store      Store
	snapshots  SnapshotStore
	types      map[string]*typeRuntime
	typeList   []AggregateType
	pool       *pool
	dispatcher *dispatcher
	inline     bool
	maxRetries int
	backoff    time.Duration
	window     int
	log        *slog.Logger
	now        func() time.Time
	authorizer Authorizer
	tenancy    bool
	// counts holds the command loop's counters; the pool keeps its own.
	counts loopCounts
}

// Store returns the Service's store.
func (s *Service) Store() Store { return s.store }

// AggregateTypes returns the registered aggregate types, in the order of
// Config.Types: what a description of the app (GET /app, the console)
// is derived from.
func (s *Service) AggregateTypes() []AggregateType {
	return append([]AggregateType(nil), s.typeList...)
}

// Subscribers returns the subscribers the Service runs, in the order of
// Config.Subscribers.
func (s *Service) Subscribers() []Subscriber {
	out := make([]Subscriber, len(s.dispatcher.subs))
	for i, sub := range s.dispatcher.subs {
		out[i] = sub.Subscriber
	}
	return out
}

// Types returns the names of the registered aggregate types.
func (s *Service) Types() []string {
	out := make([]string, 0, len(s.types))
	for n := range s.types {
		out = append(out, n)
	}
	return out
}

// resolve finds the runtime of typ and checks id: ErrUnknownType or
// ErrInvalid, before anything is read.
func (s *Service) resolve(ctx context.Context, typ, id string) (*typeRuntime, StreamID, error) {
	t, ok := s.types[typ]
	if !ok {
		return nil, StreamID{}, unknownType(typ)
	}
	if err := ValidateID(id); err != nil {
		return nil, StreamID{}, err
	}
	if !s.tenancy {
		return t, StreamID{typ, id}, nil
	}
	stored, err := s.scope(ctx, id)
	if err != nil {
		return nil, StreamID{}, err
	}
	if err := ValidateID(stored); err != nil { // the tenant's prefix may make it too long
		return nil, StreamID{}, err
	}
	return t, StreamID{typ, stored}, nil
}

func unknownType(typ string) error {
	return &Error{Kind: KindUnknownType, Op: "signal.Resolve", Message: fmt.Sprintf("unknown aggregate type %q", truncate(typ, MaxNameBytes))}
}

// truncate cuts s to n bytes for quoting in a message, marking the cut.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
