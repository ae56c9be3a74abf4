package signal

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// The types below exercise what encoding/json and the json v2 module
// treat differently by default: case-insensitive names, the `string` tag,
// embedded structs (exported, unexported, by pointer), byte slices and
// arrays, durations, nulls, methods, and structs v2 calls malformed.
type (
	codecInner struct {
		X int `json:"x"`
		Y string
	}
	codecEmbedded struct {
		E1 string `json:"e1"`
		E2 int
	}
	codecHidden  struct{ H string }
	codecText    struct{ S string }
	codecCustom  struct{ Raw string }
	codecPointed struct{ P int }

	codecAll struct {
		Name    string            `json:"name"`
		Count   int64             `json:"count"`
		Small   int8              `json:"small"`
		U       uint16            `json:"u,omitempty"`
		F       float64           `json:"f"`
		F32     float32           `json:"f32"`
		B       bool              `json:"b"`
		Quoted  int               `json:"quoted,string"`
		QStr    string            `json:"qstr,string"`
		QBool   bool              `json:",string"`
		QPtr    *int              `json:"qptr,string"`
		Ptr     *codecInner       `json:"ptr"`
		Inner   codecInner        `json:"inner"`
		List    []codecInner      `json:"list"`
		Arr     [2]int            `json:"arr"`
		Bytes   []byte            `json:"bytes"`
		ByteArr [4]byte           `json:"bytearr"`
		Map     map[string]int    `json:"map"`
		IntMap  map[int]string    `json:"intmap"`
		TextMap map[codecText]int `json:"textmap"`
		Any     any               `json:"any"`
		Raw     json.RawMessage   `json:"raw"`
		Num     json.Number       `json:"num"`
		Dur     time.Duration     `json:"dur"`
		When    time.Time         `json:"when"`
		WhenPtr *time.Time        `json:"whenptr"`
		Text    codecText         `json:"text"`
		Custom  codecCustom       `json:"custom"`
		CustomP *codecCustom      `json:"customp"`
		Skip    string            `json:"-"`
		//lint:ignore SA5008 the field named "-", a corner of encoding/json the decoder must follow
		Dash     string `json:"-,"`
		NoTag    string
		Under_Sc string
		Strs     []string `json:"strs"`
		codecEmbedded
		codecHidden `json:"hidden"`
		*codecPointed
		//lint:ignore U1000 an unexported field, which decoding must leave alone
		unexported int
	}

	// codecBadTag has a tag the json v2 module calls malformed.
	codecBadTag struct {
		//lint:ignore SA5008 an unknown option, which encoding/json ignores and json v2 refuses
		A string `json:"a,unknownopt"`
		B string `json:"b,string,omitempty"`
	}
	//lint:ignore U1000 a struct of unexported fields only, which json v2 refuses unless told v1's rules
	codecOnlyUnexported struct{ a, b int }
)

func (t codecText) MarshalText() ([]byte, error) { return []byte("t:" + t.S), nil }

func (t *codecText) UnmarshalText(b []byte) error {
	s, ok := strings.CutPrefix(string(b), "t:")
	if !ok {
		return errors.New("text without its prefix")
	}
	t.S = s
	return nil
}

func (c *codecCustom) UnmarshalJSON(b []byte) error {
	if string(b) == `"fail"` {
		return errors.New("custom refuses")
	}
	c.Raw = string(b)
	return nil
}

