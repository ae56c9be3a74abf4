package signal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
	// RetryBackoff is the base of the jittered exponential wait between
	// retries after the first (which is immediate, since the conflict
	// already brought the state up to date). 0 means 2ms; it is capped at 64×.
	RetryBackoff time.Duration
	// IdempotencyWindow is how many of an aggregate's latest command ids
	// are remembered (and kept in snapshots) to recognise a repeated
	// command without a read. 0 means 64.
	IdempotencyWindow int
	// Logger receives the Service's own logs. Nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock stamped on commits. Nil means time.Now.
	Now func() time.Time
}

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
		maxRetries: cfg.MaxRetries,
		backoff:    cfg.RetryBackoff,
		window:     cfg.IdempotencyWindow,
		log:        cfg.Logger,
		now:        cfg.Now,
	}
	s.snapshots, _ = cfg.Store.(SnapshotStore)
	if s.maxRetries == 0 {
		s.maxRetries = 8
	}
	if s.backoff == 0 {
		s.backoff = 2 * time.Millisecond
	}
	if s.window == 0 {
		s.window = 64
	}
	if s.log == nil {
		s.log = slog.Default()
	}
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

// Store returns the Service's store.
func (s *Service) Store() Store { return s.store }

// PoolStats returns the pool's counters.
func (s *Service) PoolStats() PoolStats { return s.pool.stats() }

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

// Result is the outcome of a command.
type Result struct {
	Type    string
	ID      string
	Version int64
	// State is the aggregate's state after the command (after the original
	// command, for a duplicate).
	State any
	// Events are the events the command appended (the original ones, for a duplicate).
	Events []Event
	// Created reports that the command created the aggregate.
	Created bool
	// Duplicate reports that the command id had been handled before:
	// nothing was appended and the fields describe the original outcome.
	Duplicate bool
}

// CommandOption sets a command's metadata or preconditions.
type CommandOption func(*commandOptions)

type commandOptions struct {
	commandID, correlationID, causationID string
	// fingerprint names the request behind a caller-chosen commandID
	// (fingerprint.go); "" for generated ids.
	fingerprint string
	ifVersion   int64 // -1: none
	create      bool
}

// newCommandOptions applies opts. The options live on the heap only when
// there are some, keeping the common call free of that allocation.
func newCommandOptions(opts []CommandOption) commandOptions {
	if len(opts) == 0 {
		return commandOptions{ifVersion: -1}
	}
	o := &commandOptions{ifVersion: -1}
	for _, opt := range opts {
		opt(o)
	}
	return *o
}

// WithCommandID sets the command's id (an HTTP Idempotency-Key, a policy's
// deterministic id). The id names one request on one aggregate: handling
// the same request (same command name and the same command value, or
// End) with the same id again appends nothing and returns the original
// outcome; the same id with a different request fails with
// ErrIdempotencyKeyReused and appends nothing. The same id on another
// aggregate is a command of its own there. Without it (or with "") the
// Service generates a unique id.
//
// The id is at most MaxIDBytes of valid UTF-8 without control characters
// ('#', '/' and dots are fine); any other id fails the command with
// ErrInvalid before anything is read or written.
func WithCommandID(id string) CommandOption { return func(o *commandOptions) { o.commandID = id } }

// WithCorrelation sets the correlation and causation ids recorded with the
// events. Either may be empty (nothing recorded); otherwise each is at
// most MaxIDBytes of valid UTF-8 without control characters, or the
// command fails with ErrInvalid before anything is read or written.
func WithCorrelation(correlationID, causationID string) CommandOption {
	return func(o *commandOptions) { o.correlationID, o.causationID = correlationID, causationID }
}

// IfVersion makes the command fail with ErrPrecondition unless the
// aggregate is at exactly version v (HTTP If-Match). 0 means "does not exist yet".
func IfVersion(v int64) CommandOption { return func(o *commandOptions) { o.ifVersion = v } }

