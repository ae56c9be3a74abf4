package httpapi

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// The body of GET /app: what a generic client (the console) needs to
// drive any app, derived from the registered Go types once per Handler.

type appBody struct {
	Name  string     `json:"name"`
	Types []typeBody `json:"types"`
	Views []string   `json:"views"`
}

type typeBody struct {
	Name     string        `json:"name"`
	Commands []commandInfo `json:"commands"`
	Events   []eventInfo   `json:"events"`
}

type commandInfo struct {
	Name     string      `json:"name"`
	Genesis  bool        `json:"genesis"`
	Internal bool        `json:"internal"`
	Fields   []fieldInfo `json:"fields"`
}

type eventInfo struct {
	Name          string `json:"name"`
	SchemaVersion int    `json:"schemaVersion"`
	Terminal      bool   `json:"terminal"`
}

// fieldInfo is one JSON member of a command body.
type fieldInfo struct {
	Name string `json:"name"`
	// Type is the JSON type: string, integer, number, boolean, array,
	// object or any.
	Type string `json:"type"`
	// Items is the JSON type of an array's elements.
	Items string `json:"items,omitempty"`
	// Required is false for omitempty/omitzero members and pointers: a
	// hint for forms, not a check (a missing member decodes as zero).
	Required bool `json:"required"`
}

// describeApp builds the body of GET /app from the Service's types.
// views nil means the names of the Service's projections.
func describeApp(name string, svc *signal.Service, views []string) appBody {
	b := appBody{Name: name, Types: []typeBody{}, Views: views}
	if b.Views == nil {
		b.Views = projectionNames(svc.Subscribers())
	}
	for _, t := range svc.AggregateTypes() {
		tb := typeBody{Name: t.Name(), Commands: []commandInfo{}, Events: []eventInfo{}}
		for _, c := range t.Commands() {
			tb.Commands = append(tb.Commands, commandInfo{Name: c.Name, Genesis: c.Genesis, Internal: c.Internal, Fields: jsonFields(c.GoType)})
		}
		for _, e := range t.Events() {
			tb.Events = append(tb.Events, eventInfo{Name: e.Name, SchemaVersion: e.SchemaVersion, Terminal: e.Terminal})
		}
		b.Types = append(b.Types, tb)
	}
	return b
}

// ProjectionNames returns the names of the projections among subs, in
// order: the view names GET /app lists by default, since a projection
// conventionally writes the view of its own name. Policies and observers
// are left out; an empty result is an empty, non-nil slice.
func ProjectionNames(subs []signal.Subscriber) []string { return projectionNames(subs) }

func projectionNames(subs []signal.Subscriber) []string {
	out := []string{}
	for _, s := range subs {
		if p, ok := s.(*signal.Projection); ok {
			out = append(out, p.Name)
		}
	}
	return out
}

// jsonFields lists the JSON members encoding/json decodes into a value
// of t, in field order, embedded structs' members promoted as
// encoding/json promotes them (a name seen at a shallower depth wins). A
// type that is not a struct has no fields.
func jsonFields(t reflect.Type) []fieldInfo {
	out := []fieldInfo{}
	seen := map[string]bool{}
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || depth > 8 {
			return
		}
		var embedded []reflect.Type
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			ft := f.Type
			if f.Anonymous && name == "" {
				if indirect(ft).Kind() == reflect.Struct {
					embedded = append(embedded, ft)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			fi := fieldInfo{Name: name, Type: jsonType(ft), Required: ft.Kind() != reflect.Pointer}
			for o := range strings.SplitSeq(opts, ",") {
				switch o {
				case "omitempty", "omitzero":
					fi.Required = false
				case "string":
					fi.Type = "string"
				}
			}
			if fi.Type == "array" {
				fi.Items = jsonType(indirect(ft).Elem())
			}
			out = append(out, fi)
		}
		for _, e := range embedded {
			walk(e, depth+1)
		}
	}
	walk(t, 0)
	return out
}

func indirect(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// jsonType names the JSON type encoding/json uses for t: a type with its
// own MarshalJSON is "any" (time.Time: "string"), one with MarshalText
// "string", []byte "string" (base64).
func jsonType(t reflect.Type) string {
	t = indirect(t)
	pt := reflect.PointerTo(t)
	switch {
	case t == timeType:
		return "string"
	case t.Implements(jsonMarshalerType) || pt.Implements(jsonMarshalerType):
		return "any"
	case t.Implements(textMarshalerType) || pt.Implements(textMarshalerType):
		return "string"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(jsonMarshalerType) {
			return "string"
		}
		return "array"
	case reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "any"
}
