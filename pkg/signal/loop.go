package signal

import (
	"context"
	"errors"
	"time"
)

// commandRun is one command's passage through the loop shared by Handle,
// Create and End: what the command asks, the locked pool entry it runs
// on, and what the run has learnt so far.
type commandRun struct {
	s *Service
	t *typeRuntime
	e *entry // locked for the whole run
	o commandOptions
	// def is the command's registration and cmd the command; def is nil
	// for End, which appends the End rule's terminal event. (Data, not a
	// closure: what the run holds stays on the stack.)
	def *commandDef
	cmd any

	// now is the clock's reading for the current attempt: the pool's
	// last use, the commit's time and its ids' time. The clock is read
	// once per attempt, so once for the usual command.
	now time.Time

	// fresh reports that e's state was read from the store in this run,
	// so a refusal resting on it stands (refusal.go).
	fresh bool
	// attempt counts the appends of this run that lost a race.
	attempt int
	// appended reports that the run committed events.
	appended bool
	// defs is the space for the registrations of a commit's events, which
	// buildCommit finds and the fold after the write uses: enough for
	// the usual commands, on the stack with the run.
	defs [4]*eventDef
}

// run checks the caller's ids, acquires the pooled aggregate and runs the
// command on it (def and cmd, or End when def is nil); the subscribers
// then see its events when they run inline.
func (s *Service) run(ctx context.Context, t *typeRuntime, stream StreamID, o *commandOptions, def *commandDef, cmd any) (Result, error) {
	// Caller-chosen ids are held to the rules every store applies
	// (ValidateCommit), here, before any I/O: a store would refuse them
	// only after the aggregate was loaded and decided.
	actor := actorOf(PrincipalFrom(ctx))
	for _, f := range [...]struct{ what, s string }{
		{"command id", o.commandID}, {"correlation id", o.correlationID}, {"causation id", o.causationID},
		{"actor", actor},
	} {
		if err := checkRecordedID("signal.Handle", stream, f.what, f.s, false); err != nil {
			return Result{}, err
		}
	}
	r := commandRun{s: s, t: t, o: *o, def: def, cmd: cmd, now: s.now()}
	r.o.actor = actor
	// Without a command id from the caller, the run makes one with its
	// first commit (buildCommit).
	var err error
	if r.e, r.fresh, err = s.pool.acquireAt(ctx, stream, r.now.UnixNano(), func(e *entry) error { return s.load(ctx, t, e) }); err != nil {
		return Result{}, err
	}
	var res Result
	err = r.locked(ctx, &res)
	if r.appended && s.inline {
		s.dispatcher.dispatchInline(ctx, stream, res.Events)
	}
	return res, err
}

// locked runs the attempts until one settles the command (its Result in
// *res: filled in place, not copied up through each call), then releases
// the aggregate's lock, also when the domain's code panics. After a panic
// the pooled state may be half-evolved, so it is evicted before the panic
// goes on.
func (r *commandRun) locked(ctx context.Context, res *Result) error {
	defer func() {
		if p := recover(); p != nil {
			r.s.evict(r.e)
			r.e.mu.Unlock()
			panic(p)
		}
		r.e.mu.Unlock()
	}()
	for {
		again, err := r.once(ctx, res)
		if !again {
			return err
		}
		r.now = r.s.now()
	}
}

// once is one attempt: answer a known command id, check the state's
// preconditions, decide, append; the answer goes into *res. again reports that the state moved on (a
// refusal on pooled state caught up, or a lost race folded the winner):
// the command is to be decided once more.
func (r *commandRun) once(ctx context.Context, res *Result) (again bool, err error) {
	if err := r.authorize(ctx); err != nil {
		if KindOf(err) == KindForbidden {
			again, err = r.confirm(ctx, err)
		}
		return again, err
	}
	if r.o.commandID != "" {
		// A caller's id may be a repeat. A generated one is made with
		// the run's first commit, so only once an attempt has lost a race
		// can it be in the window: folded from the store, when that
		// attempt's write landed after all (a lost response, the SDK's
		// retry) and the store did not say so.
		if rc, ok := r.e.recent.find(r.o.commandID); ok {
			*res, err = r.repeat(ctx, rc)
			return false, err
		}
	}
	genesis := r.def != nil && r.def.genesis
	if err := stateRefusal(r.e.stream, r.e.version, r.e.closed, &r.o, genesis); err != nil {
		again, err := r.confirm(ctx, err)
		return again, err
	}
	values, err := r.decide()
	if err != nil {
		if KindOf(err) == KindRejected {
			again, err = r.confirm(ctx, err)
		}
		return again, err
	}
	if len(values) == 0 {
		*res = r.s.result(r.e, nil, nil, nil, false)
		return false, nil
	}
	return r.append(ctx, values, res)
}

// authorize asks the Service's rule whether the run's principal may send
// its command to the aggregate as it is now. A refusal resting on a
// pooled state is confirmed like any other (confirm): the rule may
// depend on the state (its owner, say), which may be stale.
func (r *commandRun) authorize(ctx context.Context) error {
	if r.s.authorizer == nil {
		return nil
	}
	kind := EndAction
	if r.def != nil {
		kind = CommandAction
	}
	a := r.s.aggregateAction(kind, r.e)
	if r.def != nil {
		a.Command = r.def.name
	}
	return r.s.authorize(ctx, &a)
}

// decide runs the command's handler on the state, or the End rule.
func (r *commandRun) decide() ([]any, error) {
	if r.def != nil {
		return r.e.h.decide(r.def, r.cmd)
	}
	e, err := r.e.h.endEvent()
	if err != nil {
		return nil, err
	}
	return []any{e}, nil
}

// repeat answers a command id the aggregate already committed: the
// original outcome for the same request, ErrIdempotencyKeyReused for
// another.
func (r *commandRun) repeat(ctx context.Context, rc recentCommand) (Result, error) {
	if !sameRequest(rc.fingerprint, r.o.fingerprint) {
		return Result{}, keyReused(r.e.stream, r.o.commandID)
	}
	return r.s.duplicate(ctx, r.t, r.e, rc, r.o.fingerprint)
}

// append encodes the decided values and appends them at the next
// version. On success it folds them and describes them in *res; a lost race goes to conflicted; any
// other failure leaves the state in doubt and evicts it.
func (r *commandRun) append(ctx context.Context, values []any, res *Result) (again bool, err error) {
	s, e := r.s, r.e
	var commit Commit
	answer, defs, err := r.buildCommit(&commit, values)
	if err != nil {
		return false, err
	}
	contended := r.contended()
	if contended && r.attempt == 0 {
		if err := r.yield(ctx); err != nil {
			return false, unavailable("signal.Handle", e.stream, err)
		}
	}
	err = r.write(ctx, &commit, contended)
	if err == nil || ownCommit(err, &commit) {
		s.applyDecided(ctx, r.t, e, &commit, values, defs)
		r.appended = true
		*res = s.result(e, &commit, values, answer, commit.Version == 1)
		return false, nil
	}
	if ce, ok := ConflictOf(err); ok {
		return r.conflicted(ctx, err, ce)
	}
	// The write may or may not have happened (a timeout), or the stream
	// was closed by someone else: forget this state, so the next command
	// reads the truth.
	s.evict(e)
	if errors.Is(err, ErrClosed) {
		return false, closedError(e.stream, err)
	}
	return false, storeError("signal.Handle", e.stream, err)
}
