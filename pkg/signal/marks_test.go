package signal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestInitialGetsTheID: the aggregate's id reaches the domain through
// Initial(id) on every path that builds a state: a command on a new
// aggregate, a warm one, a cold load, a Get, time travel and a restored
// snapshot. Tab.ID is never stored, so only Initial can have set it.
func TestInitialGetsTheID(t *testing.T) {
	f := newTabFixture(t, func(s *signal.Spec[Tab], _ *signal.Config) { s.SnapshotEvery = 3 })
	ctx := t.Context()
	for _, id := range []string{"t-1", "t-2"} {
		tab, r, err := f.typed.Handle(ctx, id, OpenTab{Guest: "ann"})
		if err != nil || tab.ID != id || r.Events[0].Data != (TabOpened{Tab: id, Guest: "ann"}) {
			t.Fatalf("new %s: %+v %+v %v; want the id in the state and in what decide saw", id, tab, r, err)
		}
		tab, r, err = f.typed.Handle(ctx, id, AddDrink{Price: 2})
		if err != nil || tab.ID != id || r.Events[0].Data != (DrinkAdded{Tab: id, Price: 2}) {
			t.Fatalf("warm %s: %+v %+v %v", id, tab, r, err)
		}
	}
	// A cold load from the events (no snapshot yet: version 2).
	if snap, err := f.store.LoadSnapshot(ctx, signal.StreamID{Type: "tab", ID: "t-1"}); !errors.Is(err, signal.ErrNotFound) {
		t.Fatalf("snapshot %+v %v before version 3", snap, err)
	}
	if tab, v, err := f.cold(t).Get(ctx, "t-1"); err != nil || v != 2 || tab != (Tab{ID: "t-1", Guest: "ann", Total: 2}) {
		t.Fatalf("Get after a cold load: %+v v%d %v", tab, v, err)
	}
	tab, r, err := f.cold(t).Handle(ctx, "t-1", AddDrink{Price: 3})
	if err != nil || tab.ID != "t-1" || r.Events[0].Data != (DrinkAdded{Tab: "t-1", Price: 3}) || r.Version != 3 {
		t.Fatalf("a command after a cold load: %+v %+v %v", tab, r, err)
	}
	// Time travel replays from Initial.
	for v, total := range map[int64]int64{1: 0, 2: 2} {
		if tab, err := f.typed.At(ctx, "t-1", v); err != nil || tab != (Tab{ID: "t-1", Guest: "ann", Total: total}) {
			t.Fatalf("At(%d) = %+v, %v", v, tab, err)
		}
	}
	checkInitialOnSnapshot(t, f)

	if got := f.typ.Initial("x"); got != (Tab{ID: "x"}) {
		t.Errorf("Initial(x) = %+v", got)
	}
	spec := tabSpec()
	spec.Initial = nil
	if got := signal.MustDefine(spec).Initial("x"); got != (Tab{}) {
		t.Errorf("Initial(x) without an Initial func = %+v, want the zero Tab", got)
	}
}