// Handle runs cmd, a value of a command type registered for aggregate type
// typ, against aggregate id, and appends the events it decides.
//
// Outcomes:
//   - nil error: the events are committed; Result describes them.
//     Result.Created is set when a Genesis command created the aggregate,
//     Result.Duplicate when the command id was already handled for the
//     same request (see WithCommandID).
//   - ErrUnknownType, ErrUnknownCommand, ErrInvalid (bad id, command id,
//     correlation or causation id, or a command given a command id that
//     JSON cannot encode): nothing read or written.
//   - ErrIdempotencyKeyReused: the command id was already used on the
//     aggregate for a different request; nothing written.
//   - ErrNotFound: the aggregate does not exist and Genesis does not
//     accept cmd.
//   - ErrRejected: Decide refused the command (message safe to show).
//   - ErrClosed: the aggregate has ended.
//   - ErrPrecondition: IfVersion did not match the current version.
//   - ErrTooLarge: the events exceed MaxCommitBytes or MaxEventsPerCommit.
//   - ErrUnknownEvent: Decide returned a value of an unregistered type.
//   - ErrConflict: concurrent writers won MaxRetries times in a row.
//   - ErrUnavailable / ErrInternal: the store failed; the command may have
//     been committed if the failure was ambiguous, so retry it with the
//     same command id.
func (s *Service) Handle(ctx context.Context, typ, id string, cmd any, opts ...CommandOption) (Result, error) {
	o := newCommandOptions(opts)
	t, stream, err := s.resolve(typ, id)
	if err != nil {
		return Result{}, err
	}
	c, err := t.reg.command(cmd)
	if err != nil {
		return Result{}, err
	}
	if o.commandID != "" {
		if o.fingerprint, err = commandFingerprint(c.name, cmd); err != nil {
			return Result{}, &Error{Kind: KindInvalid, Op: "handle", Stream: stream,
				Message: fmt.Sprintf("the %s command cannot be encoded as JSON, which a command id needs to recognise a repeat", c.name), Err: err}
		}
	}
	return s.run(ctx, t, stream, &o, c.genesis, func(h stateHolder) ([]any, error) { return h.decide(c, cmd) })
}

// HandleJSON decodes a command from its registered name and JSON body and
// handles it: the entry for commands from outside the process (the HTTP
// API, the CLI). Outcomes as Handle, plus ErrForbidden for a command
// registered Internal (refused before the body is decoded or anything is
// read) and ErrInvalid for a malformed body.
func (s *Service) HandleJSON(ctx context.Context, typ, id, command string, body []byte, opts ...CommandOption) (Result, error) {
	t, ok := s.types[typ]
	if !ok {
		return Result{}, unknownType(typ)
	}
	if c := t.reg.commands[command]; c != nil && c.internal {
		return Result{}, &Error{Kind: KindForbidden, Op: "handle",
			Message: fmt.Sprintf("%s is an internal command of %s: only the service itself sends it", command, typ)}
	}
	cmd, err := t.reg.decodeCommand(command, body)
	if err != nil {
		return Result{}, err
	}
	return s.Handle(ctx, typ, id, cmd, opts...)
}

// DecodeCommand decodes a command of aggregate type typ from its
// registered name and JSON body, without handling it. ErrUnknownType,
// ErrUnknownCommand or ErrInvalid.
func (s *Service) DecodeCommand(typ, command string, body []byte) (any, error) {
	t, ok := s.types[typ]
	if !ok {
		return nil, unknownType(typ)
	}
	return t.reg.decodeCommand(command, body)
}

// Create handles cmd on an aggregate that must not exist yet. If some of
// the type's commands are marked Genesis, cmd must be one of them (else
// ErrInvalid). ErrExists when the aggregate already exists; otherwise
// outcomes as Handle.
func (s *Service) Create(ctx context.Context, typ, id string, cmd any, opts ...CommandOption) (Result, error) {
	t, _, err := s.resolve(typ, id)
	if err != nil {
		return Result{}, err
	}
	c, err := t.reg.command(cmd)
	if err != nil {
		return Result{}, err
	}
	if t.hasGenesis && !c.genesis {
		return Result{}, Errorf(KindInvalid, "create", "%s cannot create a %s", c.name, typ)
	}
	return s.Handle(ctx, typ, id, cmd, append(opts, func(o *commandOptions) { o.create = true })...)
}

