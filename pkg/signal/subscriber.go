package signal

import (
	"context"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"sync"
)

// Subscriber reacts to committed events. It is one of the framework's
// three kinds, each a struct to fill in: *Projection (builds views),
// *Policy (sends commands) and *Observer (anything else: metrics,
// notifications, logs). The set is closed: the dispatcher gives each kind
// what it needs (a view transaction, command ids). The same subscriber
// code runs in-process and behind DynamoDB Streams.
//
// Each kind selects events by Go type with typed handlers (Project,
// React, Observe), and may take every event of the types it follows
// (ProjectAll, ReactAll, ObserveAll). It follows the aggregate types
// listed in its Types, or, when Types is empty, the types that register
// an event one of its typed handlers takes (every type, with an All
// handler). signal.New refuses a subscriber with a typed handler for a Go
// type no followed aggregate type records, two handlers for one type, or
// a handler without a function (a zero value, or built from a nil func).
type Subscriber interface {
	// SubscriberName is the stable name checkpoints are kept under.
	SubscriberName() string
	handlerTypes() []reflect.Type
	nilHandler() int
	types() []string
}

// Projection builds read models (views) from events. Its document writes
// and its checkpoint are committed together (ViewStore.CommitViews), so a
// redelivered or reordered event is never applied twice.
type Projection struct {
	Name string
	// Types lists the aggregate types it follows; see Subscriber.
	Types []string
	// On are its handlers: Project[E] per event type, or ProjectAll. A
	// handler's error leaves the views and the checkpoint as they were;
	// the event is delivered again.
	On []ProjectionHandler
}

// ProjectionHandler folds events into views. Build it with Project or
// ProjectAll.
type ProjectionHandler struct {
	goType reflect.Type // nil: every event
	fn     func(ctx context.Context, tx *ViewTx, ev Event) error
}

// Project handles the events of Go type E: fn folds one into views
// through tx; e is ev.Data as an E.
func Project[E any](fn func(ctx context.Context, tx *ViewTx, ev Event, e E) error) ProjectionHandler {
	h := ProjectionHandler{goType: reflect.TypeFor[E]()}
	if fn != nil { // else signal.New refuses it
		h.fn = func(ctx context.Context, tx *ViewTx, ev Event) error { return fn(ctx, tx, ev, ev.Data.(E)) }
	}
	return h
}

// ProjectAll handles every event of the types followed that no Project
// handler of the projection takes.
func ProjectAll(fn func(ctx context.Context, tx *ViewTx, ev Event) error) ProjectionHandler {
	return ProjectionHandler{fn: fn}
}

// Policy turns events into commands: "when a purchase completes, open an
// order". Each command gets a command id derived from the policy's name,
// the event's id and its position, so redelivery cannot apply it twice.
type Policy struct {
	Name string
	// Types lists the aggregate types it follows; see Subscriber.
	Types []string
	// On are its handlers: React[E] per event type, or ReactAll. A
	// command refused by its aggregate (rejected, closed, exists, not
	// found, or its id already applied to a command of another shape) is
	// logged and not retried; any other failure makes the event be
	// delivered again, and after Config.ParkAfter deliveries parks the
	// policy on that aggregate.
	On []PolicyHandler
}

// PolicyHandler returns the commands to send for an event. Build it with
// React or ReactAll.
type PolicyHandler struct {
	goType reflect.Type
	fn     func(ctx context.Context, ev Event) ([]Send, error)
}

// React handles the events of Go type E: fn returns the commands to send
// (address them with Type.To); e is ev.Data as an E.
func React[E any](fn func(ctx context.Context, ev Event, e E) ([]Send, error)) PolicyHandler {
	h := PolicyHandler{goType: reflect.TypeFor[E]()}
	if fn != nil { // else signal.New refuses it
		h.fn = func(ctx context.Context, ev Event) ([]Send, error) { return fn(ctx, ev, ev.Data.(E)) }
	}
	return h
}

// ReactAll handles every event of the types followed that no React
// handler of the policy takes.
func ReactAll(fn func(ctx context.Context, ev Event) ([]Send, error)) PolicyHandler {
	return PolicyHandler{fn: fn}
}

// React returns the commands p sends for ev: those of its handler for
// ev's Go type, none when it has no handler for it. The dispatcher sends
// them; tests call React to see them.
func (p *Policy) React(ctx context.Context, ev Event) ([]Send, error) {
	if h := pick(p.On, ev, func(h PolicyHandler) reflect.Type { return h.goType }); h != nil {
		return h.fn(ctx, ev)
	}
	return nil, nil
}

// Send is a command a Policy sends to an aggregate. Type.To builds one.
type Send struct {
	Type    string
	ID      string
	Command any
}

// Observer runs arbitrary code for each event, at least once.
type Observer struct {
	Name string
	// Types lists the aggregate types it follows; see Subscriber.
	Types []string
	// Ephemeral observers keep no checkpoint: they run on every delivery,
	// duplicates included. Right for in-memory metrics and logs, whose
	// state does not survive a restart anyway.
	Ephemeral bool
	// On are its handlers: Observe[E] per event type, or ObserveAll.
	On []ObserverHandler
}