// checkInitialOnSnapshot: the state restored from a snapshot of tab t-1
// (at version 3, written by a cold command) gets its id from Initial: the
// snapshot does not hold it, and one planted at version 4, with a state
// no fold of the events gives, is what Get, At and a command start from.
func checkInitialOnSnapshot(t *testing.T, f *tabFixture) {
	t.Helper()
	ctx := t.Context()
	// A restored snapshot: the cold command wrote one at version 3; one
	// planted at version 4 holds a state no fold of the events gives, to
	// tell that it was used.
	stream := signal.StreamID{Type: "tab", ID: "t-1"}
	snap, err := f.store.LoadSnapshot(ctx, stream)
	if err != nil || snap.Version != 3 {
		t.Fatalf("snapshot %+v %v, want one at version 3", snap, err)
	}
	if strings.Contains(string(snap.Data), "t-1") {
		t.Fatalf("the snapshot holds the id, so it cannot tell Initial was used: %s", snap.Data)
	}
	mustTab(t, f, "t-1", AddDrink{Price: 1})
	planted := signal.Snapshot{Stream: stream, Version: 4, SchemaVersion: 1, Data: []byte(`{"state":{"guest":"ann","total":1000}}`)}
	if err := f.store.SaveSnapshot(ctx, planted); err != nil {
		t.Fatal(err)
	}
	if snap, _ := f.store.LoadSnapshot(ctx, stream); snap.Version != 4 {
		t.Fatalf("the planted snapshot was not saved: %+v", snap)
	}
	if tab, v, err := f.cold(t).Get(ctx, "t-1"); err != nil || v != 4 || tab != (Tab{ID: "t-1", Guest: "ann", Total: 1000}) {
		t.Fatalf("Get from the snapshot: %+v v%d %v", tab, v, err)
	}
	if tab, err := f.cold(t).At(ctx, "t-1", 4); err != nil || tab != (Tab{ID: "t-1", Guest: "ann", Total: 1000}) {
		t.Fatalf("At(4) from the snapshot: %+v %v", tab, err)
	}
	if tab, r, err := f.cold(t).Handle(ctx, "t-1", AddDrink{Price: 1}); err != nil || tab != (Tab{ID: "t-1", Guest: "ann", Total: 1001}) || r.Events[0].Data != (DrinkAdded{Tab: "t-1", Price: 1}) {
		t.Fatalf("a command on the snapshot's state: %+v %+v %v", tab, r, err)
	}
}

// TestGenesisMark: only a Genesis command creates its aggregate; any
// other command, and End, to an aggregate that does not exist is
// ErrNotFound and writes nothing.
func TestGenesisMark(t *testing.T) {
	f := newTabFixture(t)
	ctx := t.Context()
	for _, cmd := range []any{AddDrink{Price: 1}, Settle{}, Comp{Amount: 1}} {
		if _, err := f.svc.Handle(ctx, "tab", "t-1", cmd); !errors.Is(err, signal.ErrNotFound) {
			t.Errorf("%T to a missing tab: %v, want ErrNotFound", cmd, err)
		}
	}
	if _, err := f.svc.End(ctx, "tab", "t-1"); !errors.Is(err, signal.ErrNotFound) {
		t.Errorf("End of a missing tab: %v, want ErrNotFound", err)
	}
	if n := f.store.Counts().Appends; n != 0 {
		t.Fatalf("%d appends for commands to a missing aggregate", n)
	}
	for id, cmd := range map[string]any{"t-1": OpenTab{Guest: "ann"}, "house": OpenHouseTab{Guest: "staff"}} {
		r, err := f.svc.Handle(ctx, "tab", id, cmd)
		if err != nil || !r.Created || r.Version != 1 {
			t.Errorf("%T creates %s: %+v %v", cmd, id, r, err)
		}
	}
	if r, err := f.svc.Handle(ctx, "tab", "t-1", AddDrink{Price: 1}); err != nil || r.Created || r.Version != 2 {
		t.Errorf("AddDrink on the open tab: %+v %v", r, err)
	}

	// Without any Genesis mark, commands create nothing: only Create does.
	g := newTabFixture(t, func(s *signal.Spec[Tab], _ *signal.Config) {
		s.Commands[0] = signal.Decide("OpenTab", openTab)
		s.Commands[1] = signal.Decide("OpenHouseTab", openHouseTab, signal.Internal)
	})
	if _, err := g.svc.Handle(ctx, "tab", "t-1", OpenTab{Guest: "ann"}); !errors.Is(err, signal.ErrNotFound) {
		t.Errorf("OpenTab without Genesis: %v, want ErrNotFound", err)
	}
	if r, err := g.svc.Create(ctx, "tab", "t-1", AddDrink{Price: 1}); err != nil || !r.Created {
		t.Errorf("Create with no Genesis mark takes any command: %+v %v", r, err)
	}
}

