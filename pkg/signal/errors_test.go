package signal_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

func TestErrorMatching(t *testing.T) {
	inner := errors.New("dynamodb: ProvisionedThroughputExceededException: secret detail")
	err := fmt.Errorf("wrapped: %w", &signal.Error{Kind: signal.KindUnavailable, Op: "append", Message: "the store is busy", Err: inner})
	if !errors.Is(err, signal.ErrUnavailable) || errors.Is(err, signal.ErrConflict) {
		t.Fatal("Is must match by kind only")
	}
	if !errors.Is(err, inner) {
		t.Fatal("the cause must stay reachable for logs")
	}
	if signal.KindOf(err) != signal.KindUnavailable || signal.KindOf(inner) != signal.KindInternal || signal.KindOf(nil) != signal.KindNone {
		t.Fatal("KindOf")
	}
	if msg := signal.PublicMessage(err); msg != "the store is busy" {
		t.Fatalf("public message %q", msg)
	}
	leak := &signal.Error{Kind: signal.KindInternal, Message: "nil pointer in foo.go:12", Err: inner}
	if msg := signal.PublicMessage(leak); strings.Contains(msg, "foo.go") || strings.Contains(signal.PublicMessage(inner), "secret") {
		t.Fatalf("internal details leaked: %q", msg)
	}
	ce := signal.AppendConflict("memstore.Append", signal.StreamID{Type: "t", ID: "i"}, 1, nil)
	if !errors.Is(ce, signal.ErrConflict) || !errors.Is(ce, signal.ErrExists) || signal.KindOf(ce) != signal.KindConflict {
		t.Fatal("a conflict at version 1 is a conflict and an 'exists'")
	}
	if c, ok := signal.ConflictOf(fmt.Errorf("wrapped: %w", ce)); !ok || c.Version != 1 {
		t.Fatalf("ConflictOf(wrapped conflict) = %+v, %v", c, ok)
	}
	if errors.Is(signal.AppendConflict("memstore.Append", signal.StreamID{Type: "t", ID: "i"}, 2, nil), signal.ErrExists) {
		t.Fatal("a conflict at version 2 is not an 'exists'")
	}
	if _, ok := signal.ConflictOf(signal.CheckpointMoved("memstore.SaveCheckpoint", signal.StreamID{Type: "t", ID: "i"})); ok {
		t.Fatal("a conflict that is not Append's has no Conflict")
	}
	domain := errors.New("insufficient funds")
	refused := &signal.Error{Kind: signal.KindRejected, Op: "signal.Handle", Message: domain.Error(), Err: domain}
	if got := refused.Error(); got != "signal.Handle: insufficient funds" || !errors.Is(refused, domain) {
		t.Fatalf("a refusal reads %q; its message is its cause's, said once", got)
	}
	specific := signal.Errorf(signal.KindNotFound, "op", "no such thing")
	//lint:ignore SA1032 the order is the point: a sentinel is not an instance of a specific error
	if errors.Is(signal.ErrNotFound, specific) {
		t.Fatal("only sentinels match a whole kind")
	}
	// Sentinels are identity values: a look-alike is not one.
	lookalike := &signal.Error{Kind: signal.KindNotFound}
	if !errors.Is(lookalike, signal.ErrNotFound) || errors.Is(specific, lookalike) {
		t.Fatal("a look-alike of a sentinel matches only itself")
	}
	for k := signal.KindNone; k <= signal.KindUnauthenticated; k++ {
		if s := k.String(); s == "" || strings.HasPrefix(s, "kind(") {
			t.Fatalf("kind %d has no code", k)
		}
	}
}

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	prev := ""
	for range 10_000 {
		id := signal.NewID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		if id[:8] < prev[:min(8, len(prev))] {
			t.Fatalf("ids must be time-ordered by their first bytes: %s after %s", id, prev)
		}
		seen[id], prev = true, id
	}
}