// ObserverHandler runs for an event. Build it with Observe or ObserveAll.
type ObserverHandler struct {
	goType reflect.Type
	fn     func(ctx context.Context, ev Event) error
}

// Observe handles the events of Go type E; e is ev.Data as an E.
func Observe[E any](fn func(ctx context.Context, ev Event, e E) error) ObserverHandler {
	h := ObserverHandler{goType: reflect.TypeFor[E]()}
	if fn != nil { // else signal.New refuses it
		h.fn = func(ctx context.Context, ev Event) error { return fn(ctx, ev, ev.Data.(E)) }
	}
	return h
}

// ObserveAll handles every event of the types followed that no Observe
// handler of the observer takes.
func ObserveAll(fn func(ctx context.Context, ev Event) error) ObserverHandler {
	return ObserverHandler{fn: fn}
}

func (p *Projection) SubscriberName() string { return p.Name }
func (p *Policy) SubscriberName() string     { return p.Name }
func (o *Observer) SubscriberName() string   { return o.Name }

func (p *Projection) types() []string { return p.Types }
func (p *Policy) types() []string     { return p.Types }
func (o *Observer) types() []string   { return o.Types }

func (p *Projection) handlerTypes() []reflect.Type {
	return goTypes(p.On, func(h ProjectionHandler) reflect.Type { return h.goType })
}
func (p *Policy) handlerTypes() []reflect.Type {
	return goTypes(p.On, func(h PolicyHandler) reflect.Type { return h.goType })
}
func (o *Observer) handlerTypes() []reflect.Type {
	return goTypes(o.On, func(h ObserverHandler) reflect.Type { return h.goType })
}

func (p *Projection) nilHandler() int {
	return slices.IndexFunc(p.On, func(h ProjectionHandler) bool { return h.fn == nil })
}
func (p *Policy) nilHandler() int {
	return slices.IndexFunc(p.On, func(h PolicyHandler) bool { return h.fn == nil })
}
func (o *Observer) nilHandler() int {
	return slices.IndexFunc(o.On, func(h ObserverHandler) bool { return h.fn == nil })
}

// apply runs p's handler for ev, if it has one.
func (p *Projection) apply(ctx context.Context, tx *ViewTx, ev Event) error {
	if h := pick(p.On, ev, func(h ProjectionHandler) reflect.Type { return h.goType }); h != nil {
		return h.fn(ctx, tx, ev)
	}
	return nil
}

// observe runs o's handler for ev, if it has one.
func (o *Observer) observe(ctx context.Context, ev Event) error {
	if h := pick(o.On, ev, func(h ObserverHandler) reflect.Type { return h.goType }); h != nil {
		return h.fn(ctx, ev)
	}
	return nil
}

// pick returns the handler for ev's Go type, else the All handler (nil
// Go type), else nil. Subscribers have a handful of handlers: a scan
// beats a map and keeps the structs plain values.
func pick[H any](hs []H, ev Event, goType func(H) reflect.Type) *H {
	t := reflect.TypeOf(ev.Data)
	var all *H
	for i := range hs {
		switch goType(hs[i]) {
		case t:
			return &hs[i]
		case nil:
			all = &hs[i]
		}
	}
	return all
}

// goTypes lists the Go types of hs, nil for an All handler.
func goTypes[H any](hs []H, goType func(H) reflect.Type) []reflect.Type {
	out := make([]reflect.Type, len(hs))
	for i, h := range hs {
		out[i] = goType(h)
	}
	return out
}

// LogObserver logs every event at Info level through logger: type, id,
// version, name, ids. It is ephemeral (no checkpoint).
func LogObserver(logger *slog.Logger) *Observer {
	return &Observer{
		Name:      "log",
		Ephemeral: true,
		On: []ObserverHandler{ObserveAll(func(ctx context.Context, ev Event) error {
			logger.LogAttrs(ctx, slog.LevelInfo, "event",
				slog.String("aggregate_type", ev.AggregateType),
				slog.String("aggregate_id", ev.AggregateID),
				slog.Int64("version", ev.Version),
				slog.String("event", ev.Name),
				slog.String("event_id", ev.ID),
				slog.String("command_id", ev.CommandID),
				slog.String("correlation_id", ev.CorrelationID),
			)
			return nil
		})},
	}
}

// EventCounter is a metrics subscriber: it counts events by
// "<aggregate type>.<event name>". Read it with Counts; export it however
// the process reports metrics (the Lambda functions emit it as EMF).
type EventCounter struct {
	mu     sync.Mutex
	counts map[string]int64
}

// Observer returns the ephemeral subscriber that feeds the counter.
func (c *EventCounter) Observer() *Observer {
	return &Observer{
		Name:      "event-counter",
		Ephemeral: true,
		On: []ObserverHandler{ObserveAll(func(_ context.Context, ev Event) error {
			c.mu.Lock()
			if c.counts == nil {
				c.counts = map[string]int64{}
			}
			c.counts[ev.AggregateType+"."+ev.Name]++
			c.mu.Unlock()
			return nil
		})},
	}
}

// Counts returns a copy of the counts.
func (c *EventCounter) Counts() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// Names returns the counted keys, sorted.
func (c *EventCounter) Names() []string {
	counts := c.Counts()
	out := make([]string, 0, len(counts))
	for k := range counts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