// codecCorpus is JSON that encoding/json decodes (or refuses) in the ways
// where a v2 decoder could differ. Each entry is decoded into every type
// of codecTargets.
var codecCorpus = []string{
	`{}`, `null`, ``, ` `, `{`, `[]`, `1`, `"x"`, `true`, `{} {}`, `{}x`, ` {} `,
	`{"name":"ann","count":5,"small":-3,"u":7,"f":1.5e3,"f32":0.1,"b":true}`,
	`{"NAME":"up","Count":1,"sMaLl":2,"NoTag":"n","notag":"m","NOTAG":"o"}`,
	`{"name":"a","name":"b","Name":"c"}`,
	`{"under_sc":"x","undersc":"y","Under-Sc":"z","Under_Sc":"w"}`,
	`{"inner":{"x":1},"inner":{"Y":"kept"}}`,
	`{"name":"\xff\xfe","strs":["ok","\xc3"]}`,
	`{"name":"\ud800","strs":["\udc00\ud800x"]}`,
	`{"name":"\u00e9\u0000\"\\\/\b\f\n\r\t"}`,
	`{"unknown":1,"also":{"deep":[1,2,{"x":null}]},"name":"k"}`,
	`{"name":null,"count":null,"ptr":null,"list":null,"map":null,"any":null,"raw":null,"bytes":null,"when":null,"text":null,"custom":null,"customp":null}`,
	`{"ptr":{"x":3,"Y":"y"},"list":[{"x":1},{"Y":"2"}],"arr":[1,2,3],"map":{"a":1,"b":2},"intmap":{"1":"one","-2":"m"}}`,
	`{"arr":[1]}`, `{"arr":[]}`, `{"intmap":{"x":"y"}}`,
	`{"quoted":"12","qstr":"\"inner\"","QBool":"true","qptr":"5"}`,
	`{"quoted":12}`, `{"quoted":"x"}`, `{"qstr":"plain"}`, `{"QBool":true}`, `{"quoted":"null"}`, `{"qptr":null}`,
	`{"bytes":"aGVsbG8=","bytearr":[1,2,3,4]}`, `{"bytes":"aGVsbG8"}`, `{"bytes":"aGVs\nbG8="}`, `{"bytes":"!!"}`,
	`{"bytes":[1,2]}`, `{"bytearr":"AQID"}`, `{"bytearr":[1,2,3,4,5]}`,
	`{"any":{"a":[1,"x",true,null,1.5]},"raw":{"k": [1, 2]},"num":12.50}`,
	`{"num":"12"}`, `{"num":"x"}`, `{"any":12345678901234567890}`,
	`{"dur":1000000000}`, `{"dur":"1s"}`, `{"dur":1.5}`,
	`{"when":"2024-01-02T03:04:05Z","whenptr":"2024-01-02T03:04:05.123+02:00"}`,
	`{"when":"2024-01-02 03:04:05Z"}`, `{"when":"2024-01-02T03:04:05"}`, `{"when":"2024-01-02T24:00:00Z"}`, `{"when":1}`,
	`{"text":"t:hi","textmap":{"t:k":1}}`, `{"text":"no"}`, `{"text":1}`, `{"textmap":{"bad":1}}`,
	`{"custom":[1, 2],"customp":{"a":1}}`, `{"custom":"fail"}`,
	`{"Skip":"s","-":"dash","e1":"emb","E2":3,"hidden":{"H":"h"},"H":"top","P":4}`,
	`{"E1":"upper","e2":5}`, `{"P":null}`, `{"unexported":1}`,
	`{"count":1.0}`, `{"count":1e2}`, `{"count":"1"}`, `{"count":9223372036854775808}`, `{"small":200}`, `{"u":-1}`,
	`{"count":01}`, `{"count":-}`, `{"f":1e400}`, `{"b":"true"}`, `{"name":1}`, `{"list":{}}`, `{"map":[]}`,
	`{"same":"s","C":1,"a":"x","b":"y"}`, `{"a":"x","b":"\"q\""}`, `{"b":"plain"}`,
	`{"amount":5}`, `{"amt":5}`, `[1]`, `{"amount":"x"}`, `{"owner":"\u00e9"}`, "\xff", `{"By":1}`,
	`{"name":"a",}`, `{"name":"a"`, `{"name" "a"}`, `{'name':'a'}`, `{"name":"a"}]`, `[{"x":1}]`,
}

// codecTargets returns a pointer to a new zero value of each type decoded
// in the equivalence tests.
func codecTargets() []any {
	return []any{
		new(codecAll), new(*codecAll), new(codecInner), new(codecBadTag),
		new(codecOnlyUnexported), new(map[string]any), new(any), new([]codecInner), new(int64),
		new(string), new(struct{}), new(json.RawMessage), new(time.Time),
	}
}

// decodeWithEncodingJSON is what encoding/json makes of data from a zero
// value of target's element type.
func decodeWithEncodingJSON(data []byte, target any) (any, error) {
	p := reflect.New(reflect.TypeOf(target).Elem())
	err := json.Unmarshal(data, p.Interface())
	return p.Elem().Interface(), err
}

// decodeWithRegistration is what an event registration of target's
// element type makes of data.
func decodeWithRegistration(data []byte, target any) (any, error) {
	return decoderFor(reflect.TypeOf(target).Elem())(data)
}

var codecDecoders = map[reflect.Type]func([]byte) (any, error){}