// TestInternalCommands: HandleJSON (the HTTP API) refuses a command
// marked Internal with ErrForbidden before it decodes the body or reads
// anything, on an existing aggregate or a new one, with a good body or a
// malformed one; Go code and policies send it.
func TestInternalCommands(t *testing.T) {
	var typ *signal.Type[Tab] // the fixture's, for the policy's To
	f := newTabFixture(t, func(_ *signal.Spec[Tab], c *signal.Config) {
		// The house comps one unit of every drink over 10.
		c.Subscribers = []signal.Subscriber{&signal.Policy{Name: "happy-hour", On: []signal.PolicyHandler{
			signal.React(func(_ context.Context, ev signal.Event, e DrinkAdded) ([]signal.Send, error) {
				if e.Price <= 10 {
					return nil, nil
				}
				return []signal.Send{typ.To(ev.AggregateID, Comp{Amount: 1})}, nil
			}),
		}}}
		c.InlineDispatch = true
	})
	typ = f.typ
	ctx := t.Context()
	if _, _, err := f.typed.Handle(ctx, "t-1", OpenTab{Guest: "ann"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.typed.Handle(ctx, "t-1", AddDrink{Price: 5}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []internalJSONCase{
		{"good body", "t-1", "Comp", `{"amount":1}`},
		{"malformed body", "t-1", "Comp", `{"amount":`},
		{"body of another shape", "t-1", "Comp", `[1]`},
		{"null body", "t-1", "Comp", `null`},
		{"genesis, new aggregate, good body", "house-1", "OpenHouseTab", `{"guest":"staff"}`},
		{"genesis, new aggregate, malformed body", "house-2", "OpenHouseTab", `{"guest":`},
		{"genesis, existing aggregate", "t-1", "OpenHouseTab", `{"guest":"staff"}`},
	} {
		t.Run(c.name, func(t *testing.T) { checkForbiddenJSON(t, f, c) })
	}
	for _, id := range []string{"house-1", "house-2"} {
		if _, _, err := f.typed.Get(ctx, id); !errors.Is(err, signal.ErrNotFound) {
			t.Errorf("%s after forbidden genesis commands: %v, want ErrNotFound", id, err)
		}
	}
	if tab, _, err := f.typed.Get(ctx, "t-1"); err != nil || tab.Total != 5 {
		t.Errorf("t-1 after forbidden commands: %+v %v, want the total of 5 unchanged", tab, err)
	}

	checkInternalFromGo(t, f)
}

// internalJSONCase is an internal command sent through HandleJSON to
// tab id with body.
type internalJSONCase struct{ name, id, command, body string }

// checkForbiddenJSON: HandleJSON of c's internal command is ErrForbidden,
// of kind forbidden, saying the command is internal, and asks the store
// for nothing.
func checkForbiddenJSON(t *testing.T, f *tabFixture, c internalJSONCase) {
	ctx := t.Context()
	before, commits := f.store.Counts(), len(f.commits(t))
	_, err := f.svc.HandleJSON(ctx, "tab", c.id, c.command, []byte(c.body))
	if !errors.Is(err, signal.ErrForbidden) || signal.KindOf(err) != signal.KindForbidden || signal.KindOf(err).String() != "forbidden" {
		t.Fatalf("HandleJSON(%s, %s) = %v (kind %v), want ErrForbidden, code forbidden", c.command, c.body, err, signal.KindOf(err))
	}
	if msg := signal.PublicMessage(err); !strings.Contains(msg, c.command) || !strings.Contains(msg, "internal") {
		t.Errorf("message %q does not say %s is internal", msg, c.command)
	}
	if after := f.store.Counts(); after != before {
		t.Errorf("store requests for a forbidden command: %+v -> %+v", before, after)
	}
	if n := len(f.commits(t)); n != commits {
		t.Errorf("%d commits after a forbidden command, want %d", n, commits)
	}
}

// checkInternalFromGo: Go code sends internal commands (Comp to t-1, at
// a total of 5; OpenHouseTab creating house-1), and so do policies; a
// command that is not internal still goes through HandleJSON.
func checkInternalFromGo(t *testing.T, f *tabFixture) {
	t.Helper()
	ctx := t.Context()
	if tab, _, err := f.typed.Handle(ctx, "t-1", Comp{Amount: 2}); err != nil || tab.Total != 3 {
		t.Errorf("Comp from Go: %+v %v", tab, err)
	}
	if r, err := f.svc.Handle(ctx, "tab", "house-1", OpenHouseTab{Guest: "staff"}); err != nil || !r.Created {
		t.Errorf("OpenHouseTab from Go: %+v %v", r, err)
	}
	// So do policies: the drink of 12 is comped by one.
	if tab, _, err := f.typed.Handle(ctx, "t-1", AddDrink{Price: 12}); err != nil {
		t.Fatal(err)
	} else if tab, _, err = f.typed.Get(ctx, "t-1", signal.Fresh()); err != nil || tab.Total != 3+12-1 {
		t.Errorf("after the policy's Comp: %+v %v, want a total of 14", tab, err)
	}
	// A command that is not internal still goes through HandleJSON.
	if r, err := f.svc.HandleJSON(ctx, "tab", "t-2", "OpenTab", []byte(`{"guest":"bob"}`)); err != nil || !r.Created {
		t.Errorf("OpenTab through HandleJSON: %+v %v", r, err)
	}
}

// TestTerminalMark: a terminal event closes the stream: its commit is
// Final, the aggregate leaves the pool, every later command (and End) is
// ErrClosed here and in another process, and the state stays readable.
func TestTerminalMark(t *testing.T) {
	f := newTabFixture(t)
	ctx := t.Context()
	mustTab(t, f, "t-1", OpenTab{Guest: "ann"})
	mustTab(t, f, "t-1", AddDrink{Price: 4})
	r, err := f.svc.Handle(ctx, "tab", "t-1", Settle{})
	if err != nil || r.Version != 3 || r.Events[0].Name != "TabSettled" || r.Events[0].Data != (TabSettled{Total: 4}) {
		t.Fatalf("Settle: %+v %v", r, err)
	}
	commits := f.commits(t)
	for i, c := range commits {
		if want := i == len(commits)-1; c.Final != want {
			t.Errorf("commit %d: Final = %v, want %v", c.Version, c.Final, want)
		}
	}
	if n := f.svc.Stats().Evictions; n != 1 {
		t.Errorf("%d evictions: the ended tab must leave the pool", n)
	}
	for _, cmd := range []any{AddDrink{Price: 1}, Settle{}, OpenTab{Guest: "bob"}} {
		if _, err := f.svc.Handle(ctx, "tab", "t-1", cmd); !errors.Is(err, signal.ErrClosed) {
			t.Errorf("%T after the terminal event: %v, want ErrClosed", cmd, err)
		}
		if _, _, err := f.cold(t).Handle(ctx, "t-1", cmd); !errors.Is(err, signal.ErrClosed) {
			t.Errorf("%T on a cold process after the terminal event: %v, want ErrClosed", cmd, err)
		}
	}
	if _, err := f.svc.End(ctx, "tab", "t-1"); !errors.Is(err, signal.ErrClosed) {
		t.Errorf("End after the terminal event: %v, want ErrClosed", err)
	}
	st, err := f.svc.Get(ctx, "tab", "t-1")
	if err != nil || !st.Closed || st.Version != 3 || st.State != (Tab{ID: "t-1", Guest: "ann", Total: 4}) {
		t.Errorf("the ended tab stays readable: %+v %v", st, err)
	}
	if n := len(f.commits(t)); n != 3 {
		t.Errorf("%d commits, want 3", n)
	}
}

func mustTab(t testing.TB, f *tabFixture, id string, cmd any, opts ...signal.CommandOption) signal.Result {
	t.Helper()
	r, err := f.svc.Handle(t.Context(), "tab", id, cmd, opts...)
	if err != nil {
		t.Fatalf("handle %T on %s: %v", cmd, id, err)
	}
	return r
}

// TestServiceEnd: End appends the End rule's terminal event; a refusal of
// the rule is ErrRejected, a type without a rule ErrInvalid, both
// writing nothing; with a command id a repeat is the original outcome.
func TestServiceEnd(t *testing.T) {
	t.Run("with an End rule", testEndWithRule)
	t.Run("refused by the rule", testEndRefusedByRule)
	t.Run("without an End rule", testEndWithoutRule)
	t.Run("idempotent with a command id", testEndIdempotent)
}

func testEndWithRule(t *testing.T) {
	ctx := t.Context()
	f := newTabFixture(t)
	mustTab(t, f, "t-1", OpenTab{Guest: "ann"})
	tab, r, err := f.typed.End(ctx, "t-1")
	if err != nil || r.Version != 2 || len(r.Events) != 1 || r.Events[0].Name != "TabVoided" || r.Events[0].Data != (TabVoided{}) || tab != (Tab{ID: "t-1", Guest: "ann"}) {
		t.Fatalf("End = %+v %+v %v", tab, r, err)
	}
	if c := f.commits(t); len(c) != 2 || !c[1].Final {
		t.Fatalf("commits %+v, want the second Final", c)
	}
	if _, err := f.svc.Handle(ctx, "tab", "t-1", AddDrink{Price: 1}); !errors.Is(err, signal.ErrClosed) {
		t.Fatalf("a command after End: %v, want ErrClosed", err)
	}
}

func testEndRefusedByRule(t *testing.T) {
	ctx := t.Context()
	f := newTabFixture(t)
	mustTab(t, f, "t-1", OpenTab{Guest: "ann"})
	mustTab(t, f, "t-1", AddDrink{Price: 3})
	before := f.store.Counts().Appends
	_, err := f.svc.End(ctx, "tab", "t-1")
	if !errors.Is(err, signal.ErrRejected) || !errors.Is(err, errTabNotEmpty) || signal.PublicMessage(err) != errTabNotEmpty.Error() {
		t.Fatalf("End of a tab with drinks: %v, want ErrRejected with the rule's message", err)
	}
	if n := f.store.Counts().Appends; n != before {
		t.Fatalf("a refused End appended")
	}
	if tab, v, err := f.typed.Get(ctx, "t-1"); err != nil || v != 2 || tab.Total != 3 {
		t.Fatalf("after a refused End: %+v v%d %v", tab, v, err)
	}
}

func testEndWithoutRule(t *testing.T) {
	ctx := t.Context()
	f := newTabFixture(t, func(s *signal.Spec[Tab], _ *signal.Config) { s.End = signal.EndSpec[Tab]{} })
	mustTab(t, f, "t-1", OpenTab{Guest: "ann"})
	before := f.store.Counts()
	if _, err := f.svc.End(ctx, "tab", "t-1"); !errors.Is(err, signal.ErrInvalid) {
		t.Fatalf("End without an End rule: %v, want ErrInvalid", err)
	}
	if _, _, err := f.typed.End(ctx, "t-1"); !errors.Is(err, signal.ErrInvalid) {
		t.Fatalf("Aggregates.End without an End rule: %v, want ErrInvalid", err)
	}
	if after := f.store.Counts(); after != before {
		t.Fatalf("store requests: %+v -> %+v", before, after)
	}
}

func testEndIdempotent(t *testing.T) {
	ctx := t.Context()
	f := newTabFixture(t)
	mustTab(t, f, "t-1", OpenTab{Guest: "ann"})
	first, err := f.svc.End(ctx, "tab", "t-1", signal.WithCommandID("void-1"))
	if err != nil || first.Duplicate {
		t.Fatalf("End = %+v %v", first, err)
	}
	again, err := f.svc.End(ctx, "tab", "t-1", signal.WithCommandID("void-1"))
	if err != nil || !again.Duplicate || again.Version != first.Version || len(again.Events) != 1 || again.Events[0].ID != first.Events[0].ID {
		t.Fatalf("repeat = %+v %v, want the original outcome", again, err)
	}
	svc, _ := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
	cold, err := svc.End(ctx, "tab", "t-1", signal.WithCommandID("void-1"))
	if err != nil || !cold.Duplicate || cold.Events[0].ID != first.Events[0].ID {
		t.Fatalf("repeat on a cold process = %+v %v", cold, err)
	}
	if n := f.store.Counts().Appends; n != 2 {
		t.Fatalf("%d appends, want 2", n)
	}
	if _, err := f.svc.End(ctx, "tab", "t-1", signal.WithCommandID("void-2")); !errors.Is(err, signal.ErrClosed) {
		t.Fatalf("another End: %v, want ErrClosed", err)
	}
	if _, err := f.svc.Handle(ctx, "tab", "t-1", AddDrink{Price: 1}, signal.WithCommandID("void-1")); !errors.Is(err, signal.ErrIdempotencyKeyReused) {
		t.Fatalf("a command with the End's key: %v, want ErrIdempotencyKeyReused", err)
	}
}

// TestCreateWithGenesisMarks: when commands are marked Genesis, Create
// takes only those (an internal one included: Create is Go code), and
// refuses any other command with ErrInvalid before any I/O.
func TestCreateWithGenesisMarks(t *testing.T) {
	f := newTabFixture(t)
	ctx := t.Context()
	for _, cmd := range []any{AddDrink{Price: 1}, Comp{Amount: 1}, Settle{}} {
		before := f.store.Counts()
		_, err := f.svc.Create(ctx, "tab", "t-1", cmd)
		if !errors.Is(err, signal.ErrInvalid) || !strings.Contains(signal.PublicMessage(err), "cannot create") {
			t.Errorf("Create with %T: %v, want ErrInvalid", cmd, err)
		}
		if after := f.store.Counts(); after != before {
			t.Errorf("Create with %T used the store: %+v -> %+v", cmd, before, after)
		}
	}
	if _, err := f.svc.Create(ctx, "tab", "t-1", Deposit{Amount: 1}); !errors.Is(err, signal.ErrUnknownCommand) {
		t.Errorf("Create with another type's command: %v, want ErrUnknownCommand", err)
	}
	if tab, r, err := f.typed.Create(ctx, "t-1", OpenTab{Guest: "ann"}); err != nil || !r.Created || tab.Guest != "ann" {
		t.Errorf("Create with OpenTab: %+v %+v %v", tab, r, err)
	}
	if r, err := f.svc.Create(ctx, "tab", "house", OpenHouseTab{Guest: "staff"}); err != nil || !r.Created {
		t.Errorf("Create with the internal OpenHouseTab: %+v %v", r, err)
	}
	if _, err := f.svc.Create(ctx, "tab", "t-1", OpenTab{Guest: "ann"}); !errors.Is(err, signal.ErrExists) {
		t.Errorf("Create twice: %v, want ErrExists", err)
	}
	if n := len(f.commits(t)); n != 2 {
		t.Errorf("%d commits, want 2", n)
	}
}

// TestTypeDescribesItsRegistrations: Commands and Events list the
// registrations with their marks, in declaration order.
func TestTypeDescribesItsRegistrations(t *testing.T) {
	typ := signal.MustDefine(tabSpec())
	wantCommands := []signal.CommandInfo{
		{Name: "OpenTab", GoType: reflect.TypeFor[OpenTab](), Genesis: true},
		{Name: "OpenHouseTab", GoType: reflect.TypeFor[OpenHouseTab](), Genesis: true, Internal: true},
		{Name: "AddDrink", GoType: reflect.TypeFor[AddDrink]()},
		{Name: "Comp", GoType: reflect.TypeFor[Comp](), Internal: true},
		{Name: "Settle", GoType: reflect.TypeFor[Settle]()},
	}
	if got := typ.Commands(); !slices.Equal(got, wantCommands) {
		t.Errorf("Commands() = %+v\nwant %+v", got, wantCommands)
	}
	wantEvents := []signal.EventInfo{
		{Name: "TabOpened", GoType: reflect.TypeFor[TabOpened](), SchemaVersion: 1},
		{Name: "DrinkAdded", GoType: reflect.TypeFor[DrinkAdded](), SchemaVersion: 1},
		{Name: "Comped", GoType: reflect.TypeFor[Comped](), SchemaVersion: 1},
		{Name: "TabSettled", GoType: reflect.TypeFor[TabSettled](), SchemaVersion: 1, Terminal: true},
		{Name: "TabVoided", GoType: reflect.TypeFor[TabVoided](), SchemaVersion: 1, Terminal: true},
	}
	if got := typ.Events(); !slices.Equal(got, wantEvents) {
		t.Errorf("Events() = %+v\nwant %+v", got, wantEvents)
	}
	acc := signal.MustDefine(accountSpec())
	if got := acc.Events()[evDeposited]; got != (signal.EventInfo{Name: "Deposited", GoType: reflect.TypeFor[Deposited](), SchemaVersion: 2}) {
		t.Errorf("Deposited: %+v, want schema version 2", got)
	}
	// The answers are copies.
	typ.Commands()[0].Name = "changed"
	typ.Events()[0].Terminal = true
	if typ.Commands()[0].Name != "OpenTab" || typ.Events()[0].Terminal {
		t.Error("changing what Commands or Events returned changed the type")
	}
	if typ.Name() != "tab" {
		t.Errorf("Name() = %q", typ.Name())
	}
}

// TestFoldAndTo: Fold applies registered events as a load does and
// panics on any other value; To addresses a command.
func TestFoldAndTo(t *testing.T) {
	typ := signal.MustDefine(tabSpec())
	got := typ.Fold(typ.Initial("t-1"), TabOpened{Tab: "t-1", Guest: "ann"}, DrinkAdded{Price: 5}, Comped{Amount: 2})
	if got != (Tab{ID: "t-1", Guest: "ann", Total: 3}) {
		t.Errorf("Fold = %+v", got)
	}
	if got := typ.Fold(Tab{Total: 7}); got != (Tab{Total: 7}) {
		t.Errorf("Fold of no events = %+v", got)
	}
	for _, v := range []any{Deposited{Amount: 1}, &DrinkAdded{Price: 1}, AddDrink{Price: 1}, nil} {
		func() {
			defer func() {
				p := recover()
				if p == nil {
					t.Errorf("Fold(%T) did not panic", v)
				} else if msg := fmt.Sprint(p); !strings.Contains(msg, "tab has no event of Go type") {
					t.Errorf("Fold(%T) panicked with %q", v, msg)
				}
			}()
			typ.Fold(Tab{}, DrinkAdded{Price: 1}, v)
		}()
	}
	if s := typ.To("t-1", AddDrink{Price: 2}); s != (signal.Send{Type: "tab", ID: "t-1", Command: AddDrink{Price: 2}}) {
		t.Errorf("To = %+v", s)
	}
}

// TestEncodeCommit: the commit of events without a command, as a command
// would have appended it: names and schema versions from the
// registrations, new ids, Final with a terminal event; what it refuses.
func TestEncodeCommit(t *testing.T) {
	ctx := t.Context()
	acc := signal.MustDefine(accountSpec())
	start := time.Now().UTC().Truncate(time.Millisecond)
	c, err := signal.EncodeCommit(acc, "a1", 1, Opened{Owner: "ann"}, Deposited{Amount: 5})
	if err != nil {
		t.Fatal(err)
	}
	checkEncodedCommit(t, c, start)
	svc := checkEncodedAppends(t, acc, c)
	checkEncodeRefusals(t, acc)
	// Its JSON data is what a command's would be.
	r, err := newFixture(t).svc.Handle(ctx, "account", "a1", Open{Owner: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := svc.History(ctx, "account", "a1", 0, 1)
	want, _ := json.Marshal(r.Events[0].Data)
	if got, _ := json.Marshal(page.Events[0].Data); string(got) != string(want) {
		t.Errorf("EncodeCommit's event decodes to %s, a command's to %s", got, want)
	}
}

// checkEncodedCommit: c, encoded for account a1 at version 1 from Opened
// and Deposited at or after start, has their names, schema versions and
// JSON, new distinct ids, a time in whole milliseconds, and is valid.
func checkEncodedCommit(t *testing.T, c signal.Commit, start time.Time) {
	t.Helper()
	if c.Stream != (signal.StreamID{Type: "account", ID: "a1"}) || c.Version != 1 || c.Final || c.CommandID == "" || c.Fingerprint != "" {
		t.Errorf("commit %+v", c)
	}
	if c.Time.Before(start) || c.Time.After(time.Now()) || c.Time.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("commit time %v, want now in whole milliseconds", c.Time)
	}
	type shape struct {
		name    string
		version int
		data    string
	}
	var got []shape
	for _, e := range c.Events {
		got = append(got, shape{e.Name, e.SchemaVersion, string(e.Data)})
	}
	if want := []shape{{"Opened", 1, `{"owner":"ann"}`}, {"Deposited", 2, `{"amount":5}`}}; !slices.Equal(got, want) {
		t.Errorf("events %+v, want %+v", got, want)
	}
	if c.Events[0].ID == "" || c.Events[0].ID == c.Events[1].ID || c.Events[0].ID == c.CommandID {
		t.Errorf("ids: command %q, events %q and %q", c.CommandID, c.Events[0].ID, c.Events[1].ID)
	}
	if err := signal.ValidateCommit("test", &c); err != nil {
		t.Errorf("ValidateCommit: %v", err)
	}
}

// checkEncodedAppends: appended, c is history like any other; a commit
// with a terminal event is Final and closes the stream. It returns the
// service over the store c went to.
func checkEncodedAppends(t *testing.T, acc *signal.Type[Account], c signal.Commit) *signal.Service {
	t.Helper()
	ctx := t.Context()
	st := memstore.New()
	if err := st.Append(ctx, c); err != nil {
		t.Fatal(err)
	}
	svc, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{acc}})
	if a, v, err := signal.Bind(svc, acc).Get(ctx, "a1"); err != nil || v != 2 || a.Balance != 5 || a.Owner != "ann" {
		t.Fatalf("Get after appending it: %+v v%d %v", a, v, err)
	}
	final, err := signal.EncodeCommit(acc, "a1", 3, Withdrawn{Amount: 5}, AccountClosed{})
	if err != nil || !final.Final {
		t.Fatalf("a commit with a terminal event: %+v %v, want Final", final, err)
	}
	if err := st.Append(ctx, final); err != nil {
		t.Fatal(err)
	}
	if s, err := svc.Get(ctx, "account", "a1", signal.Fresh()); err != nil || !s.Closed || s.Version != 4 {
		t.Fatalf("after the Final commit: %+v %v", s, err)
	}
	if _, err := svc.Handle(ctx, "account", "a1", Deposit{Amount: 1}); !errors.Is(err, signal.ErrClosed) {
		t.Fatalf("a command after the Final commit: %v", err)
	}
	return svc
}

// checkEncodeRefusals: what EncodeCommit refuses, with the error's kind,
// and that a refused commit comes back empty.
func checkEncodeRefusals(t *testing.T, acc *signal.Type[Account]) {
	t.Helper()
	tooMany := make([]any, signal.MaxEventsPerCommit+1)
	for i := range tooMany {
		tooMany[i] = Deposited{Amount: 1}
	}
	for _, tc := range []struct {
		name    string
		id      string
		version int64
		events  []any
		want    *signal.Error
	}{
		{"empty id", "", 1, []any{Opened{}}, signal.ErrInvalid},
		{"id with #", "a#1", 1, []any{Opened{}}, signal.ErrInvalid},
		{"version 0", "a1", 0, []any{Opened{}}, signal.ErrInvalid},
		{"negative version", "a1", -1, []any{Opened{}}, signal.ErrInvalid},
		{"no events", "a1", 1, nil, signal.ErrInvalid},
		{"unregistered event type", "a1", 1, []any{Opened{}, Mystery{}}, signal.ErrUnknownEvent},
		{"pointer to an event", "a1", 1, []any{&Opened{}}, signal.ErrUnknownEvent},
		{"a command", "a1", 1, []any{Deposit{Amount: 1}}, signal.ErrUnknownEvent},
		{"another type's event", "a1", 1, []any{TabOpened{}}, signal.ErrUnknownEvent},
		{"too many events", "a1", 1, tooMany, signal.ErrTooLarge},
		{"too many bytes", "a1", 1, []any{Opened{Owner: strings.Repeat("o", signal.MaxCommitBytes)}}, signal.ErrTooLarge},
	} {
		c, err := signal.EncodeCommit(acc, tc.id, tc.version, tc.events...)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want kind %v", tc.name, err, tc.want.Kind)
		}
		if !reflect.DeepEqual(c, signal.Commit{}) {
			t.Errorf("%s: a refused commit came back with %+v", tc.name, c)
		}
	}
}
