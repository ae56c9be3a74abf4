package signal

import (
	"encoding/json"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Stored payloads (events, snapshot states) were written by encoding/json
// and are read back as encoding/json reads them, only faster: by the json
// v2 module under its v1 options (case-insensitive field names, repeated
// names, invalid UTF-8 replaced by U+FFFD, v1's null and merge rules,
// embedded structs, the `string` tag, time.Duration in nanoseconds...),
// which is how Go implements encoding/json itself when built with
// GOEXPERIMENT=jsonv2. Writing stays with encoding/json, so the stored
// bytes do not change.
//
// One v1 option is left out: ReportErrorsWithLegacySemantics, which
// validates the whole input before decoding it (a second pass, a fifth of
// a small event's decoding) and shapes errors as v1's. Without it a
// decode can only fail earlier, never succeed differently: every place
// the option changes is an error path. So a payload that decodes without
// it decodes to the value encoding/json gives, and one that does not is
// decoded again by encoding/json itself, whose value or error is the
// answer (the same error as before the json v2 module was used).
var fastV1JSON = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsonv1.ReportErrorsWithLegacySemantics(false))

// unmarshalV1 decodes data into *v as encoding/json.Unmarshal does: the
// same value, or encoding/json's error. reset puts *v back as it was
// before the call (a first, failed, decode may have changed part of it).
func unmarshalV1(data []byte, v any, reset func()) error {
	if jsonv2.Unmarshal(data, v, fastV1JSON) == nil {
		return nil
	}
	reset()
	return json.Unmarshal(data, v)
}

// valueDecoder decodes JSON into values of E, boxed in an interface. It
// decodes into a pooled E and boxes a copy, so a decode allocates the
// box and what E's fields need (strings, slices), not an E on top.
type valueDecoder[E any] struct {
	scratch sync.Pool // of *E, zero between uses
}

// newValueDecoder returns the decode function of a registration of E:
// it returns the E that encoding/json.Unmarshal makes of data from a
// zero E, or encoding/json's error.
func newValueDecoder[E any]() func([]byte) (any, error) {
	d := &valueDecoder[E]{}
	d.scratch.New = func() any { return new(E) }
	return d.decode
}

func (d *valueDecoder[E]) decode(data []byte) (any, error) {
	p := d.scratch.Get().(*E)
	var zero E
	err := unmarshalV1(data, p, func() { *p = zero })
	v := any(*p)
	// Zeroed before reuse, so the next decode starts from a zero E (v1
	// merges into what is there) and the pool keeps nothing alive.
	*p = zero
	d.scratch.Put(p)
	if err != nil {
		return nil, err
	}
	return v, nil
}
