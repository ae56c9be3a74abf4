package signal_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

func TestAppValidate(t *testing.T) {
	typ := signal.MustDefine(accountSpec())
	for _, tt := range []struct {
		app  *signal.App
		want string // in the error; "" for none
	}{
		{nil, "no App"},
		{&signal.App{Types: []signal.AggregateType{typ}}, "name"},
		{&signal.App{Name: "a b", Types: []signal.AggregateType{typ}}, "name"},
		{&signal.App{Name: "bank"}, "no aggregate types"},
		{&signal.App{Name: "bank", Types: []signal.AggregateType{typ}}, ""},
	} {
		err := tt.app.Validate()
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Validate(%+v) = %v, want an error holding %q", tt.app, err, tt.want)
		}
	}
}

// App.Config wires a Service of the app's types, with its subscribers
// only when asked: the command and query functions run none.
func TestAppConfig(t *testing.T) {
	typ := signal.MustDefine(accountSpec())
	var seen []string
	app := &signal.App{Name: "bank", Types: []signal.AggregateType{typ}, Subscribers: []signal.Subscriber{
		&signal.Observer{Name: "seen", Ephemeral: true, On: []signal.ObserverHandler{
			signal.ObserveAll(func(_ context.Context, ev signal.Event) error { seen = append(seen, ev.Name); return nil }),
		}},
	}}
	for _, with := range []bool{false, true} {
		seen = nil
		cfg := app.Config(memstore.New(), with)
		cfg.InlineDispatch = true
		svc, err := signal.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := svc.AggregateTypes(); len(got) != 1 || got[0] != signal.AggregateType(typ) {
			t.Errorf("AggregateTypes() = %v, want the app's type", got)
		}
		if _, _, err := signal.Bind(svc, typ).Handle(t.Context(), "a1", Open{Owner: "ada"}); err != nil {
			t.Fatal(err)
		}
		if want := map[bool][]string{false: nil, true: {"Opened"}}[with]; !slices.Equal(seen, want) || len(svc.Subscribers()) != len(want) {
			t.Errorf("with subscribers %v: saw %v and runs %d subscribers, want %v", with, seen, len(svc.Subscribers()), want)
		}
	}
}
