package signal

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// subscription is a subscriber as the dispatcher runs it, with the
// aggregate types it follows resolved against the Service's types.
type subscription struct {
	Subscriber
	all     bool            // follows every type
	follows map[string]bool // else these
}

func (s *subscription) subscribes(aggregateType string) bool {
	return s.all || s.follows[aggregateType]
}

// ephemeral reports whether the subscriber keeps no checkpoint.
func (s *subscription) ephemeral() bool {
	o, ok := s.Subscriber.(*Observer)
	return ok && o.Ephemeral
}

// subscribe checks sub against the registered types and resolves what it
// follows. Errors name the subscriber and what is wrong: no handlers, a
// handler without a function, two handlers for one Go type, an unknown
// type in Types, or a handler for a Go type that no followed type records
// (a handler that would never run).
func (s *Service) subscribe(sub Subscriber) (*subscription, error) {
	name := sub.SubscriberName()
	hts := sub.handlerTypes()
	if len(hts) == 0 {
		return nil, fmt.Errorf("signal.New: subscriber %q has no handlers (On)", name)
	}
	if i := sub.nilHandler(); i >= 0 {
		return nil, fmt.Errorf("signal.New: subscriber %q: handler %d has no function; build it with Project, React, Observe or their All forms, from a func that is not nil", name, i)
	}
	seen := map[reflect.Type]bool{}
	for _, t := range hts {
		if seen[t] {
			what := fmt.Sprintf("events of Go type %v", t)
			if t == nil {
				what = "all events"
			}
			return nil, fmt.Errorf("signal.New: subscriber %q has two handlers for %s", name, what)
		}
		seen[t] = true
	}
	out := &subscription{Subscriber: sub, follows: map[string]bool{}}
	if types := sub.types(); len(types) > 0 {
		for _, typ := range types {
			if s.types[typ] == nil {
				return nil, fmt.Errorf("signal.New: subscriber %q follows %q, which is not a registered aggregate type", name, typ)
			}
			out.follows[typ] = true
		}
	} else if seen[nil] {
		out.all = true
	} else {
		for typ, rt := range s.types {
			for t := range seen {
				if rt.reg.eventsByGo[t] != nil {
					out.follows[typ] = true
				}
			}
		}
	}
	for t := range seen {
		if t != nil && !out.records(s, t) {
			return nil, fmt.Errorf("signal.New: subscriber %q handles %v, which no aggregate type it follows (%s) records", name, t, out.describe(s))
		}
	}
	return out, nil
}

// records reports whether a followed type registers the event Go type t.
func (s *subscription) records(svc *Service, t reflect.Type) bool {
	for typ, rt := range svc.types {
		if s.subscribes(typ) && rt.reg.eventsByGo[t] != nil {
			return true
		}
	}
	return false
}

func (s *subscription) describe(svc *Service) string {
	var names []string
	for typ := range svc.types {
		if s.subscribes(typ) {
			names = append(names, typ)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
