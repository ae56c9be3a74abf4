package signaltest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/signalforgo/signal/pkg/signal"
)

// marker ends the first line that differs in a failure's listing.
const marker = "  <-- first difference"

// item is one entry of a compared list (an event, a sent command): a
// heading (the event's name, the command's target and name), the JSON
// shown, and what must be equal besides the JSON.
type item struct {
	head string
	data []byte
	key  string // compared with ==, with the normalised JSON
}

func (it item) line(i int) string { return fmt.Sprintf("%d. %s %s", i+1, it.head, it.data) }

// firstDiff returns the index of the first entry where want and got
// differ, or -1 when they are equal.
func firstDiff(want, got []item) int {
	for i := range min(len(want), len(got)) {
		if want[i].key != got[i].key || !sameJSON(want[i].data, got[i].data) {
			return i
		}
	}
	if len(want) != len(got) {
		return min(len(want), len(got))
	}
	return -1
}

// listing renders want and got as numbered lines under "want:" and
// "got:", marking the entry at index mark on both sides. what names an
// entry ("event", "command").
func listing(want, got []item, mark int, what string) string {
	return block("want", lines(want, mark, what)) + "\n" + block("got", lines(got, mark, what))
}

// lines numbers items and marks index mark, adding a placeholder line
// when the list has no entry there.
func lines(items []item, mark int, what string) []markedLine {
	out := make([]markedLine, 0, len(items)+1)
	for i, it := range items {
		out = append(out, markedLine{it.line(i), i == mark})
	}
	switch {
	case len(items) == 0:
		out = append(out, markedLine{"(no " + what + "s)", mark >= 0})
	case mark >= len(items):
		out = append(out, markedLine{fmt.Sprintf("(no %s %d)", what, mark+1), true})
	}
	return out
}

type markedLine struct {
	text string
	mark bool
}

// block renders lines under a label: "  want: first line", the others
// aligned below it.
func block(label string, ls []markedLine) string {
	var b strings.Builder
	for i, l := range ls {
		if i == 0 {
			fmt.Fprintf(&b, "  %-5s %s", label+":", l.text)
		} else {
			b.WriteString("\n        " + l.text)
		}
		if l.mark {
			b.WriteString(marker)
		}
	}
	return b.String()
}

// text renders one line under a label, unmarked.
func text(label, s string) string { return block(label, []markedLine{{text: s}}) }

// docDiff renders two JSON documents, indented, under two labels of at
// most four letters ("want", "got"), marking the first line that differs.
func docDiff(wantLabel, gotLabel string, want, got []byte) string {
	w, g := strings.Split(indent(want), "\n"), strings.Split(indent(got), "\n")
	mark := -1
	for i := range max(len(w), len(g)) {
		if i >= len(w) || i >= len(g) || w[i] != g[i] {
			mark = i
			break
		}
	}
	return block(wantLabel, docLines(w, mark)) + "\n" + block(gotLabel, docLines(g, mark))
}

func docLines(ls []string, mark int) []markedLine {
	out := make([]markedLine, 0, len(ls)+1)
	for i, l := range ls {
		out = append(out, markedLine{l, i == mark})
	}
	if mark >= len(ls) {
		out = append(out, markedLine{"(nothing more)", true})
	}
	return out
}

// normalize re-encodes a JSON value with object members sorted by name
// and numbers kept as written, so two encodings of one value compare
// equal.
func normalize(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func sameJSON(a, b []byte) bool {
	na, errA := normalize(a)
	nb, errB := normalize(b)
	if errA != nil || errB != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(na, nb)
}

// indent renders a JSON document normalised and indented; a document
// that does not parse is shown as it is.
func indent(data []byte) string {
	n, err := normalize(data)
	if err != nil {
		return string(data)
	}
	var b bytes.Buffer
	if json.Indent(&b, n, "", "  ") != nil {
		return string(n)
	}
	return b.String()
}

// describe renders an error: a signal error with its kind (only its
// message, the domain's text for a refusal, unless it is internal or
// unavailable, whose causes matter), any other error as it is.
func describe(err error) string {
	var se *signal.Error
	switch {
	case err == nil:
		return "no error"
	case !errors.As(err, &se):
		return err.Error()
	case se.Message != "" && se.Kind != signal.KindInternal && se.Kind != signal.KindUnavailable:
		return fmt.Sprintf("%s (%s)", se.Message, se.Kind)
	}
	return fmt.Sprintf("%v (%s)", err, se.Kind)
}

// matchError reports whether err matches want, an error (errors.Is) or
// a signal.Kind, with want described. ok is false when want is neither.
func matchError(err error, want any) (matches bool, wantText string, ok bool) {
	switch w := want.(type) {
	case signal.Kind:
		return err != nil && signal.KindOf(err) == w, "an error of kind " + w.String(), true
	case error:
		text := w.Error()
		// A sentinel is what any error of its kind matches.
		if se, isSig := w.(*signal.Error); isSig && errors.Is(&signal.Error{Kind: se.Kind}, w) {
			text = "an error of kind " + se.Kind.String()
		}
		return errors.Is(err, w), text, true
	}
	return false, "", false
}

// eventTable maps an aggregate type's event Go types to their registrations.
type eventTable struct {
	typ  signal.AggregateType
	byGo map[reflect.Type]signal.EventInfo
}

func newEventTable(typ signal.AggregateType) eventTable {
	t := eventTable{typ: typ, byGo: map[reflect.Type]signal.EventInfo{}}
	for _, e := range typ.Events() {
		t.byGo[e.GoType] = e
	}
	return t
}

// encode turns event values into items (registered name and JSON), or
// says why one cannot be.
func (t eventTable) encode(events []any) ([]item, error) {
	out := make([]item, len(events))
	for i, ev := range events {
		info, err := t.lookup(ev)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i+1, err)
		}
		data, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("event %d (%s) does not encode as JSON: %w", i+1, info.Name, err)
		}
		out[i] = item{head: info.Name, data: data, key: info.Name}
	}
	return out, nil
}

func (t eventTable) lookup(ev any) (signal.EventInfo, error) {
	if ev == nil {
		return signal.EventInfo{}, fmt.Errorf("nil is not an event of %s (its events: %s)", t.typ.Name(), t.names())
	}
	rt := reflect.TypeOf(ev)
	if info, ok := t.byGo[rt]; ok {
		return info, nil
	}
	hint := ""
	if rt.Kind() == reflect.Pointer {
		if info, ok := t.byGo[rt.Elem()]; ok {
			hint = fmt.Sprintf("; %s is registered as %v: pass the value, not a pointer", info.Name, rt.Elem())
		}
	}
	return signal.EventInfo{}, fmt.Errorf("%v is not an event of %s (its events: %s)%s", rt, t.typ.Name(), t.names(), hint)
}

func (t eventTable) names() string {
	var names []string
	for _, e := range t.typ.Events() {
		names = append(names, fmt.Sprintf("%s %v", e.Name, e.GoType))
	}
	return strings.Join(names, ", ")
}

// rawItems turns stored events into items.
func rawItems(evs []signal.RawEvent) []item {
	out := make([]item, len(evs))
	for i, e := range evs {
		out[i] = item{head: e.Name, data: e.Data, key: e.Name}
	}
	return out
}

// eventItems turns recorded events (decoded) into items.
func eventItems(evs []signal.Event) []item {
	out := make([]item, len(evs))
	for i, e := range evs {
		data, err := json.Marshal(e.Data)
		if err != nil {
			data = fmt.Appendf(nil, "%#v", e.Data)
		}
		out[i] = item{head: e.Name, data: data, key: e.Name}
	}
	return out
}
