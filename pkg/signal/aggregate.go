package signal

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Spec declares an aggregate type. The state S and the command and event
// types are the user's plain Go types: nothing to embed, no methods to
// implement. Each command and each event is registered once, with its
// stable name and its typed handler (Decide and Evolve build them), so
// the compiler checks every handler against the state and the command or
// event it takes. Name, Commands and Events are required.
type Spec[S any] struct {
	// Name is the stable type name used in stream keys and the HTTP API ("cart").
	Name string
	// Initial returns the state of aggregate id before its first event:
	// the way the aggregate's id reaches the domain. Nil means the zero
	// value of S.
	Initial func(id string) S
	// Commands registers the commands: signal.Decide(name, handler, marks...).
	Commands []CommandSpec[S]
	// Events registers the events: signal.Evolve(name, handler, marks...).
	Events []EventSpec[S]
	// End is the rule Service.End (HTTP DELETE) applies to end an
	// aggregate's life from outside: signal.EndWith(handler), whose event
	// must be registered Terminal. The zero value means the type cannot
	// be ended from outside.
	End EndSpec[S]

	// SnapshotEvery asks for a snapshot each time the version crosses a
	// multiple of it; 0 disables snapshots.
	SnapshotEvery int
	// StateVersion is the schema version of S in snapshots (default 1).
	// Change it whenever S changes shape: snapshots of another version are
	// ignored and the state is rebuilt from events.
	StateVersion int
}

// Type is a defined aggregate type with state S. Register it with a
// Service through Config.Types; Bind gives typed access to its aggregates.
type Type[S any] struct {
	name          string
	initial       func(id string) S
	reg           *registry
	evolvers      map[reflect.Type]func(S, any) S
	end           func(S) (any, error)
	snapshotEvery int
	stateVersion  int
}

// AggregateType is an aggregate type of any state, as a Service holds it.
// Only *Type[S] implements it.
type AggregateType interface {
	// Name is the type's stable name.
	Name() string
	// Commands describes the registered commands in declaration order.
	Commands() []CommandInfo
	// Events describes the registered events in declaration order.
	Events() []EventInfo
	runtime() typeRuntime
}