func decoderFor(t reflect.Type) func([]byte) (any, error) {
	if d := codecDecoders[t]; d != nil {
		return d
	}
	var d func([]byte) (any, error)
	switch reflect.Zero(t).Interface().(type) {
	case codecAll:
		d = newValueDecoder[codecAll]()
	case *codecAll:
		d = newValueDecoder[*codecAll]()
	case codecInner:
		d = newValueDecoder[codecInner]()
	case codecBadTag:
		d = newValueDecoder[codecBadTag]()
	case codecOnlyUnexported:
		d = newValueDecoder[codecOnlyUnexported]()
	case map[string]any:
		d = newValueDecoder[map[string]any]()
	case []codecInner:
		d = newValueDecoder[[]codecInner]()
	case int64:
		d = newValueDecoder[int64]()
	case string:
		d = newValueDecoder[string]()
	case struct{}:
		d = newValueDecoder[struct{}]()
	case json.RawMessage:
		d = newValueDecoder[json.RawMessage]()
	case time.Time:
		d = newValueDecoder[time.Time]()
	case nil: // the interface type any
		d = newValueDecoder[any]()
	default:
		panic(fmt.Sprintf("no decoder for %v", t))
	}
	codecDecoders[t] = d
	return d
}

// checkSameAsEncodingJSON fails t unless an event registration decodes
// data into target's element type exactly as encoding/json does: the
// same value, or the same error.
func checkSameAsEncodingJSON(t *testing.T, data []byte, target any) {
	t.Helper()
	want, wantErr := decodeWithEncodingJSON(data, target)
	got, gotErr := decodeWithRegistration(data, target)
	if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
		t.Fatalf("%T from %q: error %v, encoding/json's %v", target, data, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%T from %q:\n got %#v\nwant %#v", target, data, got, want)
	}
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, data := range codecCorpus {
		for _, target := range codecTargets() {
			checkSameAsEncodingJSON(t, []byte(data), target)
		}
	}
}

// TestDecodeConflictingNamesMatchesEncodingJSON: a struct with two
// fields of one JSON name (built with reflect, as go vet refuses the
// literal), which encoding/json drops and the json v2 module refuses
// unless told v1's rules, decodes as encoding/json decodes it.
func TestDecodeConflictingNamesMatchesEncodingJSON(t *testing.T) {
	str := reflect.TypeFor[string]()
	typ := reflect.StructOf([]reflect.StructField{
		{Name: "A", Type: str, Tag: `json:"same"`},
		{Name: "B", Type: str, Tag: `json:"same"`},
		{Name: "C", Type: reflect.TypeFor[int]()},
	})
	for _, data := range append([]string{`{"same":"s","A":"a","B":"b","C":1}`}, codecCorpus...) {
		want, got := reflect.New(typ), reflect.New(typ)
		wantErr := json.Unmarshal([]byte(data), want.Interface())
		gotErr := unmarshalV1([]byte(data), got.Interface(), func() { got.Elem().SetZero() })
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
			t.Fatalf("%q: error %v, encoding/json's %v", data, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got.Interface(), want.Interface()) {
			t.Fatalf("%q:\n got %#v\nwant %#v", data, got.Elem(), want.Elem())
		}
	}
}

// TestDecodeStoredEventCorpusMatchesEncodingJSON: the payloads of
// FuzzDecodeStoredEvent's corpus (testdata/fuzz) decode as encoding/json
// decodes them.
func TestDecodeStoredEventCorpusMatchesEncodingJSON(t *testing.T) {
	payloads := fuzzCorpusBytes(t, "FuzzDecodeStoredEvent")
	if len(payloads) == 0 {
		t.Fatal("no payloads in testdata/fuzz/FuzzDecodeStoredEvent")
	}
	for _, data := range payloads {
		for _, target := range codecTargets() {
			checkSameAsEncodingJSON(t, data, target)
		}
	}
}

// fuzzCorpusBytes returns the []byte arguments of the files in
// testdata/fuzz/<target>.
func fuzzCorpusBytes(t *testing.T, target string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			arg, ok := strings.CutPrefix(sc.Text(), "[]byte(")
			if !ok {
				continue
			}
			s, err := strconv.Unquote(strings.TrimSuffix(arg, ")"))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, []byte(s))
		}
		f.Close()
	}
	return out
}