// End appends the terminal event of the type's End rule, ending the
// aggregate's life (HTTP DELETE). ErrInvalid when the type has no End
// rule, ErrNotFound when the aggregate does not exist, ErrClosed when it
// has already ended, ErrRejected when the End rule refuses; otherwise
// outcomes as Handle.
func (s *Service) End(ctx context.Context, typ, id string, opts ...CommandOption) (Result, error) {
	o := newCommandOptions(opts)
	t, stream, err := s.resolve(typ, id)
	if err != nil {
		return Result{}, err
	}
	if !t.canEnd {
		return Result{}, Errorf(KindInvalid, "end", "%s aggregates cannot be ended from outside", typ)
	}
	if o.commandID != "" {
		o.fingerprint = endFingerprint
	}
	return s.run(ctx, t, stream, &o, false, func(h stateHolder) ([]any, error) {
		e, err := h.endEvent()
		if err != nil {
			return nil, err
		}
		return []any{e}, nil
	})
}

func (s *Service) resolve(typ, id string) (*typeRuntime, StreamID, error) {
	t, ok := s.types[typ]
	if !ok {
		return nil, StreamID{}, unknownType(typ)
	}
	if err := ValidateID(id); err != nil {
		return nil, StreamID{}, err
	}
	return t, StreamID{typ, id}, nil
}

