package signal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// eventDef is one registered event, with S erased.
type eventDef struct {
	name      string
	version   int
	terminal  bool
	goType    reflect.Type
	decode    func([]byte) (any, error)
	upcasters map[int]Upcaster
	evolve    any // the type's func(S, any) S
	// plain writes goType's JSON when it is a plain struct (nil when
	// encoding/json is to).
	plain *plainStruct
}

// commandDef is one registered command, with S erased: decide holds the
// type's func(S, any) ([]any, error).
type commandDef struct {
	name     string
	goType   reflect.Type
	genesis  bool
	internal bool
	decide   any
	decode   func([]byte) (any, error)
}

// registry holds one aggregate type's commands and events, by name and by Go type.
type registry struct {
	typeName     string
	events       map[string]*eventDef
	eventsByGo   map[reflect.Type]*eventDef
	eventOrder   []*eventDef
	commands     map[string]*commandDef
	commandsByGo map[reflect.Type]*commandDef
	commandOrder []*commandDef
}

func newRegistry(typeName string, commands []commandDef, events []eventDef) (*registry, error) {
	r := &registry{
		typeName:     typeName,
		events:       map[string]*eventDef{},
		eventsByGo:   map[reflect.Type]*eventDef{},
		commands:     map[string]*commandDef{},
		commandsByGo: map[reflect.Type]*commandDef{},
	}
	for i := range events {
		e := &events[i]
		if err := ValidateName(e.name); err != nil {
			return nil, fmt.Errorf("event: %w", err)
		}
		if e.version < 1 {
			return nil, fmt.Errorf("event %q: schema version %d < 1", e.name, e.version)
		}
		for v := 1; v < e.version; v++ {
			if e.upcasters[v] == nil {
				return nil, fmt.Errorf("event %q: no upcaster from schema version %d", e.name, v)
			}
		}
		for v := range e.upcasters {
			if v < 1 || v >= e.version {
				return nil, fmt.Errorf("event %q: an upcaster from schema version %d, outside 1 to %d", e.name, v, e.version-1)
			}
		}
		if r.events[e.name] != nil || r.eventsByGo[e.goType] != nil {
			return nil, fmt.Errorf("event %q (%v) registered twice", e.name, e.goType)
		}
		r.events[e.name], r.eventsByGo[e.goType] = e, e
		r.eventOrder = append(r.eventOrder, e)
	}
	for i := range commands {
		c := &commands[i]
		if err := ValidateName(c.name); err != nil {
			return nil, fmt.Errorf("command: %w", err)
		}
		if r.commands[c.name] != nil || r.commandsByGo[c.goType] != nil {
			return nil, fmt.Errorf("command %q (%v) registered twice", c.name, c.goType)
		}
		r.commands[c.name], r.commandsByGo[c.goType] = c, c
		r.commandOrder = append(r.commandOrder, c)
	}
	return r, nil
}

// encodeEvent returns the registration and the stored form of an event
// value produced by decide: the bytes encoding/json.Marshal makes of it,
// written into dst's spare capacity when they fit (dst[:0] is the start).
// ErrUnknownEvent for a value of an unregistered type, ErrInternal for
// one encoding/json cannot encode.
func (r *registry) encodeEvent(e any, dst []byte) (t *eventDef, data []byte, err error) {
	t = r.eventOf(reflect.TypeOf(e))
	if t == nil {
		return nil, nil, &Error{Kind: KindUnknownEvent, Op: "signal.Encode",
			Message: fmt.Sprintf("%s: event type %T is not registered", r.typeName, e)}
	}
	if t.plain != nil {
		return t, t.plain.appendJSON(dst[:0], reflect.ValueOf(e)), nil
	}
	data, err = json.Marshal(e)
	if err != nil {
		return nil, nil, &Error{Kind: KindInternal, Op: "signal.Encode", Message: "cannot encode event " + t.name, Err: err}
	}
	return t, data, nil
}

// scanUpTo is the number of registrations up to which a lookup by Go type
// compares each in turn: for the few commands or events of a usual type
// that is quicker than hashing the type for the map.
const scanUpTo = 8

// eventOf returns the registration of the event type t, or nil.
func (r *registry) eventOf(t reflect.Type) *eventDef {
	if len(r.eventOrder) > scanUpTo {
		return r.eventsByGo[t]
	}
	for _, d := range r.eventOrder {
		if d.goType == t {
			return d
		}
	}
	return nil
}

// commandOf returns the registration of the command type t, or nil.
func (r *registry) commandOf(t reflect.Type) *commandDef {
	if len(r.commandOrder) > scanUpTo {
		return r.commandsByGo[t]
	}
	for _, d := range r.commandOrder {
		if d.goType == t {
			return d
		}
	}
	return nil
}

// decodeEvent decodes a stored event, upcasting older schema versions.
func (r *registry) decodeEvent(raw *RawEvent) (any, error) {
	_, e, err := r.decodeEventDef(raw)
	return e, err
}

