package signal

import (
	"context"
	"errors"
	"fmt"
)

// Authorizer is an app's authorization rule (App.Authorize): it decides
// whether the principal p (nil for an anonymous caller) may do a. It
// answers nil to allow; Unauthenticated() to ask for a principal (HTTP
// 401); Forbidden(...) or any error that is not an *Error to refuse (HTTP
// 403, the error's text being the message clients see); any other *Error
// (say, ErrUnavailable from Action.OwnerOf) is the outcome as it is. A
// refused operation reads no more and writes nothing.
//
// It runs for every command (Handle, HandleJSON, Create, End, a policy's
// commands among them, whose principal is PolicyPrincipal), every state
// read (Get, At), history page and view read. It must be fast and must
// not call the Service for the same aggregate (the aggregate is locked
// while a command's rule runs); Action.OwnerOf reads another.
type Authorizer func(ctx context.Context, p *Principal, a *Action) error

// ActionKind says what an Action does.
type ActionKind uint8

// The kinds of action an Authorizer decides.
const (
	// CommandAction: a command (Action.Command) to an aggregate.
	CommandAction ActionKind = iota + 1
	// EndAction: ending an aggregate (Service.End, HTTP DELETE).
	EndAction
	// ReadAction: reading an aggregate's state (Get, At).
	ReadAction
	// HistoryAction: reading an aggregate's events (History).
	HistoryAction
	// ViewAction: reading a view document (Action.View, Action.Key).
	ViewAction
)

var actionNames = [...]string{CommandAction: "command", EndAction: "end", ReadAction: "read", HistoryAction: "history", ViewAction: "view"}

func (k ActionKind) String() string {
	if int(k) < len(actionNames) && actionNames[k] != "" {
		return actionNames[k]
	}
	return fmt.Sprintf("action(%d)", k)
}

// Action is what a caller asks to do, with what the rule may need to know
// of its target.
type Action struct {
	Kind ActionKind
	// Tenant is the tenant acted in, when the Service has Tenancy: the
	// principal's own (the Service never lets a principal act in another).
	Tenant string
	// Type and ID name the aggregate; empty for a ViewAction.
	Type, ID string
	// Command is the command's name, for a CommandAction.
	Command string
	// View and Key name the document, for a ViewAction.
	View, Key string
	// Version is the aggregate's current version, 0 when it has no events
	// yet (a command that would create it). State is its current state
	// (nil at version 0), for rules that decide on the domain's data; the
	// rule must not modify it. Both are unset for a ViewAction.
	Version int64
	State   any
	// Owner is the Actor of the aggregate's first commit: the subject that
	// created it ("" at version 0, and for aggregates created without a
	// principal). Unset for a ViewAction; see OwnerOf.
	Owner string

	svc *Service
}

// OwnerOf returns the Owner of an aggregate (as Action.Owner), for a rule
// on a view whose key is an aggregate's id. It reads the aggregate like
// Get (from the pool when warm); ErrNotFound when it has no events,
// otherwise as Get. Only a ViewAction has it (ErrInternal otherwise).
func (a *Action) OwnerOf(ctx context.Context, typ, id string) (string, error) {
	switch {
	case a.Kind != ViewAction:
		// A rule on an aggregate runs with that aggregate locked; reading
		// another from there could deadlock with a request doing the
		// reverse.
		return "", Errorf(KindInternal, "signal.OwnerOf", "OwnerOf is for rules on views")
	case a.svc == nil:
		return "", Errorf(KindInternal, "signal.OwnerOf", "the Action was not made by a Service")
	}
	return a.svc.ownerOf(ctx, typ, id)
}

// Unauthenticated is an Authorizer's answer when the action needs a
// principal and there is none: ErrUnauthenticated (HTTP 401).
func Unauthenticated() error {
	return &Error{Kind: KindUnauthenticated, Op: "signal.Authorize", Message: "authentication required"}
}

// Forbidden is an Authorizer's refusal, with a message clients see:
// ErrForbidden (HTTP 403).
func Forbidden(format string, args ...any) error {
	return &Error{Kind: KindForbidden, Op: "signal.Authorize", Message: fmt.Sprintf(format, args...)}
}

// authorize runs the Service's rule, if it has one, on a for the
// principal ctx carries, and types its answer (see Authorizer).
func (s *Service) authorize(ctx context.Context, a *Action) error {
	if s.authorizer == nil {
		return nil
	}
	a.svc = s
	err := s.authorizer(ctx, PrincipalFrom(ctx), a)
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	return &Error{Kind: KindForbidden, Op: "signal.Authorize", Stream: StreamID{Type: a.Type, ID: a.ID}, Message: err.Error(), Err: err}
}

// authorizeRead runs the rule for a read of kind (At, History) of the
// aggregate as the pool has it: from the pool when warm, loaded once when
// not (what the rule is given, the owner and the state, needs it).
func (s *Service) authorizeRead(ctx context.Context, kind ActionKind, t *typeRuntime, stream StreamID) error {
	if s.authorizer == nil {
		return nil
	}
	a, err := s.currentAction(ctx, kind, t, stream)
	if err != nil {
		return err
	}
	return s.authorize(ctx, &a)
}

// currentAction is the Action of kind on the aggregate as it is now:
// pooled, read when missing or new in the pool.
func (s *Service) currentAction(ctx context.Context, kind ActionKind, t *typeRuntime, stream StreamID) (Action, error) {
	e, fresh, err := s.pool.acquire(ctx, stream, func(e *entry) error { return s.load(ctx, t, e) })
	if err != nil {
		return Action{}, err
	}
	defer e.mu.Unlock()
	if e.version == 0 && !fresh {
		if err := s.catchUp(ctx, t, e); err != nil {
			return Action{}, err
		}
	}
	return s.aggregateAction(kind, e), nil
}

// ownerOf reads an aggregate's owner for Action.OwnerOf.
func (s *Service) ownerOf(ctx context.Context, typ, id string) (string, error) {
	t, stream, err := s.resolve(ctx, typ, id)
	if err != nil {
		return "", err
	}
	a, err := s.currentAction(ctx, ReadAction, t, stream)
	if err != nil {
		return "", err
	}
	if a.Version == 0 {
		return "", &Error{Kind: KindNotFound, Op: "signal.OwnerOf", Stream: stream, Message: fmt.Sprintf("%s %s does not exist", typ, id)}
	}
	return a.Owner, nil
}

// aggregateAction is the Action of kind on the aggregate of e, which the
// caller holds locked.
func (s *Service) aggregateAction(kind ActionKind, e *entry) Action {
	tenant, id := s.unscope(e.stream.ID)
	a := Action{Kind: kind, Tenant: tenant, Type: e.stream.Type, ID: id, Version: e.version, Owner: e.owner}
	if e.version > 0 {
		a.State = e.h.state()
	}
	return a
}
