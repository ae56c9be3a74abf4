package signal_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestBindTyped: every method of Aggregates answers with typed states, as
// the Service's untyped methods do with any; a failed call answers the
// zero state, not Initial's.
func TestBindTyped(t *testing.T) {
	f := newTabFixture(t)
	ctx := t.Context()
	tabs := f.typed
	if tabs.Type() != f.typ {
		t.Fatalf("Type() = %p, want %p", tabs.Type(), f.typ)
	}
	tab, r, err := tabs.Create(ctx, "t-1", OpenTab{Guest: "ann"})
	if err != nil || tab != (Tab{ID: "t-1", Guest: "ann"}) || !r.Created || r.Version != 1 || r.Type != "tab" || r.ID != "t-1" {
		t.Fatalf("Create = %+v %+v %v", tab, r, err)
	}
	tab, r, err = tabs.Handle(ctx, "t-1", AddDrink{Price: 5})
	if err != nil || tab != (Tab{ID: "t-1", Guest: "ann", Total: 5}) || r.Version != 2 || r.State != tab {
		t.Fatalf("Handle = %+v %+v %v", tab, r, err)
	}
	tab, v, err := tabs.Get(ctx, "t-1")
	if err != nil || v != 2 || tab.Total != 5 {
		t.Fatalf("Get = %+v v%d %v", tab, v, err)
	}
	if tab, err := tabs.At(ctx, "t-1", 1); err != nil || tab != (Tab{ID: "t-1", Guest: "ann"}) {
		t.Fatalf("At(1) = %+v %v", tab, err)
	}
	page, err := tabs.History(ctx, "t-1", 0, 10)
	if err != nil || len(page.Events) != 2 || page.Events[1].Data != (DrinkAdded{Tab: "t-1", Price: 5}) {
		t.Fatalf("History = %+v %v", page, err)
	}
	mustTab(t, f, "t-2", OpenTab{Guest: "bob"})
	tab, r, err = tabs.End(ctx, "t-2")
	if err != nil || tab != (Tab{ID: "t-2", Guest: "bob"}) || r.Events[0].Name != "TabVoided" {
		t.Fatalf("End = %+v %+v %v", tab, r, err)
	}

	// Failures answer the zero Tab (ID "" although Initial sets it).
	for name, call := range map[string]func() (Tab, error){
		"Handle refused":  func() (Tab, error) { s, _, err := tabs.Handle(ctx, "t-1", AddDrink{Price: -1}); return s, err },
		"Handle missing":  func() (Tab, error) { s, _, err := tabs.Handle(ctx, "nobody", AddDrink{Price: 1}); return s, err },
		"Create existing": func() (Tab, error) { s, _, err := tabs.Create(ctx, "t-1", OpenTab{Guest: "x"}); return s, err },
		"End refused":     func() (Tab, error) { s, _, err := tabs.End(ctx, "t-1"); return s, err },
		"Get missing":     func() (Tab, error) { s, _, err := tabs.Get(ctx, "nobody"); return s, err },
		"At too far":      func() (Tab, error) { return tabs.At(ctx, "t-1", 99) },
	} {
		s, err := call()
		if err == nil || s != (Tab{}) {
			t.Errorf("%s: %+v %v, want an error and the zero Tab", name, s, err)
		}
	}
}

// TestBindOtherType: Aggregates works only through a Service that holds
// the very *Type it was bound to; another Type value of the same name, a
// type the Service does not hold, a nil Service or type and the zero
// Aggregates all answer ErrUnknownType, without a panic or a store request.
func TestBindOtherType(t *testing.T) {
	f := newTabFixture(t)
	ctx := t.Context()
	mustTab(t, f, "t-1", OpenTab{Guest: "ann"})
	other := signal.MustDefine(tabSpec()) // same name, same spec, another value
	unheld := signal.MustDefine(accountSpec())
	for name, run := range map[string]func() []error{
		"same name, another Type": func() []error { return bindCalls(t, signal.Bind(f.svc, other)) },
		"zero Aggregates":         func() []error { return bindCalls(t, signal.Aggregates[Tab]{}) },
		"nil Service":             func() []error { return bindCalls(t, signal.Bind(nil, f.typ)) },
		"nil Type":                func() []error { return bindCalls(t, signal.Bind[Tab](f.svc, nil)) },
		"a type the Service does not hold": func() []error {
			a := signal.Bind(f.svc, unheld)
			_, _, herr := a.Handle(ctx, "t-1", Deposit{Amount: 1})
			_, _, gerr := a.Get(ctx, "t-1")
			return []error{herr, gerr}
		},
	} {
		t.Run(name, func(t *testing.T) {
			before := f.store.Counts()
			for i, err := range run() {
				if !errors.Is(err, signal.ErrUnknownType) {
					t.Errorf("call %d: %v, want ErrUnknownType", i, err)
				}
				if msg := signal.PublicMessage(err); msg == "" || msg == "internal error" {
					t.Errorf("call %d: public message %q", i, msg)
				}
			}
			if after := f.store.Counts(); after != before {
				t.Errorf("store requests: %+v -> %+v", before, after)
			}
		})
	}
	if err := bindCalls(t, signal.Bind(f.svc, other))[0]; !strings.Contains(signal.PublicMessage(err), "does not hold this tab type") {
		t.Errorf("message %q", signal.PublicMessage(err))
	}
	// The type it holds still works, by name and bound.
	if _, err := f.svc.Handle(ctx, "tab", "t-1", AddDrink{Price: 1}); err != nil {
		t.Fatal(err)
	}
	if tab, _, err := f.typed.Get(ctx, "t-1"); err != nil || tab.Total != 1 {
		t.Fatalf("Get = %+v %v", tab, err)
	}
	// And a Service holding other answers for other, not for f.typ.
	svc, _ := signal.New(signal.Config{Store: memstore.New(), Types: []signal.AggregateType{other}})
	if _, _, err := signal.Bind(svc, other).Create(ctx, "t-1", OpenTab{Guest: "ann"}); err != nil {
		t.Fatalf("Bind to the type the Service holds: %v", err)
	}
	if _, _, err := signal.Bind(svc, f.typ).Get(ctx, "t-1"); !errors.Is(err, signal.ErrUnknownType) {
		t.Fatalf("Bind to the first type on the second Service: %v", err)
	}
}

// bindCalls calls each method of a, on tab t-1, and returns their errors.
func bindCalls(t *testing.T, a signal.Aggregates[Tab]) []error {
	ctx := t.Context()
	var errs []error
	record := func(s Tab, err error) {
		if s != (Tab{}) {
			t.Errorf("a failed call answered %+v, want the zero Tab", s)
		}
		errs = append(errs, err)
	}
	s, _, err := a.Handle(ctx, "t-1", AddDrink{Price: 1})
	record(s, err)
	s, _, err = a.Create(ctx, "t-9", OpenTab{Guest: "x"})
	record(s, err)
	s, _, err = a.End(ctx, "t-1")
	record(s, err)
	s, _, err = a.Get(ctx, "t-1")
	record(s, err)
	s, err = a.At(ctx, "t-1", 1)
	record(s, err)
	page, err := a.History(ctx, "t-1", 0, 10)
	if len(page.Events) != 0 {
		t.Errorf("a failed History answered %+v", page)
	}
	errs = append(errs, err)
	return errs
}
