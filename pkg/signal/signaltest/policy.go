package signaltest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// PolicyScenario tests one policy: an event is handed to it as the
// dispatcher hands it over, and the commands it returns are checked,
// without sending them. Make one with Policy.
type PolicyScenario struct {
	*env
	p        *signal.Policy
	versions map[signal.StreamID]int64
	last     *reaction
}

// reaction is the outcome of the last When.
type reaction struct {
	check
	ev    signal.Event
	sends []signal.Send
}

// Policy starts a scenario for p over types: the aggregate types whose
// events it follows and those it sends commands to. signal.New checks p
// against them as in production.
func Policy(t testing.TB, p *signal.Policy, types ...signal.AggregateType) *PolicyScenario {
	t.Helper()
	if p == nil {
		t.Fatalf("signaltest.Policy: the policy is nil")
	}
	if len(types) == 0 {
		t.Fatalf("signaltest.Policy %s: no aggregate types; pass the types it follows and sends commands to", p.Name)
	}
	e, err := newEnv(t, setup{types: types, subs: []signal.Subscriber{p}})
	if err != nil {
		t.Fatalf("signaltest.Policy %s: %v", p.Name, err)
	}
	s := &PolicyScenario{env: e, p: p, versions: map[signal.StreamID]int64{}}
	t.Cleanup(func() {
		if s.last != nil && !t.Failed() {
			unchecked(t, s.who(), &s.last.check)
		}
	})
	return s
}

func (s *PolicyScenario) who() string { return "policy " + s.p.Name }

// When hands the policy event, a value of one of typ's registered event
// types, as a recorded event of aggregate id: with its registered name
// and schema version, the next version of that aggregate in this
// scenario (1, 2, ...), new event and command ids, no Actor, and the
// payload as the dispatcher decodes it from its JSON. It calls
// (*signal.Policy).React, in a context whose principal is the policy's
// (signal.PolicyPrincipal) as the dispatcher's is, and keeps the
// commands it returns, which must be deliverable: addressed to a type of
// the scenario with a valid id, of a command type registered there,
// encodable as JSON (else the test fails, Errorf). An event the policy
// could not receive fails the test at once (Fatalf).
func (s *PolicyScenario) When(typ signal.AggregateType, id string, event any) *PolicyScenario {
	s.t.Helper()
	return s.WhenBy("", typ, id, event)
}

// WhenBy is When with actor as the event's Actor: the subject whose
// command recorded it, which a policy may carry on (an order opened for
// the buyer of a cart). Its failures are When's.
func (s *PolicyScenario) WhenBy(actor string, typ signal.AggregateType, id string, event any) *PolicyScenario {
	s.t.Helper()
	s.settle()
	table := newEventTable(typ)
	info, err := table.lookup(event)
	if err != nil {
		s.t.Fatalf("%s: When %s %s: %v", s.who(), typ.Name(), id, err)
	}
	what := fmt.Sprintf("When %s %s %s", typ.Name(), id, info.Name)
	if actor != "" {
		what += " by " + shown(actor)
	}
	if !s.holds(typ) {
		s.t.Fatalf("%s: %s: the scenario does not hold the aggregate type %s; pass it to signaltest.Policy", s.who(), what, typ.Name())
	}
	if len(s.p.Types) > 0 && !slices.Contains(s.p.Types, typ.Name()) {
		s.t.Fatalf("%s: %s: the policy follows %s, not %s: it would never receive this event", s.who(), what, strings.Join(s.p.Types, ", "), typ.Name())
	}
	if err := signal.ValidateID(id); err != nil {
		s.t.Fatalf("%s: %s: %v", s.who(), what, err)
	}
	data, err := json.Marshal(event)
	if err != nil {
		s.t.Fatalf("%s: %s: the event does not encode as JSON: %v", s.who(), what, err)
	}
	decoded := reflect.New(info.GoType)
	if err := json.Unmarshal(data, decoded.Interface()); err != nil {
		s.t.Fatalf("%s: %s: the event does not decode from its JSON: %v", s.who(), what, err)
	}
	stream := signal.StreamID{Type: typ.Name(), ID: id}
	s.versions[stream]++
	ev := signal.Event{
		AggregateType: typ.Name(),
		AggregateID:   id,
		Version:       s.versions[stream],
		Name:          info.Name,
		SchemaVersion: info.SchemaVersion,
		Time:          time.Now().UTC().Truncate(time.Millisecond),
		ID:            signal.NewID(),
		CommandID:     signal.NewID(),
		Actor:         actor,
		Data:          decoded.Elem().Interface(),
	}
	sends, err := s.p.React(signal.WithPrincipal(s.t.Context(), signal.PolicyPrincipal(s.p.Name)), ev)
	s.last = &reaction{check: check{what: what, err: err}, ev: ev, sends: sends}
	for i, snd := range sends {
		if problem := s.undeliverable(snd); problem != "" {
			s.t.Errorf("%s: %s: command %d cannot be delivered: %s", s.who(), what, i+1, problem)
		}
	}
	return s
}

