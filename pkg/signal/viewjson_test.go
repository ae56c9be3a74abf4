package signal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// A corpus of the Go values and JSON documents where encoding/json has
// rules of its own: ViewTx encodes and decodes view documents through
// the json v2 module's implementation of encoding/json, and must give
// exactly its bytes and values.

type inner struct {
	Note string `json:"note,omitempty"`
}

type valueMarshaler struct{ n int }

func (m valueMarshaler) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, ` { "n" : %d } `, m.n), nil
}

type pointerMarshaler struct{ n int }

func (m *pointerMarshaler) MarshalJSON() ([]byte, error) { return fmt.Appendf(nil, `"p%d"`, m.n), nil }

type textKey struct{ a, b string }

func (k textKey) MarshalText() ([]byte, error) { return []byte(k.a + "-" + k.b), nil }

type corpusDoc struct {
	inner
	Name     string            `json:"name"`
	HTML     string            `json:"html"`
	Count    int64             `json:"count,string"`
	Floats   []float64         `json:"floats"`
	Nil      []string          `json:"nil"`
	NilMap   map[string]int    `json:"nilMap"`
	Map      map[string]int    `json:"map"`
	IntKeys  map[int]string    `json:"intKeys"`
	TextKeys map[textKey]bool  `json:"textKeys"`
	Bytes    []byte            `json:"bytes"`
	When     time.Time         `json:"when"`
	Took     time.Duration     `json:"took"`
	Any      any               `json:"any"`
	Raw      json.RawMessage   `json:"raw"`
	Ptr      *int              `json:"ptr"`
	Omit     string            `json:"omit,omitempty"`
	Value    valueMarshaler    `json:"value"`
	Pointer  pointerMarshaler  `json:"pointer"`
	PtrTo    *pointerMarshaler `json:"ptrTo"`
	Array    [2]int            `json:"array"`
	hidden   int
	Untagged bool
}

func encodeCorpus() []any {
	seven := 7
	full := corpusDoc{
		inner: inner{Note: "n"}, Name: "caf\xe9 \u2028", HTML: "<a href='x'>&</a>", Count: 42,
		Floats: []float64{0.1, 1e21, 1e-7, math.Copysign(0, -1), 123456789, 3}, Map: map[string]int{"b": 2, "a": 1},
		IntKeys: map[int]string{10: "x", 2: "y"}, TextKeys: map[textKey]bool{{"z", "y"}: true, {"a", "b"}: false},
		Bytes: []byte("bytes\x00"), When: time.Date(2026, 12, 4, 1, 2, 3, 4500, time.FixedZone("x", 3600)),
		Took: 1500 * time.Millisecond, Any: map[string]any{"k": []any{1, "two", nil, 3.5}}, Raw: json.RawMessage(` {"r" : [1, 2]} `),
		Ptr: &seven, Value: valueMarshaler{3}, Pointer: pointerMarshaler{4}, PtrTo: &pointerMarshaler{5}, Array: [2]int{1, 2},
		hidden: 9, Untagged: true,
	}
	return []any{
		full, &full, corpusDoc{}, map[string]any{"z": 1, "a": []int(nil), "m": map[string]any{}},
		[]any{"<>&", math.MaxInt64, uint8(200), float32(0.1)}, "plain", 12.5, nil, []byte(nil), [0]int{},
	}
}