func unknownType(typ string) error {
	return &Error{Kind: KindUnknownType, Op: "resolve", Message: fmt.Sprintf("unknown aggregate type %q", truncate(typ, MaxNameBytes))}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// run is the command loop shared by Handle, Create and End: acquire the
// pooled aggregate, decide, append with the version condition, and on a
// conflict fold the newer commits and decide again.
func (s *Service) run(ctx context.Context, t *typeRuntime, stream StreamID, o *commandOptions, genesis bool, decide func(stateHolder) ([]any, error)) (Result, error) {
	// Caller-chosen ids are held to the rules every store applies
	// (ValidateCommit), here, before any I/O: a store would refuse them
	// only after the aggregate was loaded and decided.
	for _, f := range [...]struct{ what, s string }{
		{"command id", o.commandID}, {"correlation id", o.correlationID}, {"causation id", o.causationID},
	} {
		if err := checkRecordedID("handle", stream, f.what, f.s, false); err != nil {
			return Result{}, err
		}
	}
	if o.commandID == "" {
		// Every command has an id before its first attempt, so a retry
		// inside this call recognises its own write if an earlier
		// attempt landed after all (a lost response, the SDK's retry).
		o.commandID = NewID()
	}
	e, fresh, err := s.pool.acquire(ctx, stream, func(e *entry) error { return s.load(ctx, t, e) })
	if err != nil {
		return Result{}, err
	}
	res, appended, err := s.decideLocked(ctx, t, e, fresh, o, genesis, decide)
	if appended && s.inline {
		s.dispatcher.dispatchInline(ctx, stream, res.Events)
	}
	return res, err
}

// decideLocked runs decideAndAppend and releases the aggregate's lock,
// also when the domain's code panics. After a panic the pooled state may
// be half-evolved, so it is evicted before the panic goes on.
func (s *Service) decideLocked(ctx context.Context, t *typeRuntime, e *entry, fresh bool, o *commandOptions, genesis bool, decide func(stateHolder) ([]any, error)) (Result, bool, error) {
	defer func() {
		if p := recover(); p != nil {
			s.evict(e)
			e.mu.Unlock()
			panic(p)
		}
		e.mu.Unlock()
	}()
	return s.decideAndAppend(ctx, t, e, fresh, o, genesis, decide)
}

func (s *Service) decideAndAppend(ctx context.Context, t *typeRuntime, e *entry, fresh bool, o *commandOptions, genesis bool, decide func(stateHolder) ([]any, error)) (res Result, appended bool, err error) {
	stream := e.stream
	for attempt := 0; ; {
		// refuse returns err when the state it rests on was read in this
		// call. A pooled state may be stale, and a refusal writes nothing
		// that would reveal it, so otherwise refuse catches up and asks
		// for another round (retry) instead.
		retry := false
		refuse := func(err error) error {
			if fresh {
				return err
			}
			if cerr := s.catchUp(ctx, t, e); cerr != nil {
				return cerr
			}
			fresh, retry = true, true
			return nil
		}
		if rc, ok := e.recent.find(o.commandID); ok {
			if !sameRequest(rc.fingerprint, o.fingerprint) {
				return Result{}, false, keyReused(stream, o.commandID)
			}
			r, err := s.duplicate(ctx, t, e, rc, o.fingerprint)
			return r, false, err
		}
		switch {
		case e.closed:
			err = refuse(&Error{Kind: KindClosed, Op: "handle", Stream: stream, Message: fmt.Sprintf("%s %s is closed", stream.Type, stream.ID)})
		case o.create && e.version > 0:
			err = refuse(&Error{Kind: KindExists, Op: "create", Stream: stream, Message: fmt.Sprintf("%s %s already exists", stream.Type, stream.ID)})
		case e.version == 0 && !genesis && !o.create:
			err = refuse(&Error{Kind: KindNotFound, Op: "handle", Stream: stream, Message: fmt.Sprintf("%s %s does not exist", stream.Type, stream.ID)})
		case o.ifVersion >= 0 && e.version != o.ifVersion:
			err = refuse(&Error{Kind: KindPrecondition, Op: "handle", Stream: stream, Message: fmt.Sprintf("%s %s is at version %d, not %d", stream.Type, stream.ID, e.version, o.ifVersion)})
		}
		if err != nil {
			return Result{}, false, err
		}
		if retry {
			continue
		}
		values, err := decide(e.h)
		if err != nil {
			if KindOf(err) == KindRejected {
				if err = refuse(err); retry {
					continue
				}
			}
			return Result{}, false, err
		}
		if len(values) == 0 {
			return s.result(t, e, nil, nil, false), false, nil
		}
		commit, err := s.buildCommit(t, stream, e.version+1, o, values)
		if err != nil {
			return Result{}, false, err
		}
		contended := e.contendedUntil != 0 && s.now().UnixNano() < e.contendedUntil
		var started time.Time
		if contended {
			// The aggregate lost a race recently. Losers must get through:
			// without help the last winner, warm and first in line, keeps
			// winning while the losers retry one step behind it forever
			// (seen with 4 containers on one cart). So a new command on a
			// contended aggregate first yields for a random time of the
			// order of a write's round trip, while retries go at once.
			if attempt == 0 {
				if err := s.jitter(ctx, max(s.backoff, 2*time.Duration(e.writeLatency))); err != nil {
					return Result{}, false, unavailable("handle", stream, err)
				}
			}
			started = time.Now()
		}
		err = s.store.Append(ctx, commit)
		if contended {
			// A moving average of the write latency scales the jitter.
			e.writeLatency += (int64(time.Since(started)) - e.writeLatency) / 4
		}
		if err == nil || ownCommit(err, &commit) {
			s.applyDecided(ctx, t, e, &commit, values)
			return s.result(t, e, &commit, values, commit.Version == 1), true, nil
		}
		var ce *ConflictError
		if !errors.As(err, &ce) {
			// The write may or may not have happened (a timeout), or the
			// stream was closed by someone else: forget this state, so the
			// next command reads the truth.
			s.evict(e)
			if errors.Is(err, ErrClosed) {
				return Result{}, false, &Error{Kind: KindClosed, Op: "handle", Stream: stream, Message: fmt.Sprintf("%s %s is closed", stream.Type, stream.ID), Err: err}
			}
			return Result{}, false, storeError("append", stream, err)
		}
		s.pool.conflicts.Add(1)
		e.contendedUntil = s.now().Add(contentionMemory).UnixNano()
		if attempt >= s.maxRetries {
			s.evict(e)
			return Result{}, false, &Error{Kind: KindConflict, Op: "handle", Stream: stream,
				Message: fmt.Sprintf("%s %s changed concurrently %d times; try again", stream.Type, stream.ID, attempt+1), Err: err}
		}
		// Fold the winning commit when the store returned it (DynamoDB's
		// ALL_OLD) and try again: under contention that is the fastest way
		// back to the head, one request per attempt like the writers we
		// race with. Every fourth attempt, or when the store did not say
		// what won, also read everything newer, in case this state was
		// more than one commit behind (an aggregate that sat in the pool
		// while other containers wrote).
		if ce.Existing != nil && ce.Existing.Version == e.version+1 {
			if err := s.applyLoaded(t, e, ce.Existing); err != nil {
				s.evict(e)
				return Result{}, false, err
			}
		}
		attempt++
		s.pool.retries.Add(1)
		if ce.Existing == nil || attempt%4 == 0 {
			if err := s.catchUp(ctx, t, e); err != nil {
				return Result{}, false, err
			}
			fresh = true
		}
	}
}

// contentionMemory is how long after a conflict the aggregate's writers
// in this process jitter their appends.
const contentionMemory = time.Second

// ownCommit reports whether err is a conflict with the very commit we
// tried to write: an earlier attempt of the same append landed although
// its response was lost (the SDK retried it). Event ids are fresh for every
// attempt, so only our own write can match.
func ownCommit(err error, c *Commit) bool {
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Existing == nil {
		return false
	}
	x := ce.Existing
	return x.Version == c.Version && x.CommandID == c.CommandID && len(x.Events) == len(c.Events) && x.Events[0].ID == c.Events[0].ID
}

// jitter waits a random time up to d.
func (s *Service) jitter(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(time.Duration(rand.Int64N(int64(d)) + 1))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) evict(e *entry) {
	s.pool.remove(e)
}

// buildCommit encodes decided event values into a commit at version.
func (s *Service) buildCommit(t *typeRuntime, stream StreamID, version int64, o *commandOptions, values []any) (Commit, error) {
	c := Commit{
		Stream:        stream,
		Version:       version,
		CommandID:     o.commandID,
		Fingerprint:   o.fingerprint,
		CorrelationID: o.correlationID,
		CausationID:   o.causationID,
		// Milliseconds: what every store keeps, so the answer to a command
		// and a later read of the same events agree to the byte.
		Time: s.now().UTC().Truncate(time.Millisecond),
	}
	if err := encodeEvents("handle", t.reg, &c, values); err != nil {
		return Commit{}, err
	}
	return c, nil
}

// applyDecided folds a commit this process just appended.
func (s *Service) applyDecided(ctx context.Context, t *typeRuntime, e *entry, c *Commit, values []any) {
	before := e.version
	for _, v := range values {
		e.h.evolve(v)
	}
	s.committed(e, c)
	if c.Final {
		s.evict(e)
	}
	if t.snapshotEvery > 0 && before/t.snapshotEvery != e.version/t.snapshotEvery {
		s.saveSnapshot(ctx, t, e)
	}
}

// applyLoaded decodes and folds a commit read from the store.
func (s *Service) applyLoaded(t *typeRuntime, e *entry, c *Commit) error {
	if c.Version != e.version+1 {
		return &Error{Kind: KindInternal, Op: "load", Stream: e.stream,
			Message: fmt.Sprintf("store returned version %d after %d", c.Version, e.version)}
	}
	for i := range c.Events {
		def, v, err := t.reg.decodeEventDef(&c.Events[i])
		if err != nil {
			return withStream(err, e.stream)
		}
		e.h.evolveWith(def, v)
	}
	s.committed(e, c)
	return nil
}

func (s *Service) committed(e *entry, c *Commit) {
	e.version = c.LastVersion()
	e.recent.add(s.window, c.CommandID, c.Fingerprint, c.Version, e.version)
	if c.Final {
		e.closed = true
	}
}

func withStream(err error, stream StreamID) error {
	var se *Error
	if errors.As(err, &se) && se.Stream == (StreamID{}) {
		cp := *se
		cp.Stream = stream
		return &cp
	}
	return err
}

// load fills a new pool entry: from the latest snapshot when the type
// takes snapshots and one of the current schema exists, then the commits after it.
func (s *Service) load(ctx context.Context, t *typeRuntime, e *entry) error {
	e.h = t.newHolder(e.stream.ID)
	if t.snapshotEvery > 0 && s.snapshots != nil {
		snap, err := s.snapshots.LoadSnapshot(ctx, e.stream)
		switch {
		case err == nil && snap.SchemaVersion == t.stateVersion:
			if derr := s.restore(e, &snap); derr != nil {
				s.log.WarnContext(ctx, "signal: ignoring unreadable snapshot", "stream", e.stream.String(), "version", snap.Version, "error", derr)
				e.h, e.version, e.closed, e.recent = t.newHolder(e.stream.ID), 0, false, recentCommands{}
			}
		case err == nil || errors.Is(err, ErrNotFound):
		default:
			return storeError("load snapshot", e.stream, err)
		}
	}
	return s.readAfter(ctx, t, e)
}

// catchUp folds the commits newer than the entry's version: the only
// read a stale pooled aggregate needs.
func (s *Service) catchUp(ctx context.Context, t *typeRuntime, e *entry) error {
	s.pool.catchUps.Add(1)
	if err := s.readAfter(ctx, t, e); err != nil {
		s.evict(e)
		return err
	}
	if e.closed {
		s.evict(e)
	}
	return nil
}

func (s *Service) readAfter(ctx context.Context, t *typeRuntime, e *entry) error {
	for c, err := range s.store.Load(ctx, e.stream, e.version) {
		if err != nil {
			return storeError("load", e.stream, err)
		}
		if err := s.applyLoaded(t, e, &c); err != nil {
			return err
		}
	}
	return nil
}

// storeError gives a store failure a Kind, keeping typed errors as they are.
func storeError(op string, stream StreamID, err error) error {
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return unavailable(op, stream, err)
	}
	return &Error{Kind: KindInternal, Op: op, Stream: stream, Err: err}
}