// undeliverable says why the dispatcher could not send snd, "" if it can.
func (s *PolicyScenario) undeliverable(snd signal.Send) string {
	typ := s.typeNamed(snd.Type)
	if typ == nil {
		return fmt.Sprintf("it goes to aggregate type %q, which the scenario does not hold (the Service must hold it; pass it to signaltest.Policy)", snd.Type)
	}
	if err := signal.ValidateID(snd.ID); err != nil {
		return fmt.Sprintf("its id: %v", err)
	}
	if commandInfo(typ, snd.Command) == nil {
		return fmt.Sprintf("%s has no command of Go type %T", snd.Type, snd.Command)
	}
	if _, err := json.Marshal(snd.Command); err != nil {
		return fmt.Sprintf("it does not encode as JSON, which its command id needs: %v", err)
	}
	return ""
}

func commandInfo(typ signal.AggregateType, cmd any) *signal.CommandInfo {
	rt := reflect.TypeOf(cmd)
	for _, c := range typ.Commands() {
		if c.GoType == rt {
			return &c
		}
	}
	return nil
}

func (s *PolicyScenario) settle() {
	s.t.Helper()
	if s.last != nil {
		unchecked(s.t, s.who(), &s.last.check)
	}
	s.last = nil
}

func (s *PolicyScenario) lastWhen(method string) *reaction {
	s.t.Helper()
	if s.last == nil {
		s.t.Errorf("%s: %s without a When before it", s.who(), method)
		return nil
	}
	s.last.checked = true
	return s.last
}

// ThenSends checks that the policy's reaction to the last When succeeded
// and returned exactly sends, in order: the same aggregate type and id,
// a command of the same Go type with the same JSON. Address them with
// Type.To. ThenSends() checks that it sends nothing.
func (s *PolicyScenario) ThenSends(sends ...signal.Send) *PolicyScenario {
	s.t.Helper()
	r := s.lastWhen("ThenSends")
	if r == nil {
		return s
	}
	want, err := s.sendItems(sends, true)
	if err != nil {
		s.t.Errorf("%s: ThenSends: %v", s.who(), err)
		return s
	}
	if r.err != nil {
		s.t.Errorf("%s: %s failed, want commands:\n%s\n%s", s.who(), r.what,
			block("want", lines(want, -1, "command")), text("got", "error: "+describe(r.err)))
		return s
	}
	got, _ := s.sendItems(r.sends, false)
	if mark := firstDiff(want, got); mark >= 0 {
		msg := fmt.Sprintf("%s: %s: commands differ", s.who(), r.what)
		if len(want) != len(got) {
			msg += fmt.Sprintf(" (want %d, got %d)", len(want), len(got))
		}
		s.t.Errorf("%s\n%s", msg, listing(want, got, mark, "command"))
	}
	return s
}

// sendItems renders sends as "type id Command {json}", compared by type,
// id and the command's Go type and JSON. strict refuses a command that
// does not encode; otherwise it is shown with %#v.
func (s *PolicyScenario) sendItems(sends []signal.Send, strict bool) ([]item, error) {
	out := make([]item, len(sends))
	for i, snd := range sends {
		name := fmt.Sprintf("%T", snd.Command)
		if typ := s.typeNamed(snd.Type); typ != nil {
			if c := commandInfo(typ, snd.Command); c != nil {
				name = c.Name
			}
		}
		data, err := json.Marshal(snd.Command)
		if err != nil {
			if strict {
				return nil, fmt.Errorf("command %d (%s) does not encode as JSON: %w", i+1, name, err)
			}
			data = fmt.Appendf(nil, "%#v", snd.Command) // When reported it
		}
		out[i] = item{
			head: fmt.Sprintf("%s %s %s", snd.Type, snd.ID, name),
			data: data,
			key:  fmt.Sprintf("%q %q %v", snd.Type, snd.ID, reflect.TypeOf(snd.Command)),
		}
	}
	return out, nil
}

// ThenError checks that the policy's reaction to the last When failed
// with want: an error (errors.Is) or a signal.Kind.
func (s *PolicyScenario) ThenError(want any) *PolicyScenario {
	s.t.Helper()
	r := s.lastWhen("ThenError")
	if r == nil {
		return s
	}
	matches, wantText, ok := matchError(r.err, want)
	switch {
	case !ok:
		s.t.Errorf("%s: ThenError(%#v): want an error or a signal.Kind; ThenSends expects success", s.who(), want)
	case r.err == nil:
		got, _ := s.sendItems(r.sends, false)
		s.t.Errorf("%s: %s succeeded, want an error:\n%s\n%s", s.who(), r.what, text("want", wantText),
			block("got", lines(got, -1, "command")))
	case !matches:
		s.t.Errorf("%s: %s: error differs\n%s\n%s", s.who(), r.what, text("want", wantText), text("got", describe(r.err)))
	}
	return s
}

// Event returns the event the last When handed the policy.
func (s *PolicyScenario) Event() signal.Event {
	if s.last == nil {
		return signal.Event{}
	}
	return s.last.ev
}

// Sends returns the commands the policy returned for the last When and
// counts as checking it.
func (s *PolicyScenario) Sends() []signal.Send {
	if s.last == nil {
		return nil
	}
	s.last.checked = true
	return s.last.sends
}

// Err returns the policy's error for the last When and counts as
// checking it.
func (s *PolicyScenario) Err() error {
	if s.last == nil {
		return nil
	}
	s.last.checked = true
	return s.last.err
}