// TestViewPutEncodesAsEncodingJSON: the document a projection puts is
// stored byte for byte as encoding/json.Marshal encodes it, and what it
// refuses is refused.
func TestViewPutEncodesAsEncodingJSON(t *testing.T) {
	corpus := encodeCorpus()
	refused := []any{math.NaN(), math.Inf(1), make(chan int), func() {}, map[bool]int{true: 1}}
	var problems []string
	proj := &signal.Projection{Name: "corpus", Types: []string{"account"}, On: []signal.ProjectionHandler{
		signal.ProjectAll(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event) error {
			for i, v := range corpus {
				if err := tx.Put(ctx, "corpus", fmt.Sprint("k", i), v); err != nil {
					problems = append(problems, fmt.Sprintf("put %d: %v", i, err))
				}
			}
			for _, v := range refused {
				if tx.Put(ctx, "corpus", "refused", v) == nil {
					problems = append(problems, fmt.Sprintf("put %T: accepted", v))
				}
			}
			return nil
		}),
	}}
	svc, commits := corpusService(t, proj)
	if err := svc.Dispatch(t.Context(), commits); err != nil {
		t.Fatal(err)
	}
	for i, v := range corpus {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.View(t.Context(), "corpus", fmt.Sprint("k", i))
		if err != nil || string(got.Data) != string(want) {
			problems = append(problems, fmt.Sprintf("doc %d (%T):\n got %s %v\nwant %s", i, v, got.Data, err, want))
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// decodeCases are documents, each decoded into a fresh value or into one
// already holding data (v1 merges into it).
var decodeCases = []struct {
	doc  string
	into func() any
}{
	{`{"NAME":"upper","Count":"5","untagged":true,"note":"promoted"}`, func() any { return &corpusDoc{} }},
	{`{"name":"a","name":"b","unknown":{"x":[1,2]}}`, func() any { return &corpusDoc{} }},
	{`{"name":null,"map":null,"floats":null,"ptr":null}`, func() any {
		one := 1
		return &corpusDoc{Name: "kept", Map: map[string]int{"k": 1}, Floats: []float64{1}, Ptr: &one}
	}},
	{`{"map":{"b":2},"array":[9],"bytes":"AAE="}`, func() any { return &corpusDoc{Map: map[string]int{"a": 1}, Array: [2]int{1, 2}} }},
	{`{"name":"bad \xff utf8 \ud800"}`, func() any { return &corpusDoc{} }},
	{`{"any":{"n":1.5e3,"l":[true,null,"s"]},"took":1000}`, func() any { return &corpusDoc{} }},
	{`{"when":"2026-12-04T01:02:03.0000045+01:00","intKeys":{"3":"c"}}`, func() any { return &corpusDoc{} }},
	{`{"count":5}`, func() any { return &corpusDoc{} }},
	{`{"name":5}`, func() any { return &corpusDoc{} }},
	{`[1,2,3]`, func() any { return &[]int{7, 7, 7, 7} }},
	{`{"a":1}`, func() any { return &map[string]any{"b": 2} }},
	{`12345678901234567890`, func() any { var v any; return &v }},
	{`{"a" : 1 , "b" : [ ] }`, func() any { var v map[string]json.RawMessage; return &v }},
}

// TestViewGetDecodesAsEncodingJSON: what a projection gets from a stored
// document is what encoding/json.Unmarshal makes of it, errors included.
func TestViewGetDecodesAsEncodingJSON(t *testing.T) {
	var problems []string
	proj := &signal.Projection{Name: "corpus", Types: []string{"account"}, On: []signal.ProjectionHandler{
		signal.ProjectAll(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event) error {
			for i, c := range decodeCases {
				got, want := c.into(), c.into()
				_, gerr := tx.Get(ctx, "corpus", fmt.Sprint("k", i), got)
				werr := json.Unmarshal([]byte(c.doc), want)
				if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
					problems = append(problems, fmt.Sprintf("doc %s:\n got %+v (%v)\nwant %+v (%v)", c.doc, got, gerr, want, werr))
				}
			}
			return nil
		}),
	}}
	svc, commits := corpusService(t, proj)
	seed := signal.ViewCommit{Subscriber: "seed", Stream: signal.StreamID{Type: "account", ID: "seed"}, To: 1}
	for i, c := range decodeCases {
		seed.Writes = append(seed.Writes, signal.ViewWrite{Name: "corpus", Key: fmt.Sprint("k", i), Data: []byte(c.doc)})
	}
	if err := svc.Store().(signal.ViewStore).CommitViews(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
	if err := svc.Dispatch(t.Context(), commits); err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// corpusService is a Service running proj, and a batch with one event
// for it to run on.
func corpusService(t *testing.T, proj *signal.Projection) (*signal.Service, []signal.Commit) {
	t.Helper()
	commits := roundRobin(1, 1)
	svc, err := signal.New(signal.Config{Store: storeOf(t, commits), Types: []signal.AggregateType{signal.MustDefine(accountSpec())},
		Subscribers: []signal.Subscriber{proj}})
	if err != nil {
		t.Fatal(err)
	}
	return svc, commits
}