func unavailable(op string, stream StreamID, err error) error {
	return &Error{Kind: KindUnavailable, Op: op, Stream: stream, Message: "the store is unavailable; try again", Err: err}
}

func (s *Service) result(t *typeRuntime, e *entry, c *Commit, values []any, created bool) Result {
	r := Result{Type: e.stream.Type, ID: e.stream.ID, Version: e.version, State: e.h.state(), Created: created}
	if c != nil {
		r.Events = make([]Event, len(values))
		for i, v := range values {
			r.Events[i] = recorded(c, i, v)
		}
	}
	return r
}

// recorded builds the i-th event of c with its decoded value.
func recorded(c *Commit, i int, v any) Event {
	raw := &c.Events[i]
	return Event{
		AggregateType: c.Stream.Type,
		AggregateID:   c.Stream.ID,
		Version:       c.Version + int64(i),
		Name:          raw.Name,
		SchemaVersion: raw.SchemaVersion,
		Time:          c.Time,
		ID:            raw.ID,
		CommandID:     c.CommandID,
		CorrelationID: c.CorrelationID,
		CausationID:   c.CausationID,
		Data:          v,
	}
}

// decodeCommit turns a stored commit into recorded events.
func (s *Service) decodeCommit(c *Commit) ([]Event, error) {
	t, ok := s.types[c.Stream.Type]
	if !ok {
		return nil, withStream(unknownType(c.Stream.Type), c.Stream)
	}
	out := make([]Event, len(c.Events))
	for i := range c.Events {
		v, err := t.reg.decodeEvent(&c.Events[i])
		if err != nil {
			return nil, withStream(err, c.Stream)
		}
		out[i] = recorded(c, i, v)
	}
	return out, nil
}

// duplicate answers a repeated command id with its original outcome. It
// reads the original commit for its events, and so also checks the
// commit's fingerprint against the request's (fp), which the window may
// not have known (a snapshot of a build before fingerprints).
func (s *Service) duplicate(ctx context.Context, t *typeRuntime, e *entry, rc recentCommand, fp string) (Result, error) {
	r := Result{Type: e.stream.Type, ID: e.stream.ID, Version: rc.last, Duplicate: true, Created: rc.first == 1}
	for c, err := range s.store.Load(ctx, e.stream, rc.first-1) {
		if err != nil {
			return Result{}, storeError("load", e.stream, err)
		}
		if !sameRequest(c.Fingerprint, fp) {
			return Result{}, keyReused(e.stream, rc.id)
		}
		if r.Events, err = s.decodeCommit(&c); err != nil {
			return Result{}, err
		}
		break
	}
	if rc.last == e.version {
		r.State = e.h.state()
		return r, nil
	}
	st, err := s.replay(ctx, t, e.stream, rc.last)
	r.State = st.State
	return r, err
}
