package signal_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

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
	if signal.KindOf(err) != signal.KindUnavailable || signal.KindOf(inner) != signal.KindInternal || signal.KindOf(nil) != signal.KindInternal {
		t.Fatal("KindOf")
	}
	if msg := signal.PublicMessage(err); msg != "the store is busy" {
		t.Fatalf("public message %q", msg)
	}
	leak := &signal.Error{Kind: signal.KindInternal, Message: "nil pointer in foo.go:12", Err: inner}
	if msg := signal.PublicMessage(leak); strings.Contains(msg, "foo.go") || strings.Contains(signal.PublicMessage(inner), "secret") {
		t.Fatalf("internal details leaked: %q", msg)
	}
	ce := &signal.ConflictError{Stream: signal.StreamID{Type: "t", ID: "i"}, Version: 1}
	if !errors.Is(ce, signal.ErrConflict) || !errors.Is(ce, signal.ErrExists) || signal.KindOf(ce) != signal.KindConflict {
		t.Fatal("a conflict at version 1 is a conflict and an 'exists'")
	}
	ce.Version = 2
	if errors.Is(ce, signal.ErrExists) {
		t.Fatal("a conflict at version 2 is not an 'exists'")
	}
	specific := signal.Errorf(signal.KindNotFound, "op", "no such thing")
	if errors.Is(signal.ErrNotFound, specific) {
		t.Fatal("only sentinels match a whole kind")
	}
	for k := signal.KindInternal; k <= signal.KindUnavailable; k++ {
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

func TestDefineValidates(t *testing.T) {
	cases := map[string]func(*signal.Spec[Account]){
		"bad name":          func(s *signal.Spec[Account]) { s.Name = "bad name" },
		"no decide":         func(s *signal.Spec[Account]) { s.Decide = nil },
		"no evolve":         func(s *signal.Spec[Account]) { s.Evolve = nil },
		"no events":         func(s *signal.Spec[Account]) { s.Events = nil },
		"duplicate event":   func(s *signal.Spec[Account]) { s.Events = append(s.Events, signal.EventOf[Opened]("Opened2")) },
		"duplicate command": func(s *signal.Spec[Account]) { s.Commands = append(s.Commands, signal.CommandOf[Noop]("Open")) },
		"missing upcaster": func(s *signal.Spec[Account]) {
			s.Events[1] = signal.EventOf[Deposited]("Deposited", signal.SchemaVersion(3))
		},
		"negative snapshots":  func(s *signal.Spec[Account]) { s.SnapshotEvery = -1 },
		"invalid event name":  func(s *signal.Spec[Account]) { s.Events[0] = signal.EventOf[Opened]("Opened!") },
		"invalid schema ver.": func(s *signal.Spec[Account]) { s.Events[0] = signal.EventOf[Opened]("Opened", signal.SchemaVersion(0)) },
	}
	for name, mutate := range cases {
		spec := accountSpec()
		mutate(&spec)
		if _, err := signal.Define(spec); err == nil {
			t.Errorf("%s: Define accepted it", name)
		}
	}
	if _, err := signal.Define(accountSpec()); err != nil {
		t.Fatal(err)
	}
}
