package signal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config wires a Service. Only Store and Types are required.
type Config struct {
	Store Store
	Types []AggregateType
	// Subscribers react to committed events. They run when the Service's
	// Dispatch is fed commits (the stream projector, the change feed of
	// `signal dev`) and, with InlineDispatch, right after each command.
	Subscribers []Subscriber
	// Authorize, if set, decides every command, state read, history page
	// and view read for the principal of its context (Authorizer). Nil
	// allows everything: for Go code and tests; a deployed service sets
	// it (App.Authorize) or trusts the gateway's authorizer alone.
	Authorize Authorizer
	// Tenancy keeps each tenant's aggregates and views apart: every
	// command, read, history page and view read acts in the tenant of its
	// context's Principal (Principal.Tenant; ErrUnauthenticated without a
	// principal, ErrForbidden without a tenant), and the store keeps
	// tenant "acme"'s aggregate "c1" as "acme|c1" (TenantSeparator), the
	// same for view keys. Subscribers see the caller's ids with
	// Event.Tenant; a projection's documents and a policy's commands stay
	// in the tenant of the event. Ids and keys may not contain the
	// separator. Replay, Rebuild and Failures are operator paths and name
	// stored streams.
	Tenancy bool
	// InlineDispatch runs the subscribers synchronously after each
	// successful command, in the caller's goroutine. Their failures are
	// logged, not returned: the command is committed either way, and the
	// next delivery heals the gap from the checkpoint.
	InlineDispatch bool
	// DispatchConcurrency bounds how many streams Dispatch processes at
	// once. 0 means 16.
	DispatchConcurrency int
	// ParkAfter is how many deliveries may fail on the same event before
	// the subscriber is parked on that stream: skipped, so it holds back
	// neither the stream's other subscribers nor the rest of the batch,
	// until Service.Replay resumes it (`signal parked replay`). Failures of
	// the store itself (unavailable, lost races) do not count. 0 means
	// DefaultParkAfter; negative never parks.
	ParkAfter int
	// OnPark, if set, is called when a subscriber is parked (the Lambda
	// projector sends it to the dead-letter queue).
	OnPark func(ctx context.Context, f Failure)
	Pool   PoolConfig
	// MaxRetries bounds the re-decisions after optimistic conflicts before
	// a command fails with ErrConflict. 0 means 8; negative means none.
	MaxRetries int
	// RetryBackoff scales the random wait of a new command on a contended
	// aggregate (one that lost a race here in the last second) before its
	// append: up to RetryBackoff or twice the measured write latency,
	// whichever is more. Retries after a conflict go at once, since the
	// conflict already brought the state up to date. It is also the base
	// of the dispatcher's jittered exponential wait after a lost race on
	// a checkpoint, capped at 64×. 0 means 2ms.
	RetryBackoff time.Duration
	// IdempotencyWindow is how many of an aggregate's latest command ids
	// are remembered (and kept in snapshots) to recognise a repeated
	// command without a read. 0 means 64.
	IdempotencyWindow int
	// Logger receives the Service's own logs. Nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock stamped on commits, and the time of the ids the
	// Service generates (time-ordered, NewID). Nil means time.Now.
	Now func() time.Time
}

// New validates cfg and returns a Service. Errors name what is wrong: no
// store, no types, a type registered twice, or an invalid subscriber.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("signal.New: Config.Store is nil")
	}
	if len(cfg.Types) == 0 {
		return nil, errors.New("signal.New: Config.Types is empty")
	}
	s := &Service{
		store:      cfg.Store,
		types:      map[string]*typeRuntime{},
		inline:     cfg.InlineDispatch,
		maxRetries: cmp.Or(cfg.MaxRetries, 8),
		backoff:    cmp.Or(cfg.RetryBackoff, 2*time.Millisecond),
		window:     cmp.Or(cfg.IdempotencyWindow, 64),
		log:        cmp.Or(cfg.Logger, slog.Default()),
		now:        cfg.Now,
		authorizer: cfg.Authorize,
		tenancy:    cfg.Tenancy,
	}
	s.snapshots, _ = cfg.Store.(SnapshotStore)
	if s.now == nil {
		s.now = time.Now
	}
	for _, t := range cfg.Types {
		rt := t.runtime()
		if s.types[rt.name] != nil {
			return nil, fmt.Errorf("signal.New: type %q registered twice", rt.name)
		}
		s.types[rt.name] = &rt
		s.typeList = append(s.typeList, t)
	}
	s.pool = newPool(cfg.Pool, s.now)
	d, err := newDispatcher(s, &cfg)
	if err != nil {
		return nil, err
	}
	s.dispatcher = d
	return s, nil
}
