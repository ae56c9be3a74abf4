package signal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Spec declares an aggregate type. The state S and the command and event
// types are the user's plain Go types: nothing to embed, no methods to
// implement. Only Name, Decide, Evolve, Commands and Events are required.
type Spec[S any] struct {
	// Name is the stable type name used in stream keys and the HTTP API ("cart").
	Name string
	// Initial returns the state of an aggregate before its first event.
	// Nil means the zero value of S.
	Initial func() S
	// Decide turns a command, given the current state, into events. An
	// error refuses the command (ErrRejected, HTTP 422): its text is shown
	// to clients, so keep it free of secrets. Returning no events and no
	// error accepts the command without changing anything.
	// Decide must be pure: no I/O, no clock, no randomness, so that
	// retries after a conflict re-decide safely.
	Decide func(state S, cmd any) ([]any, error)
	// Evolve folds one event into the state and returns the new state. It
	// must not modify the state it is given (copy maps and slices before
	// changing them): earlier states are handed out to concurrent readers.
	Evolve func(state S, event any) S
	// Commands and Events register the types by stable name.
	Commands []CommandType
	Events   []EventType

	// Genesis reports whether cmd may create a new aggregate. A command to
	// an aggregate that does not exist is refused with ErrNotFound unless
	// Genesis accepts it. Nil means no command creates implicitly; such
	// aggregates are created only through Service.Create.
	Genesis func(cmd any) bool
	// Terminal reports whether an event ends the aggregate's life. The
	// commit holding it is Final: the stream is closed, the aggregate is
	// evicted from the pool and every later command fails with ErrClosed.
	// Its history and state stay readable.
	Terminal func(event any) bool
	// Close returns the terminal event that Service.Close (HTTP DELETE)
	// appends. Nil means the type cannot be closed from outside; an error
	// refuses the close like Decide's errors refuse commands.
	Close func(state S) (any, error)

	// SnapshotEvery asks for a snapshot each time the version crosses a
	// multiple of it; 0 disables snapshots.
	SnapshotEvery int
	// StateVersion is the schema version of S in snapshots (default 1).
	// Change it whenever S changes shape: snapshots of another version are
	// ignored and the state is rebuilt from events.
	StateVersion int
}

// Type is a defined aggregate type with state S. Register it with a
// Service through Config.Types; its methods give typed access to state.
type Type[S any] struct {
	spec Spec[S]
	reg  *registry
}

// AggregateType is an aggregate type of any state, as a Service holds it.
// Only *Type[S] implements it.
type AggregateType interface {
	// Name is the type's stable name.
	Name() string
	// CommandNames lists the registered command names in declaration order.
	CommandNames() []string
	runtime() typeRuntime
}

// Define validates spec and returns the aggregate type. Errors name what
// is missing or inconsistent: an invalid name, no Decide or Evolve, a
// command or event registered twice, or an event schema version without
// an upcaster chain.
func Define[S any](spec Spec[S]) (*Type[S], error) {
	if err := ValidateName(spec.Name); err != nil {
		return nil, fmt.Errorf("signal.Define: type name: %w", err)
	}
	if spec.Decide == nil || spec.Evolve == nil {
		return nil, fmt.Errorf("signal.Define %s: Decide and Evolve are required", spec.Name)
	}
	if len(spec.Commands) == 0 || len(spec.Events) == 0 {
		return nil, fmt.Errorf("signal.Define %s: at least one command and one event are required", spec.Name)
	}
	if spec.SnapshotEvery < 0 {
		return nil, fmt.Errorf("signal.Define %s: SnapshotEvery < 0", spec.Name)
	}
	if spec.StateVersion == 0 {
		spec.StateVersion = 1
	}
	reg, err := newRegistry(spec.Name, spec.Commands, spec.Events)
	if err != nil {
		return nil, fmt.Errorf("signal.Define %s: %w", spec.Name, err)
	}
	return &Type[S]{spec: spec, reg: reg}, nil
}

