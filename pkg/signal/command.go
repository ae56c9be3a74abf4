package signal

import (
	"context"
	"fmt"
)

// Handle runs cmd, a value of a command type registered for aggregate type
// typ, against aggregate id, and appends the events it decides.
//
// Outcomes:
//   - nil error: the events are committed; Result describes them.
//     Result.Created is set when a Genesis command created the aggregate,
//     Result.Duplicate when the command id was already handled for the
//     same request (see WithCommandID).
//   - ErrUnknownType, ErrUnknownCommand, ErrInvalid (bad id, command id,
//     correlation or causation id, a principal's Subject no store can
//     record as the Actor, or a command given a command id that JSON
//     cannot encode): nothing read or written.
//   - ErrUnauthenticated, ErrForbidden: the Service's Authorize rule
//     refused the principal of ctx (it runs before a repeated command id
//     is answered); nothing written.
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
	t, stream, err := s.resolve(ctx, typ, id)
	if err != nil {
		return Result{}, err
	}
	c, err := t.reg.command(cmd)
	if err != nil {
		return Result{}, err
	}
	if o.commandID != "" {
		if o.fingerprint, err = commandFingerprint(c.name, cmd); err != nil {
			return Result{}, &Error{Kind: KindInvalid, Op: "signal.Handle", Stream: stream,
				Message: fmt.Sprintf("the %s command cannot be encoded as JSON, which a command id needs to recognise a repeat", c.name), Err: err}
		}
	}
	return s.run(ctx, t, stream, &o, c, cmd)
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
		return Result{}, &Error{Kind: KindForbidden, Op: "signal.Handle",
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
	t, _, err := s.resolve(ctx, typ, id)
	if err != nil {
		return Result{}, err
	}
	c, err := t.reg.command(cmd)
	if err != nil {
		return Result{}, err
	}
	if t.hasGenesis && !c.genesis {
		return Result{}, Errorf(KindInvalid, "signal.Create", "%s cannot create a %s", c.name, typ)
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
	t, stream, err := s.resolve(ctx, typ, id)
	if err != nil {
		return Result{}, err
	}
	if !t.canEnd {
		return Result{}, Errorf(KindInvalid, "signal.End", "%s aggregates cannot be ended from outside", typ)
	}
	if o.commandID != "" {
		o.fingerprint = endFingerprint
	}
	return s.run(ctx, t, stream, &o, nil, nil)
}
