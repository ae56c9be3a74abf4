package signal

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

type plainInner struct {
	On   bool   `json:"on"`
	Note string `json:"note,omitempty"`
}

type plainCents int64

type plainAll struct {
	S       string     `json:"s"`
	SO      string     `json:"so,omitempty"`
	B       bool       `json:"b"`
	BO      bool       `json:"bo,omitempty"`
	I       int        `json:"i"`
	I8      int8       `json:"i8"`
	I16     int16      `json:"i16,omitempty"`
	I32     int32      `json:"i32"`
	I64     int64      `json:"i64,omitempty"`
	U       uint       `json:"u"`
	U8      uint8      `json:"u8"`
	U16     uint16     `json:"u16"`
	U32     uint32     `json:"u32,omitempty"`
	U64     uint64     `json:"u64"`
	UP      uintptr    `json:"up"`
	Cents   plainCents `json:"cents"`
	Inner   plainInner `json:"inner,omitempty"` // never omitted
	NoTag   string
	Empty   string `json:""`
	OnlyOpt int    `json:",omitempty"`
	Dash    string `json:"-"`
	Ünïcode string `json:"ünï_c-0de"`
	hidden  string //nolint:unused // an unexported field is not written
}

type plainEmpty struct{}

// plainCorpus holds values of plain structs with the strings encoding/json
// escapes: HTML characters, control characters, U+2028/9, invalid UTF-8.
func plainCorpus() []any {
	strs := []string{"", "a", `"quoted" \back\slash/`, "<script>&amp;</script>", "\b\f\n\r\t\x00\x01\x1f\x7f",
		"\u2028\u2029", "héllo wörld ☃ 𝄞", "\xff", "a\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\xe2\x80", strings.Repeat("x", 300)}
	out := []any{plainEmpty{}, plainInner{}, plainAll{}}
	for i, s := range strs {
		out = append(out, plainAll{S: s, SO: s, B: i%2 == 0, BO: i%3 == 0, I: -i, I8: math.MinInt8, I16: int16(i), I32: math.MaxInt32,
			I64: math.MinInt64, U: uint(i), U8: math.MaxUint8, U16: math.MaxUint16, U32: uint32(i), U64: math.MaxUint64,
			UP: uintptr(i), Cents: plainCents(-i * 100), Inner: plainInner{On: true, Note: s}, NoTag: s, Empty: s,
			OnlyOpt: i, Dash: s, Ünïcode: s, hidden: s})
	}
	return out
}

// TestPlainJSONMatchesEncodingJSON: on the corpus, a plain struct's plan
// writes what encoding/json.Marshal writes, byte for byte.
func TestPlainJSONMatchesEncodingJSON(t *testing.T) {
	for _, v := range plainCorpus() {
		p := plainStructOf(reflect.TypeOf(v))
		if p == nil {
			t.Fatalf("%T: no plan", v)
		}
		assertPlainJSON(t, p, v)
	}
}

func assertPlainJSON(t *testing.T, p *plainStruct, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.appendJSON(nil, reflect.ValueOf(v)); !bytes.Equal(got, want) {
		t.Fatalf("%T %+q:\n got %s\nwant %s", v, v, got, want)
	}
}

type (
	withMarshaler struct{ T time.Time }
	withNumber    struct{ N json.Number }
	withFloat     struct{ F float64 }
	withSlice     struct{ S []string }
	withMap       struct{ M map[string]int }
	withPointer   struct{ P *int }
	withAny       struct{ A any }
	withEmbedded  struct{ plainInner }
	withStringOpt struct {
		N int `json:"n,string"`
	}
	withOmitZero struct {
		N int `json:"n,omitzero"`
	}
	withOddTag struct {
		N int `json:"a<b"`
	}
	withTwice struct {
		A int `json:"X"`
		X int
	}
	selfMarshaler struct{ N int }
	textValue     struct{ N int }
	withText      struct{ T textValue }
)

func (selfMarshaler) MarshalJSON() ([]byte, error) { return []byte(`"self"`), nil }
func (*textValue) MarshalText() ([]byte, error)    { return []byte("text"), nil }

// TestPlainJSONLeavesOtherTypes: every type outside the plain rules is
// left to encoding/json.
func TestPlainJSONLeavesOtherTypes(t *testing.T) {
	for _, v := range []any{0, "s", &plainInner{}, withMarshaler{}, withNumber{}, withFloat{}, withSlice{}, withMap{},
		withPointer{}, withAny{}, withEmbedded{}, withStringOpt{}, withOmitZero{}, withOddTag{}, withTwice{},
		selfMarshaler{}, withText{}} {
		if p := plainStructOf(reflect.TypeOf(v)); p != nil {
			t.Errorf("%T has a plan; encoding/json must encode it", v)
		}
	}
}

// FuzzPlainJSON: for any strings and numbers, the plan writes what
// encoding/json.Marshal writes.
func FuzzPlainJSON(f *testing.F) {
	for _, s := range []string{"", "<&>", "\u2028", "\xff\xfe", "\x00\n\"\\", "日本"} {
		f.Add(s, int64(-1), uint64(1), true)
	}
	p := plainStructOf(reflect.TypeFor[plainAll]())
	f.Fuzz(func(t *testing.T, s string, i int64, u uint64, b bool) {
		assertPlainJSON(t, p, plainAll{S: s, SO: s, B: b, BO: b, I: int(i), I8: int8(i), I16: int16(i), I32: int32(i), I64: i,
			U: uint(u), U8: uint8(u), U16: uint16(u), U32: uint32(u), U64: u, UP: uintptr(u), Cents: plainCents(i),
			Inner: plainInner{On: b, Note: s}, NoTag: s, Empty: s, OnlyOpt: int(i), Ünïcode: s})
	})
}

// TestOneEventCommitSize: the room for a small payload costs nothing, as
// long as the whole stays in the 320-byte size class.
func TestOneEventCommitSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) == 8 && unsafe.Sizeof(oneEventCommit{}) > 320 {
		t.Fatalf("oneEventCommit takes %d bytes, more than its 320-byte size class", unsafe.Sizeof(oneEventCommit{}))
	}
}
