package signal

import (
	"context"
	"fmt"
)

// Aggregates is typed access to the aggregates of one type through a
// Service: states come back as S. Get one with Bind.
type Aggregates[S any] struct {
	svc *Service
	t   *Type[S]
}

// Bind returns typed access to t's aggregates through svc. Every method
// fails with ErrUnknownType when svc does not hold t itself (another type
// of the same name included).
func Bind[S any](svc *Service, t *Type[S]) Aggregates[S] { return Aggregates[S]{svc: svc, t: t} }

// Type returns the bound aggregate type.
func (a Aggregates[S]) Type() *Type[S] { return a.t }

// Handle handles cmd on aggregate id and returns the new state with the
// result. Outcomes as Service.Handle.
func (a Aggregates[S]) Handle(ctx context.Context, id string, cmd any, opts ...CommandOption) (S, Result, error) {
	if err := a.check(); err != nil {
		return a.zero(), Result{}, err
	}
	r, err := a.svc.Handle(ctx, a.t.name, id, cmd, opts...)
	return stateAs[S](r.State), r, err
}

// Create handles cmd on aggregate id, which must not exist yet. Outcomes
// as Service.Create.
func (a Aggregates[S]) Create(ctx context.Context, id string, cmd any, opts ...CommandOption) (S, Result, error) {
	if err := a.check(); err != nil {
		return a.zero(), Result{}, err
	}
	r, err := a.svc.Create(ctx, a.t.name, id, cmd, opts...)
	return stateAs[S](r.State), r, err
}

// End ends aggregate id's life with the type's End rule. Outcomes as
// Service.End.
func (a Aggregates[S]) End(ctx context.Context, id string, opts ...CommandOption) (S, Result, error) {
	if err := a.check(); err != nil {
		return a.zero(), Result{}, err
	}
	r, err := a.svc.End(ctx, a.t.name, id, opts...)
	return stateAs[S](r.State), r, err
}

// Get returns the state of aggregate id and its version. Outcomes as
// Service.Get.
func (a Aggregates[S]) Get(ctx context.Context, id string, opts ...ReadOption) (S, int64, error) {
	if err := a.check(); err != nil {
		return a.zero(), 0, err
	}
	st, err := a.svc.Get(ctx, a.t.name, id, opts...)
	return stateAs[S](st.State), st.Version, err
}

// At returns the state of aggregate id as it was right after version.
// Outcomes as Service.At.
func (a Aggregates[S]) At(ctx context.Context, id string, version int64) (S, error) {
	if err := a.check(); err != nil {
		return a.zero(), err
	}
	st, err := a.svc.At(ctx, a.t.name, id, version)
	return stateAs[S](st.State), err
}

// History returns a page of aggregate id's events. Outcomes as
// Service.History.
func (a Aggregates[S]) History(ctx context.Context, id string, after int64, limit int) (Page, error) {
	if err := a.check(); err != nil {
		return Page{}, err
	}
	return a.svc.History(ctx, a.t.name, id, after, limit)
}

func (a Aggregates[S]) check() error {
	if a.svc == nil || a.t == nil {
		return &Error{Kind: KindUnknownType, Op: "signal.Bind", Message: "Aggregates used without signal.Bind"}
	}
	if rt := a.svc.types[a.t.name]; rt == nil || rt.owner != any(a.t) {
		return &Error{Kind: KindUnknownType, Op: "signal.Bind",
			Message: fmt.Sprintf("the Service does not hold this %s type", truncate(a.t.name, MaxNameBytes))}
	}
	return nil
}

// zero is the state a failed call returns: the zero S, not Initial, so
// that it never looks like an aggregate.
func (a Aggregates[S]) zero() S {
	var s S
	return s
}

func stateAs[S any](v any) S {
	s, _ := v.(S)
	return s
}