// Define validates spec and returns the aggregate type. Errors name what
// is missing or inconsistent: an invalid name, no commands or events, a
// registration or End rule without a handler, a command or event
// registered twice (by name or by Go type), an event schema version below
// 1 or without an upcaster chain, an upcaster outside that chain, or an
// End rule whose event is not a registered terminal event.
func Define[S any](spec Spec[S]) (*Type[S], error) {
	if err := ValidateName(spec.Name); err != nil {
		return nil, fmt.Errorf("signal.Define: type name: %w", err)
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
	cmds := make([]commandDef, len(spec.Commands))
	for i, c := range spec.Commands {
		if c.def.decide == nil {
			return nil, fmt.Errorf("signal.Define %s: command %d has no handler; build it with signal.Decide", spec.Name, i)
		}
		cmds[i] = c.def
	}
	t := &Type[S]{
		name:          spec.Name,
		initial:       spec.Initial,
		evolvers:      make(map[reflect.Type]func(S, any) S, len(spec.Events)),
		end:           spec.End.fn,
		snapshotEvery: spec.SnapshotEvery,
		stateVersion:  spec.StateVersion,
	}
	evs := make([]eventDef, len(spec.Events))
	for i, e := range spec.Events {
		if e.evolve == nil {
			return nil, fmt.Errorf("signal.Define %s: event %d has no handler; build it with signal.Evolve", spec.Name, i)
		}
		evs[i] = e.def
		evs[i].evolve = e.evolve
		t.evolvers[e.def.goType] = e.evolve
	}
	reg, err := newRegistry(spec.Name, cmds, evs)
	if err != nil {
		return nil, fmt.Errorf("signal.Define %s: %w", spec.Name, err)
	}
	t.reg = reg
	if spec.End.event != nil && spec.End.fn == nil {
		return nil, fmt.Errorf("signal.Define %s: the End rule has no handler; build it with signal.EndWith", spec.Name)
	}
	if spec.End.fn != nil {
		if ev := reg.eventsByGo[spec.End.event]; ev == nil || !ev.terminal {
			return nil, fmt.Errorf("signal.Define %s: the End rule returns %v, which is not an event registered Terminal", spec.Name, spec.End.event)
		}
	}
	return t, nil
}

// MustDefine is Define for package-level variables; it panics on error.
func MustDefine[S any](spec Spec[S]) *Type[S] {
	t, err := Define(spec)
	if err != nil {
		panic(err)
	}
	return t
}

// CommandSpec registers one command of an aggregate type with state S.
// Build it with Decide.
type CommandSpec[S any] struct{ def commandDef }

// CommandMark is a property of a registered command: Genesis, Internal.
type CommandMark struct{ genesis, internal bool }

var (
	// Genesis marks a command that may create its aggregate. A command to
	// an aggregate that does not exist is refused with ErrNotFound unless
	// it is marked Genesis (or sent with Service.Create).
	Genesis = CommandMark{genesis: true}
	// Internal marks a command that only Go code and policies may send:
	// Service.HandleJSON, and so the HTTP API, refuses it with
	// ErrForbidden before anything is read or written.
	Internal = CommandMark{internal: true}
)

// Decide registers the command C under name (the last segment of its
// HTTP path) with its handler. The handler turns the command, given the
// current state, into events (values of the type's registered event
// types). An error refuses the command (ErrRejected, HTTP 422): its text
// is shown to clients, so keep it free of secrets. Returning no events
// and no error accepts the command without changing anything.
//
// The handler must be pure: no I/O, no clock, no randomness, so that
// retries after a conflict decide again safely.
//
// Bodies are decoded as encoding/json.Unmarshal decodes them (the same
// value or the same error, by the faster json v2 module under
// encoding/json's rules) after a strict check: an empty body is {}, and
// null, invalid UTF-8, escaped lone surrogates and repeated member names
// are ErrInvalid.
func Decide[S, C any](name string, handler func(state S, cmd C) ([]any, error), marks ...CommandMark) CommandSpec[S] {
	d := commandDef{
		name:   name,
		goType: reflect.TypeFor[C](),
		decide: func(s S, cmd any) ([]any, error) { return handler(s, cmd.(C)) },
		decode: newValueDecoder[C](),
	}
	if handler == nil {
		d.decide = nil
	}
	for _, m := range marks {
		d.genesis = d.genesis || m.genesis
		d.internal = d.internal || m.internal
	}
	return CommandSpec[S]{def: d}
}

// EventSpec registers one event of an aggregate type with state S. Build
// it with Evolve.
type EventSpec[S any] struct {
	def    eventDef
	evolve func(S, any) S
}

// EventMark is a property of a registered event: Terminal, SchemaVersion,
// UpcastFrom.
type EventMark struct {
	terminal   bool
	setVersion bool // SchemaVersion, whose version may be invalid (Define refuses it)
	version    int
	from       int
	upcaster   Upcaster
}

// Terminal marks an event that ends its aggregate's life. The commit
// holding it is Final: the stream is closed, the aggregate leaves the
// pool and every later command fails with ErrClosed. Its history and
// state stay readable.
var Terminal = EventMark{terminal: true}

// Upcaster turns the JSON payload of an event stored at schema version N
// into the payload of version N+1.
type Upcaster func(old json.RawMessage) (json.RawMessage, error)

// SchemaVersion sets the current schema version of an event (default 1).
// Events are stored with it; older payloads go through the upcasters on load.
func SchemaVersion(v int) EventMark { return EventMark{setVersion: true, version: v} }

// UpcastFrom registers the transform from schema version `from` to from+1.
// A chain from every older version to the current one must exist.
func UpcastFrom(from int, fn Upcaster) EventMark { return EventMark{from: from, upcaster: fn} }

// Evolve registers the event E under name (stored with every event of
// this type, so never change it) with its handler. The handler folds one
// event into the state and returns the new state. It must not modify the
// state it is given (copy maps and slices before changing them): earlier
// states are handed out to concurrent readers.
//
// Events are written as encoding/json.Marshal writes them, to the byte (a
// plain struct of bools, integers and strings by a faster encoder of the
// same rules, any other type by encoding/json), and decoded into E as
// encoding/json.Unmarshal decodes them: the same value or the same error,
// by the faster json v2 module (github.com/go-json-experiment/json) under
// encoding/json's rules.
func Evolve[S, E any](name string, handler func(state S, event E) S, marks ...EventMark) EventSpec[S] {
	d := eventDef{
		name:    name,
		version: 1,
		goType:  reflect.TypeFor[E](),
		decode:  newValueDecoder[E](),
		plain:   plainStructOf(reflect.TypeFor[E]()),
	}
	for _, m := range marks {
		d.terminal = d.terminal || m.terminal
		if m.setVersion {
			d.version = m.version
		}
		if m.upcaster != nil {
			if d.upcasters == nil {
				d.upcasters = map[int]Upcaster{}
			}
			d.upcasters[m.from] = m.upcaster
		}
	}
	spec := EventSpec[S]{def: d}
	if handler != nil {
		spec.evolve = func(s S, e any) S { return handler(s, e.(E)) }
	}
	return spec
}

// EndSpec is an aggregate type's End rule. Build it with EndWith.
type EndSpec[S any] struct {
	fn    func(S) (any, error)
	event reflect.Type
}

// EndWith makes handler the type's End rule: given the current state, it
// returns the terminal event Service.End appends, or an error that
// refuses the end like a command handler's errors refuse commands.
func EndWith[S, E any](handler func(state S) (E, error)) EndSpec[S] {
	if handler == nil {
		return EndSpec[S]{event: reflect.TypeFor[E]()} // Define refuses it
	}
	return EndSpec[S]{
		fn: func(s S) (any, error) {
			e, err := handler(s)
			if err != nil {
				return nil, err
			}
			return e, nil
		},
		event: reflect.TypeFor[E](),
	}
}

// CommandInfo describes a registered command.
type CommandInfo struct {
	Name string
	// GoType is the command's Go type; its JSON encoding is the body.
	GoType   reflect.Type
	Genesis  bool
	Internal bool
}

// EventInfo describes a registered event.
type EventInfo struct {
	Name          string
	GoType        reflect.Type
	SchemaVersion int
	Terminal      bool
}

// Name returns the type's stable name.
func (t *Type[S]) Name() string { return t.name }

// Commands describes the registered commands in declaration order.
func (t *Type[S]) Commands() []CommandInfo {
	out := make([]CommandInfo, len(t.reg.commandOrder))
	for i, c := range t.reg.commandOrder {
		out[i] = CommandInfo{Name: c.name, GoType: c.goType, Genesis: c.genesis, Internal: c.internal}
	}
	return out
}

// Events describes the registered events in declaration order.
func (t *Type[S]) Events() []EventInfo {
	out := make([]EventInfo, len(t.reg.eventOrder))
	for i, e := range t.reg.eventOrder {
		out[i] = EventInfo{Name: e.name, GoType: e.goType, SchemaVersion: e.version, Terminal: e.terminal}
	}
	return out
}

// Initial returns the state of aggregate id before its first event.
func (t *Type[S]) Initial(id string) S {
	if t.initial != nil {
		return t.initial(id)
	}
	var s S
	return s
}

// Fold applies events (values of registered event types) to state in
// order, as a load does. It panics on a value of an unregistered type,
// which a load can never hand it.
func (t *Type[S]) Fold(state S, events ...any) S {
	for _, e := range events {
		state = t.evolve(state, e)
	}
	return state
}

func (t *Type[S]) evolve(s S, e any) S {
	fn := t.evolvers[reflect.TypeOf(e)]
	if fn == nil {
		panic(fmt.Sprintf("signal: %s has no event of Go type %T", t.name, e))
	}
	return fn(s, e)
}

// To addresses cmd to aggregate id of this type: what a policy returns
// to send it. The command's type is checked when it is sent.
func (t *Type[S]) To(id string, cmd any) Send { return Send{Type: t.name, ID: id, Command: cmd} }

// typeRuntime is what the Service needs of a type, with S erased.
type typeRuntime struct {
	name          string
	owner         any // the *Type[S], which Bind checks
	reg           *registry
	newHolder     func(id string) stateHolder
	hasGenesis    bool
	canEnd        bool
	snapshotEvery int64
	stateVersion  int
}

func (t *Type[S]) runtime() typeRuntime {
	rt := typeRuntime{
		name:          t.name,
		owner:         t,
		reg:           t.reg,
		newHolder:     func(id string) stateHolder { return &holder[S]{t: t, id: id, s: t.Initial(id)} },
		canEnd:        t.end != nil,
		snapshotEvery: int64(t.snapshotEvery),
		stateVersion:  t.stateVersion,
	}
	for _, c := range t.reg.commandOrder {
		rt.hasGenesis = rt.hasGenesis || c.genesis
	}
	return rt
}

// stateHolder keeps one aggregate's typed state behind an interface, so
// the Service and the pool handle every type without boxing on each event.
type stateHolder interface {
	decide(c *commandDef, cmd any) ([]any, error)
	evolve(e any)
	evolveWith(def *eventDef, e any)
	endEvent() (any, error)
	state() any
	encode() ([]byte, error)
	decode([]byte) error
}

type holder[S any] struct {
	t  *Type[S]
	id string
	s  S
}

func (h *holder[S]) decide(c *commandDef, cmd any) ([]any, error) {
	events, err := c.decide.(func(S, any) ([]any, error))(h.s, cmd)
	if err != nil {
		return nil, refusal("signal.Handle", err)
	}
	return events, nil
}

func (h *holder[S]) evolve(e any) { h.s = h.t.evolve(h.s, e) }

// evolveWith folds e with its registration's handler: a load has the
// registration from decoding, so it pays no lookup by Go type.
func (h *holder[S]) evolveWith(def *eventDef, e any) {
	h.s = def.evolve.(func(S, any) S)(h.s, e)
}

func (h *holder[S]) endEvent() (any, error) {
	e, err := h.t.end(h.s)
	if err != nil {
		return nil, refusal("signal.End", err)
	}
	return e, nil
}

// refusal makes a domain's error an ErrRejected, keeping typed errors as
// they are.
func refusal(op string, err error) error {
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	return &Error{Kind: KindRejected, Op: op, Message: err.Error(), Err: err}
}

func (h *holder[S]) state() any { return h.s }

func (h *holder[S]) encode() ([]byte, error) { return json.Marshal(h.s) }

// decode sets the state from a snapshot's: b decoded into the initial
// state, as encoding/json.Unmarshal would (see unmarshalV1), or its error.
func (h *holder[S]) decode(b []byte) error {
	s := h.t.Initial(h.id)
	if err := unmarshalV1(b, &s, func() { s = h.t.Initial(h.id) }); err != nil {
		return err
	}
	h.s = s
	return nil
}