// MustDefine is Define for package-level variables; it panics on error.
func MustDefine[S any](spec Spec[S]) *Type[S] {
	t, err := Define(spec)
	if err != nil {
		panic(err)
	}
	return t
}

// Name returns the type's stable name.
func (t *Type[S]) Name() string { return t.spec.Name }

// CommandNames lists the registered command names in declaration order.
func (t *Type[S]) CommandNames() []string { return append([]string(nil), t.reg.commandNames...) }

// Initial returns the state before the first event.
func (t *Type[S]) Initial() S {
	if t.spec.Initial != nil {
		return t.spec.Initial()
	}
	var s S
	return s
}

// Fold applies events (values of registered event types) to state in
// order, as a load does. Handy in tests.
func (t *Type[S]) Fold(state S, events ...any) S {
	for _, e := range events {
		state = t.spec.Evolve(state, e)
	}
	return state
}

// Handle handles cmd on the aggregate id through s and returns the typed
// new state with the result. Outcomes as Service.Handle.
func (t *Type[S]) Handle(ctx context.Context, s *Service, id string, cmd any, opts ...CommandOption) (S, Result, error) {
	r, err := s.Handle(ctx, t.spec.Name, id, cmd, opts...)
	return stateAs[S](r.State), r, err
}

// Get returns the typed state of aggregate id and its version. Outcomes as Service.Get.
func (t *Type[S]) Get(ctx context.Context, s *Service, id string, opts ...ReadOption) (S, int64, error) {
	st, err := s.Get(ctx, t.spec.Name, id, opts...)
	return stateAs[S](st.State), st.Version, err
}

// At returns the typed state of aggregate id as it was at version. Outcomes as Service.At.
func (t *Type[S]) At(ctx context.Context, s *Service, id string, version int64) (S, error) {
	st, err := s.At(ctx, t.spec.Name, id, version)
	return stateAs[S](st.State), err
}

func stateAs[S any](v any) S {
	s, _ := v.(S)
	return s
}

// typeRuntime is what the Service needs of a type, with S erased.
type typeRuntime struct {
	name          string
	reg           *registry
	newHolder     func() stateHolder
	genesis       func(cmd any) bool
	terminal      func(e any) bool
	canClose      bool
	snapshotEvery int64
	stateVersion  int
}

func (t *Type[S]) runtime() typeRuntime {
	return typeRuntime{
		name:          t.spec.Name,
		reg:           t.reg,
		newHolder:     func() stateHolder { return &holder[S]{t: t, s: t.Initial()} },
		genesis:       t.spec.Genesis,
		terminal:      t.spec.Terminal,
		canClose:      t.spec.Close != nil,
		snapshotEvery: int64(t.spec.SnapshotEvery),
		stateVersion:  t.spec.StateVersion,
	}
}

// stateHolder keeps one aggregate's typed state behind an interface, so
// the Service and the pool handle every type without boxing on each event.
type stateHolder interface {
	decide(cmd any) ([]any, error)
	evolve(e any)
	closeEvent() (any, error)
	state() any
	encode() ([]byte, error)
	decode([]byte) error
}

type holder[S any] struct {
	t *Type[S]
	s S
}

func (h *holder[S]) decide(cmd any) (events []any, err error) {
	events, err = h.t.spec.Decide(h.s, cmd)
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, &Error{Kind: KindRejected, Op: "decide", Message: err.Error(), Err: err}
	}
	return events, nil
}

func (h *holder[S]) evolve(e any) { h.s = h.t.spec.Evolve(h.s, e) }

func (h *holder[S]) closeEvent() (any, error) {
	e, err := h.t.spec.Close(h.s)
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, &Error{Kind: KindRejected, Op: "close", Message: err.Error(), Err: err}
	}
	return e, nil
}

func (h *holder[S]) state() any { return h.s }

func (h *holder[S]) encode() ([]byte, error) { return json.Marshal(h.s) }

func (h *holder[S]) decode(b []byte) error {
	s := h.t.Initial()
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	h.s = s
	return nil
}