// decodeEventDef is decodeEvent that also returns the event's
// registration, whose evolve a load calls without looking it up again.
func (r *registry) decodeEventDef(raw *RawEvent) (*eventDef, any, error) {
	t := r.events[raw.Name]
	if t == nil {
		return nil, nil, &Error{Kind: KindUnknownEvent, Op: "signal.Decode",
			Message: fmt.Sprintf("%s: unknown event %q", r.typeName, raw.Name)}
	}
	data := raw.Data
	if raw.SchemaVersion != t.version {
		if raw.SchemaVersion < 1 || raw.SchemaVersion > t.version {
			return nil, nil, &Error{Kind: KindUnknownEvent, Op: "signal.Decode",
				Message: fmt.Sprintf("%s: event %q has schema version %d, this build knows 1 to %d", r.typeName, raw.Name, raw.SchemaVersion, t.version)}
		}
		for v := raw.SchemaVersion; v < t.version; v++ {
			up, err := upcast(t.upcasters[v], data)
			if err != nil {
				return nil, nil, &Error{Kind: KindInternal, Op: "signal.Upcast",
					Message: fmt.Sprintf("%s: cannot upcast event %q from version %d", r.typeName, raw.Name, v), Err: err}
			}
			data = up
		}
	}
	e, err := t.decode(data)
	if err != nil {
		return nil, nil, &Error{Kind: KindInternal, Op: "signal.Decode",
			Message: fmt.Sprintf("%s: cannot decode event %q", r.typeName, raw.Name), Err: err}
	}
	return t, e, nil
}

// upcast runs a user's upcaster, turning a panic (a nil map on a null
// payload, say) into an error, so one odd stored event cannot crash a load
// or the projector.
func upcast(fn Upcaster, data []byte) (out json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("upcaster panicked: %v", p)
		}
	}()
	return fn(data)
}

// decodeCommand decodes a command from its HTTP name and JSON body. An
// empty body is the command {}; any other body must be one JSON value
// that is strict (see strictProblem) and not null, else ErrInvalid.
// Strictness is checked by a validation pass over the body before
// encoding/json decodes it: cheap for command-sized bodies.
func (r *registry) decodeCommand(name string, body []byte) (any, error) {
	t := r.commands[name]
	if t == nil {
		return nil, &Error{Kind: KindUnknownCommand, Op: "signal.Decode",
			Message: fmt.Sprintf("%s has no command %q", r.typeName, truncate(name, maxEchoBytes))}
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	malformed := func(problem string, err error) error {
		return &Error{Kind: KindInvalid, Op: "signal.Decode",
			Message: fmt.Sprintf("malformed %s command: %s", name, problem), Err: err}
	}
	strict := jsontext.Value(body).IsValid()
	c, err := t.decode(body)
	switch {
	case err != nil:
		return nil, malformed(jsonProblem(err), err)
	case !strict:
		// encoding/json took it, but only by replacing text with U+FFFD
		// or dropping a repeated member: two different inputs would
		// become one command.
		return nil, malformed(strictProblem(body), nil)
	case jsontext.Value(body).Kind() == 'n':
		// encoding/json decodes null as the zero command, as if {} was
		// sent: a client bug, or a body lost on its way, must not run.
		return nil, malformed("must be a JSON object, not null", nil)
	}
	return c, nil
}

// maxEchoBytes bounds how much of a client's name an error message repeats.
const maxEchoBytes = 128

// strictProblem describes why body, which encoding/json decodes, is not
// strict JSON (RFC 7493, I-JSON): invalid UTF-8, an escape that is not a
// Unicode character (a lone surrogate), or an object member name given
// twice. It says where, and repeats at most maxEchoBytes of a name (the
// jsontext error is not kept: it would repeat the whole name).
func strictProblem(body []byte) string {
	_, err := jsontext.NewDecoder(bytes.NewReader(body)).ReadValue()
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) || se.Err == nil {
		return "invalid JSON"
	}
	switch msg := se.Err.Error(); {
	case errors.Is(se.Err, jsontext.ErrDuplicateName):
		return fmt.Sprintf("field %q is given more than once", truncate(se.JSONPointer.LastToken(), maxEchoBytes))
	case strings.Contains(msg, "UTF-8"):
		return fmt.Sprintf("invalid UTF-8 in a string after byte %d", se.ByteOffset)
	case strings.Contains(msg, "escape sequence") || strings.Contains(msg, "surrogate"):
		return fmt.Sprintf("a \\u escape after byte %d is a lone surrogate, not a character", se.ByteOffset)
	}
	return fmt.Sprintf("invalid JSON after byte %d", se.ByteOffset)
}

// command returns the registration of a command value, or ErrUnknownCommand.
func (r *registry) command(cmd any) (*commandDef, error) {
	t := r.commandOf(reflect.TypeOf(cmd))
	if t == nil {
		return nil, &Error{Kind: KindUnknownCommand, Op: "signal.Handle",
			Message: fmt.Sprintf("%s has no command of Go type %T", r.typeName, cmd)}
	}
	return t, nil
}

// jsonProblem describes a JSON decoding error without echoing the input.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("invalid JSON at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		if e.Field != "" {
			return fmt.Sprintf("field %q must be %s", e.Field, e.Type)
		}
		return "must be a JSON object"
	}
	return "invalid JSON"
}