func FuzzDecodeMatchesEncodingJSON(f *testing.F) {
	for _, data := range codecCorpus {
		f.Add([]byte(data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, target := range codecTargets() {
			checkSameAsEncodingJSON(t, data, target)
		}
	})
}

// TestDecodeFastPathTakesValidPayloads: a well-formed payload of a plain
// type decodes without the encoding/json fallback (which would make
// rehydrating as slow as before), and a malformed one falls back to
// encoding/json, whose error type callers have always seen.
func TestDecodeFastPathTakesValidPayloads(t *testing.T) {
	for _, data := range []string{`{"x":1,"Y":"y"}`, `{"X":1,"y":"y","z":[1]}`, `{"x":1,"x":2}`, "{\"Y\":\"\xff\"}"} {
		var v codecInner
		if err := jsonv2.Unmarshal([]byte(data), &v, fastV1JSON); err != nil {
			t.Errorf("%q takes the fallback: %v", data, err)
		}
	}
	_, err := newValueDecoder[codecInner]()([]byte(`{"x":`))
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) {
		t.Errorf("error %T %v, want encoding/json's *json.SyntaxError", err, err)
	}
	_, err = newValueDecoder[codecInner]()([]byte(`{"x":"1"}`))
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) || typeErr.Field != "x" {
		t.Errorf("error %T %v, want encoding/json's *json.UnmarshalTypeError on x", err, err)
	}
}

// TestDecodeReusesNothing: a decode starts from a zero value whatever
// the one before it decoded (the scratch value is pooled).
func TestDecodeReusesNothing(t *testing.T) {
	d := newValueDecoder[codecAll]()
	first, err := d([]byte(`{"name":"a","map":{"k":1},"list":[{"x":1}],"ptr":{"x":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d([]byte(`{"count":"not a number"}`)); err == nil {
		t.Fatal("a bad count decoded")
	}
	second, err := d([]byte(`{"count":3}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := (codecAll{Count: 3}); !reflect.DeepEqual(second, want) {
		t.Errorf("second decode %#v, want %#v", second, want)
	}
	if a := first.(codecAll); a.Name != "a" || a.Map["k"] != 1 || a.List[0].X != 1 || a.Ptr.X != 2 {
		t.Errorf("first value changed by later decodes: %#v", a)
	}
}

// codecState is a state whose initial value is not zero, so a snapshot
// decode merges into it as encoding/json does.
type codecState struct {
	Owner string         `json:"owner"`
	Tags  map[string]int `json:"tags"`
	Items []string       `json:"items"`
	Inner *codecInner    `json:"inner"`
}

func codecInitial(id string) codecState {
	return codecState{Owner: id, Tags: map[string]int{"a": 1}, Items: []string{"i0", "i1"}, Inner: &codecInner{X: 7}}
}

// TestSnapshotStateDecodeMatchesEncodingJSON: a snapshot's state decodes
// into the initial state as encoding/json.Unmarshal decodes it there.
func TestSnapshotStateDecodeMatchesEncodingJSON(t *testing.T) {
	typ := MustDefine(Spec[codecState]{
		Name:     "codecstate",
		Initial:  codecInitial,
		Commands: []CommandSpec[codecState]{Decide("Noop", func(codecState, struct{}) ([]any, error) { return nil, nil })},
		Events:   []EventSpec[codecState]{Evolve("Nothing", func(s codecState, _ struct{}) codecState { return s })},
	})
	corpus := append([]string{
		`{"owner":null,"tags":null}`, `{"tags":{"b":2}}`, `{"items":["x"]}`, `{"items":[]}`, `{"inner":{"Y":"y"}}`,
		`{"inner":null}`, `{"OWNER":"up","Tags":{"a":null}}`, `{"tags":{"b":"x"}}`, `{"owner":"x","tags":{"c":3},"items":`,
	}, codecCorpus...)
	for _, data := range corpus {
		want := codecInitial("id-1")
		wantErr := json.Unmarshal([]byte(data), &want)
		h := &holder[codecState]{t: typ, id: "id-1", s: codecState{Owner: "before"}}
		gotErr := h.decode([]byte(data))
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
			t.Fatalf("%q: error %v, encoding/json's %v", data, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(h.s, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", data, h.s, want)
		}
		if wantErr != nil && h.s.Owner != "before" {
			t.Fatalf("%q: a failed decode changed the state to %#v", data, h.s)
		}
	}
}