func TestValidateID(t *testing.T) {
	for id, ok := range map[string]bool{
		"cart-1": true, "ünïcødé-購物車": true, "with space": true, "emoji-🛒": true, "a.b_c~d": true,
		strings.Repeat("x", signal.MaxIDBytes): true,
		"":                                     false, "a#b": false, "a/b": false, "tab\t": false, "nul\x00": false, "del\x7f": false,
		"bad\xffutf8": false, strings.Repeat("x", signal.MaxIDBytes+1): false, "c1\u0085": false,
	} {
		err := signal.ValidateID(id)
		if (err == nil) != ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", id, err, ok)
		}
		if err != nil && !errors.Is(err, signal.ErrInvalid) {
			t.Errorf("ValidateID(%q) = %v, not ErrInvalid", id, err)
		}
	}
	for name, ok := range map[string]bool{"cart": true, "order-v2": true, "cart.summary_1": true, "": false, "1cart": false, "a b": false, "ä": false, strings.Repeat("n", 65): false} {
		if err := signal.ValidateName(name); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

// Reopen and Renamed are Go types the account does not register, for the
// tests of Define's refusals.
type Reopen struct{}
type Renamed struct{}

// TestDefineValidates: Define refuses a spec it cannot run, and says why.
func TestDefineValidates(t *testing.T) {
	up := renameField("amt", "amount")
	cases := []struct {
		name   string
		mutate func(*signal.Spec[Account])
		want   string // in the error
	}{
		{"bad type name", func(s *signal.Spec[Account]) { s.Name = "bad name" }, "type name"},
		{"no type name", func(s *signal.Spec[Account]) { s.Name = "" }, "type name"},
		{"no commands", func(s *signal.Spec[Account]) { s.Commands = nil }, "at least one command"},
		{"no events", func(s *signal.Spec[Account]) { s.Events = nil }, "one event"},
		{"nil Decide handler", func(s *signal.Spec[Account]) {
			s.Commands[cmdDeposit] = signal.Decide[Account, Deposit]("Deposit", nil)
		}, "command 1 has no handler"},
		{"zero CommandSpec", func(s *signal.Spec[Account]) {
			s.Commands = append(s.Commands, signal.CommandSpec[Account]{})
		}, "command 4 has no handler"},
		{"nil Evolve handler", func(s *signal.Spec[Account]) {
			s.Events[evWithdrawn] = signal.Evolve[Account, Withdrawn]("Withdrawn", nil)
		}, "event 2 has no handler"},
		{"zero EventSpec", func(s *signal.Spec[Account]) {
			s.Events = append(s.Events, signal.EventSpec[Account]{})
		}, "event 4 has no handler"},
		{"nil End handler", func(s *signal.Spec[Account]) {
			s.End = signal.EndWith[Account, AccountClosed](nil)
		}, "End rule has no handler"},
		{"command name twice", func(s *signal.Spec[Account]) {
			s.Commands = append(s.Commands, signal.Decide("Open", func(Account, Reopen) ([]any, error) { return nil, nil }))
		}, `command "Open" (signal_test.Reopen) registered twice`},
		{"command Go type twice", func(s *signal.Spec[Account]) {
			s.Commands = append(s.Commands, signal.Decide("OpenAgain", openAccount))
		}, `command "OpenAgain" (signal_test.Open) registered twice`},
		{"event name twice", func(s *signal.Spec[Account]) {
			s.Events = append(s.Events, signal.Evolve("Opened", func(a Account, _ Renamed) Account { return a }))
		}, `event "Opened" (signal_test.Renamed) registered twice`},
		{"event Go type twice", func(s *signal.Spec[Account]) {
			s.Events = append(s.Events, signal.Evolve("Opened2", opened))
		}, `event "Opened2" (signal_test.Opened) registered twice`},
		{"invalid command name", func(s *signal.Spec[Account]) {
			s.Commands[cmdNoop] = signal.Decide("No op", noop)
		}, "command: name"},
		{"empty command name", func(s *signal.Spec[Account]) { s.Commands[cmdNoop] = signal.Decide("", noop) }, "command: name"},
		{"command name with a slash", func(s *signal.Spec[Account]) { s.Commands[cmdNoop] = signal.Decide("a/b", noop) }, "command: name"},
		{"invalid event name", func(s *signal.Spec[Account]) { s.Events[evOpened] = signal.Evolve("Opened!", opened) }, "event: name"},
		{"empty event name", func(s *signal.Spec[Account]) { s.Events[evOpened] = signal.Evolve("", opened) }, "event: name"},
		{"schema version without upcasters", func(s *signal.Spec[Account]) {
			s.Events[evDeposited] = signal.Evolve("Deposited", deposited, signal.SchemaVersion(2))
		}, "no upcaster from schema version 1"},
		{"schema version with a gap in the chain", func(s *signal.Spec[Account]) {
			s.Events[evDeposited] = signal.Evolve("Deposited", deposited, signal.SchemaVersion(3), signal.UpcastFrom(1, up))
		}, "no upcaster from schema version 2"},
		{"nil upcaster", func(s *signal.Spec[Account]) {
			s.Events[evDeposited] = signal.Evolve("Deposited", deposited, signal.SchemaVersion(2), signal.UpcastFrom(1, nil))
		}, "no upcaster from schema version 1"},
		{"upcaster from the current version", func(s *signal.Spec[Account]) {
			s.Events[evDeposited] = signal.Evolve("Deposited", deposited, signal.SchemaVersion(2), signal.UpcastFrom(1, up), signal.UpcastFrom(2, up))
		}, "upcaster from schema version 2, outside 1 to 1"},
		{"upcaster from version 0", func(s *signal.Spec[Account]) {
			s.Events[evDeposited] = signal.Evolve("Deposited", deposited, signal.SchemaVersion(2), signal.UpcastFrom(1, up), signal.UpcastFrom(0, up))
		}, "upcaster from schema version 0"},
		{"upcaster on a version 1 event", func(s *signal.Spec[Account]) {
			s.Events[evOpened] = signal.Evolve("Opened", opened, signal.UpcastFrom(1, up))
		}, "upcaster from schema version 1, outside 1 to 0"},
		{"schema version 0", func(s *signal.Spec[Account]) {
			s.Events[evOpened] = signal.Evolve("Opened", opened, signal.SchemaVersion(0))
		}, "schema version 0 < 1"},
		{"negative schema version", func(s *signal.Spec[Account]) {
			s.Events[evOpened] = signal.Evolve("Opened", opened, signal.SchemaVersion(-1))
		}, "schema version -1 < 1"},
		{"negative snapshots", func(s *signal.Spec[Account]) { s.SnapshotEvery = -1 }, "SnapshotEvery"},
		{"End rule of an unregistered event", func(s *signal.Spec[Account]) {
			s.End = signal.EndWith(func(Account) (Renamed, error) { return Renamed{}, nil })
		}, "the End rule returns signal_test.Renamed, which is not an event registered Terminal"},
		{"End rule of a non-terminal event", func(s *signal.Spec[Account]) {
			s.End = signal.EndWith(func(Account) (Withdrawn, error) { return Withdrawn{}, nil })
		}, "the End rule returns signal_test.Withdrawn, which is not an event registered Terminal"},
		{"End rule of an event no longer Terminal", func(s *signal.Spec[Account]) {
			s.Events[evAccountClosed] = signal.Evolve("AccountClosed", accountClosed)
		}, "the End rule returns signal_test.AccountClosed, which is not an event registered Terminal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := accountSpec()
			c.mutate(&spec)
			typ, err := signal.Define(spec)
			if err == nil {
				t.Fatalf("Define accepted it: %v", typ)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Define = %q, want it to say %q", err, c.want)
			}
			func() {
				defer func() {
					if recover() == nil {
						t.Error("MustDefine did not panic")
					}
				}()
				signal.MustDefine(spec)
			}()
		})
	}
	if _, err := signal.Define(accountSpec()); err != nil {
		t.Fatal(err)
	}
}

// TestMissingAbilities: a Service whose store lacks an ability answers
// the operations that need it with ErrUnsupported (a configuration
// error, HTTP 501), not ErrNotFound or ErrInvalid, and reads nothing.
func TestMissingAbilities(t *testing.T) {
	typ := signal.MustDefine(accountSpec())
	svc, err := signal.New(signal.Config{Store: bareStore{memstore.New()}, Types: []signal.AggregateType{typ}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	_, viewErr := svc.View(ctx, "balances", "a1")
	_, failErr := svc.Failures(ctx)
	for name, err := range map[string]error{
		"View":     viewErr,
		"Snapshot": svc.Snapshot(ctx, "account", "a1"),
		"Failures": failErr,
	} {
		if !errors.Is(err, signal.ErrUnsupported) || errors.Is(err, signal.ErrNotFound) || signal.PublicMessage(err) == "internal error" {
			t.Errorf("%s without the ability = %v (kind %s), want ErrUnsupported with a message", name, err, signal.KindOf(err))
		}
	}
}
