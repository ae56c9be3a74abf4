package signal

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A plainStruct writes the JSON encoding/json.Marshal writes for values
// of one plain struct type: a struct whose fields are all bools, integers,
// strings or plain structs, with no method of json.Marshaler or
// encoding.TextMarshaler on it or its fields' types, no embedded field,
// and json tags of a plain name and at most omitempty. Those are the
// rules of encoding/json this encoder follows to the byte (checked by
// TestPlainJSONMatchesEncodingJSON and FuzzPlainJSON); any other type is
// left to encoding/json itself (plainStructOf returns nil). It exists
// because a command's one small event spent a sixth of its time in
// json.Marshal, which looks the type's encoder up in a sync.Map and
// copies its output; it also writes into a buffer the caller gives.
type plainStruct struct {
	fields []plainField
}

// plainField is one encoded field: its index, `"name":` as encoding/json
// writes it, its kind, omitempty, and the plan of a struct field.
type plainField struct {
	index     int
	name      string
	kind      reflect.Kind
	omitEmpty bool
	sub       *plainStruct
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	jsonNumberType    = reflect.TypeFor[json.Number]() // written as the number it holds
)

// plainStructOf returns the plan of t, or nil when t is not a plain
// struct (see plainStruct) and must be encoded by encoding/json.
func plainStructOf(t reflect.Type) *plainStruct {
	if t.Kind() != reflect.Struct || hasMarshalMethod(t) {
		return nil
	}
	p := &plainStruct{}
	seen := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil // embedding: encoding/json's promotion rules
		}
		tag, tagged := sf.Tag.Lookup("json")
		if !sf.IsExported() || tag == "-" {
			continue
		}
		f, ok := plainFieldOf(sf, tag, tagged)
		if !ok || seen[f.name] {
			return nil // an unusual tag or field; a repeated name
		}
		seen[f.name] = true
		p.fields = append(p.fields, f)
	}
	return p
}

// plainFieldOf returns the plan of field sf with json tag tag, and false
// when the field's type or tag is not plain.
func plainFieldOf(sf reflect.StructField, tag string, tagged bool) (plainField, bool) {
	f := plainField{index: sf.Index[0], kind: sf.Type.Kind()}
	switch {
	case hasMarshalMethod(sf.Type) || sf.Type == jsonNumberType:
		return f, false
	case f.kind == reflect.Struct:
		if f.sub = plainStructOf(sf.Type); f.sub == nil {
			return f, false
		}
	case f.kind != reflect.Bool && f.kind != reflect.String && !isIntKind(f.kind) && !isUintKind(f.kind):
		return f, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	switch opts {
	case "":
	case "omitempty":
		f.omitEmpty = f.kind != reflect.Struct // encoding/json never omits a struct
	default:
		return f, false
	}
	if !tagged || name == "" {
		name = sf.Name
	}
	if !isPlainName(name) {
		return f, false
	}
	f.name = `"` + name + `":`
	return f, true
}

// hasMarshalMethod reports whether t or *t has a method encoding/json
// would call instead of encoding the fields.
func hasMarshalMethod(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) ||
		pt.Implements(jsonMarshalerType) || pt.Implements(textMarshalerType)
}

func isIntKind(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Int64 }

func isUintKind(k reflect.Kind) bool { return k >= reflect.Uint && k <= reflect.Uintptr }

// isPlainName reports whether name is made of letters, digits, '_' and
// '-' only: a name encoding/json accepts as a tag and writes as it is,
// with nothing to escape.
func isPlainName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

// appendJSON appends the encoding of v, a value of the plan's type, to
// dst, as encoding/json.Marshal writes it.
func (p *plainStruct) appendJSON(dst []byte, v reflect.Value) []byte {
	next := byte('{')
	for i := range p.fields {
		f := &p.fields[i]
		fv := v.Field(f.index)
		if f.omitEmpty && fv.IsZero() {
			continue
		}
		dst = append(dst, next)
		next = ','
		dst = append(dst, f.name...)
		dst = f.appendValue(dst, fv)
	}
	if next == '{' {
		return append(dst, "{}"...)
	}
	return append(dst, '}')
}

func (f *plainField) appendValue(dst []byte, fv reflect.Value) []byte {
	switch {
	case f.sub != nil:
		return f.sub.appendJSON(dst, fv)
	case f.kind == reflect.Bool:
		return strconv.AppendBool(dst, fv.Bool())
	case f.kind == reflect.String:
		return appendJSONString(dst, fv.String())
	case isIntKind(f.kind):
		return strconv.AppendInt(dst, fv.Int(), 10)
	}
	return strconv.AppendUint(dst, fv.Uint(), 10)
}

// appendJSONString appends s quoted as encoding/json writes a string:
// ", \ and the control characters escaped (\b \f \n \r \t by name), <, >
// and & as \u003c \u003e \u0026, U+2028 and U+2029 as \u2028 \u2029,
// and each byte of invalid UTF-8 as \ufffd.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
