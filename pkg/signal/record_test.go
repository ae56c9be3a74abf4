package signal_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestValidateIDDotSegments: "." and ".." cannot be ids: URL resolution
// (RFC 3986) removes them from paths, so clients, proxies and gateways
// cannot address such an aggregate or view key. Longer runs of dots and
// dots beside other characters are ordinary ids.
func TestValidateIDDotSegments(t *testing.T) {
	for id, ok := range map[string]bool{
		".": false, "..": false,
		"...": true, ".a": true, "a.": true, "..a": true, "a..b": true, ". .": true, "…": true,
	} {
		err := signal.ValidateID(id)
		if (err == nil) != ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", id, err, ok)
		}
		if err != nil && (!errors.Is(err, signal.ErrInvalid) || !strings.Contains(signal.PublicMessage(err), `"."`)) {
			t.Errorf("ValidateID(%q) = %v, want ErrInvalid naming . and ..", id, err)
		}
	}
	f := newFixture(t)
	for _, id := range []string{".", ".."} {
		if _, err := f.svc.Handle(t.Context(), "account", id, Open{Owner: "ann"}); !errors.Is(err, signal.ErrInvalid) {
			t.Errorf("Handle on %q: %v, want ErrInvalid", id, err)
		}
	}
	if n := f.store.Counts().Appends; n != 0 {
		t.Errorf("%d appends", n)
	}
}

// validCommit is a commit ValidateCommit accepts, with every field set.
func validCommit() signal.Commit {
	return signal.Commit{Stream: signal.StreamID{Type: "account", ID: "a1"}, Version: 3,
		CommandID: signal.NewID(), Fingerprint: "q1Zb0yJ4dXvWk3-_8aQy7w", CorrelationID: signal.NewID(), CausationID: signal.NewID(),
		Events: []signal.RawEvent{
			{ID: signal.NewID(), Name: "Deposited", SchemaVersion: 2, Data: []byte(`{"amount":1}`)},
			{ID: signal.NewID(), Name: "Withdrawn", SchemaVersion: 1, Data: []byte(`{"amount":1}`)},
		}}
}

// TestValidateCommitNamesTheField: each id and name a store must hold is
// checked, and the refusal says which one, so a caller can tell which of
// its values to fix.
func TestValidateCommitNamesTheField(t *testing.T) {
	long := strings.Repeat("x", signal.MaxIDBytes+1)
	for _, tc := range []struct {
		field  string // in the message
		mutate func(c *signal.Commit)
	}{
		{"command id", func(c *signal.Commit) { c.CommandID = "" }},
		{"command id", func(c *signal.Commit) { c.CommandID = long }},
		{"fingerprint", func(c *signal.Commit) { c.Fingerprint = "\x00" }},
		{"correlation id", func(c *signal.Commit) { c.CorrelationID = "\xff" }},
		{"causation id", func(c *signal.Commit) { c.CausationID = "a\u0085" }},
		{"id of event 1", func(c *signal.Commit) { c.Events[1].ID = "" }},
		{"id of event 0", func(c *signal.Commit) { c.Events[0].ID = long }},
		{"name of event 1", func(c *signal.Commit) { c.Events[1].Name = "Bad Name" }},
		{"name of event 0", func(c *signal.Commit) { c.Events[0].Name = "" }},
	} {
		c := validCommit()
		tc.mutate(&c)
		err := signal.ValidateCommit("test.append", &c)
		if !errors.Is(err, signal.ErrInvalid) || !strings.Contains(signal.PublicMessage(err), "invalid "+tc.field+":") {
			t.Errorf("ValidateCommit with a bad %s = %v, want ErrInvalid saying \"invalid %s: ...\"", tc.field, err, tc.field)
		}
		// ContainsAny reads its set as runes, where a raw \xff is not a
		// byte; the byte is looked for on its own.
		if msg := signal.PublicMessage(err); strings.ContainsAny(msg, "\x00\u0085") || strings.IndexByte(msg, 0xff) >= 0 {
			t.Errorf("the message %q repeats a control character or invalid UTF-8 raw", signal.PublicMessage(err))
		}
	}
	c := validCommit()
	if err := signal.ValidateCommit("test.append", &c); err != nil {
		t.Errorf("ValidateCommit of a valid commit = %v", err)
	}
	c.Fingerprint, c.CorrelationID, c.CausationID = "", "", ""
	if err := signal.ValidateCommit("test.append", &c); err != nil {
		t.Errorf("ValidateCommit without the optional ids = %v", err)
	}
}

// TestCallerIDsCheckedBeforeIO: a command id, correlation id or causation
// id the caller chose that a store would refuse fails the command with
// ErrInvalid before the Service reads or writes anything; one any store
// takes goes through and is recorded as given. The Service's own ids
// (generated ones, a policy's, request ids) are what ValidateCommit
// accepts.
func TestCallerIDsCheckedBeforeIO(t *testing.T) {
	ctx := t.Context()
	long := strings.Repeat("k", signal.MaxIDBytes+1)
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		opt  signal.CommandOption
		want string
	}{
		{"command id with NUL", signal.WithCommandID("k\x00"), "invalid command id"},
		{"command id with a newline", signal.WithCommandID("k\n"), "invalid command id"},
		{"command id of invalid UTF-8", signal.WithCommandID("k\xff"), "invalid command id"},
		{"long command id", signal.WithCommandID(long), "invalid command id"},
		{"correlation id with a tab", signal.WithCorrelation("c\t", ""), "invalid correlation id"},
		{"long correlation id", signal.WithCorrelation(long, ""), "invalid correlation id"},
		{"causation id with ESC", signal.WithCorrelation("", "\x1b"), "invalid causation id"},
		{"causation id of invalid UTF-8", signal.WithCorrelation("c", "\xc3\x28"), "invalid causation id"},
	} {
		for what, run := range map[string]func() error{
			"Handle": func() error { _, err := f.svc.Handle(ctx, "account", "a1", Open{Owner: "ann"}, tc.opt); return err },
			"End":    func() error { _, err := f.svc.End(ctx, "account", "a1", tc.opt); return err },
		} {
			err := run()
			if !errors.Is(err, signal.ErrInvalid) || !strings.Contains(signal.PublicMessage(err), tc.want) {
				t.Errorf("%s with a %s = %v, want ErrInvalid saying %q", what, tc.name, err, tc.want)
			}
		}
	}
	if c := f.store.Counts(); c != (memstore.Counts{}) {
		t.Errorf("refused commands used the store: %+v", c)
	}

	// What stores take goes through: separators, dots and Unicode are
	// fine outside keys and paths, and MaxIDBytes is the limit.
	limit := strings.Repeat("ü", signal.MaxIDBytes/2)
	for i, tc := range []struct{ command, correlation, causation string }{
		{"a#b/c", "..", "."},
		{limit, limit, limit},
		{"Idempotency-Key 購物車 🛒", "", "cause"},
	} {
		id := fmt.Sprint("ok-", i)
		mustHandle(t, f, id, Open{Owner: "ann"}, signal.WithCommandID(tc.command), signal.WithCorrelation(tc.correlation, tc.causation))
		page, err := f.svc.History(ctx, "account", id, 0, 10)
		if err != nil || len(page.Events) != 1 {
			t.Fatalf("History(%s) = %+v, %v", id, page, err)
		}
		e := page.Events[0]
		if e.CommandID != tc.command || e.CorrelationID != tc.correlation || e.CausationID != tc.causation {
			t.Errorf("recorded ids %q, %q, %q; want %q, %q, %q", e.CommandID, e.CorrelationID, e.CausationID, tc.command, tc.correlation, tc.causation)
		}
		// The same key again is the same request: answered, not refused.
		if r := mustHandle(t, f, id, Open{Owner: "ann"}, signal.WithCommandID(tc.command)); !r.Duplicate {
			t.Errorf("repeat of command id %q: not a duplicate", tc.command)
		}
	}
}
