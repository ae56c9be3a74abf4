package signal_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// TestHandleJSONBodies: a command body must be one strict JSON value of
// the command's shape. null, invalid UTF-8, escapes of lone surrogates
// and repeated member names are refused (encoding/json would take null
// for {}, replace the bad text with U+FFFD and keep the last of the
// repeats), with ErrInvalid and a message saying what is wrong, and
// nothing is written. An empty body is the command {}.
func TestHandleJSONBodies(t *testing.T) {
	f := newFixture(t)
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	before := f.store.Counts().Appends
	refused := []refusedBody{
		{"null", "Noop", `null`, "null"},
		{"null with spaces", "Deposit", " \n null\t", "null"},
		{"array", "Noop", `[]`, "JSON object"},
		{"string", "Noop", `"x"`, "JSON object"},
		{"number", "Noop", `1`, "JSON object"},
		{"invalid UTF-8 in a value", "Open", "{\"owner\":\"a\xff\xfeb\"}", "UTF-8"},
		{"invalid UTF-8 in a name", "Open", "{\"own\xffer\":\"a\"}", "UTF-8"},
		{"truncated UTF-8", "Open", "{\"owner\":\"\xe2\x82\"}", "UTF-8"},
		{"lone high surrogate", "Open", `{"owner":"\ud800"}`, "surrogate"},
		{"lone low surrogate", "Open", `{"owner":"\udc00"}`, "surrogate"},
		{"high surrogate then text", "Open", `{"owner":"\ud83dx"}`, "surrogate"},
		{"reversed pair", "Open", `{"owner":"\ude00\ud83d"}`, "surrogate"},
		{"duplicate name", "Open", `{"owner":"a","owner":"b"}`, "more than once"},
		{"duplicate name, escaped", "Open", `{"owner":"a","\u006fwner":"b"}`, "more than once"},
		{"duplicate in a nested object", "Deposit", `{"amount":1,"meta":{"k":1,"k":2}}`, "more than once"},
		{"duplicate in an array element", "Deposit", `{"amount":1,"list":[{"k":1,"k":2}]}`, "more than once"},
		{"malformed JSON", "Deposit", `{"amount":`, "invalid JSON"},
		{"trailing value", "Deposit", `{"amount":1} {}`, "invalid JSON"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) { checkRefusedBody(t, f, c) })
	}
	if n := f.store.Counts().Appends; n != before {
		t.Fatalf("refused bodies appended %d commits", n-before)
	}

	accepted := []acceptedBody{
		{"empty body is {}", "Noop", ``, ""},
		{"object", "Deposit", `{"amount":2}`, ""},
		{"unicode", "Open", `{"owner":"été 購物車"}`, "été 購物車"},
		{"escaped surrogate pair", "Open", `{"owner":"\ud83d\uded2"}`, "🛒"},
		{"escaped U+FFFD is a real character", "Open", `{"owner":"\ufffd"}`, "\ufffd"},
		{"same name in sibling objects", "Deposit", `{"amount":1,"a":{"k":1},"b":{"k":1}}`, ""},
	}
	for i, c := range accepted {
		t.Run(c.name, func(t *testing.T) { checkAcceptedBody(t, f, "ok-"+string(rune('a'+i)), c) })
	}
}

// refusedBody is a command body HandleJSON refuses, and a part of the
// message that says why.
type refusedBody struct {
	name, command, body, msg string
}

// checkRefusedBody: HandleJSON of c's body to account a1, and
// DecodeCommand of it, are ErrInvalid, with a valid UTF-8 message that
// names the command and says why.
func checkRefusedBody(t *testing.T, f *fixture, c refusedBody) {
	ctx := t.Context()
	_, err := f.svc.HandleJSON(ctx, "account", "a1", c.command, []byte(c.body))
	if !errors.Is(err, signal.ErrInvalid) {
		t.Fatalf("HandleJSON(%q) = %v, want ErrInvalid", c.body, err)
	}
	msg := signal.PublicMessage(err)
	if !strings.Contains(msg, c.msg) || !strings.Contains(msg, c.command) {
		t.Errorf("message %q does not name the command and %q", msg, c.msg)
	}
	if !utf8Valid(msg) {
		t.Errorf("message %q is not valid UTF-8", msg)
	}
	if _, err := f.svc.DecodeCommand("account", c.command, []byte(c.body)); !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("DecodeCommand(%q) = %v, want ErrInvalid", c.body, err)
	}
}

// acceptedBody is a command body HandleJSON takes, and for Open the
// owner it decodes to.
type acceptedBody struct {
	name, command, body, owner string
}

// checkAcceptedBody: HandleJSON of c's body to account id (opened first
// unless c's command is Open) succeeds, and an Open decodes to c's owner.
func checkAcceptedBody(t *testing.T, f *fixture, id string, c acceptedBody) {
	ctx := t.Context()
	if c.command != "Open" {
		mustHandle(t, f, id, Open{Owner: "ann"})
	}
	if _, err := f.svc.HandleJSON(ctx, "account", id, c.command, []byte(c.body)); err != nil {
		t.Fatalf("HandleJSON(%q): %v", c.body, err)
	}
	if c.command == "Open" {
		cmd, err := f.svc.DecodeCommand("account", "Open", []byte(c.body))
		if err != nil || cmd != (Open{Owner: c.owner}) {
			t.Errorf("decoded %#v, %v; want owner %q", cmd, err, c.owner)
		}
	}
}

// TestUnknownCommandNameBounded: an unknown command's name is echoed
// only in part, so a client cannot make the answer as long as its input.
func TestUnknownCommandNameBounded(t *testing.T) {
	f := newFixture(t)
	name := strings.Repeat("N", 8000)
	_, err := f.svc.HandleJSON(t.Context(), "account", "a1", name, []byte(`{}`))
	if !errors.Is(err, signal.ErrUnknownCommand) {
		t.Fatalf("got %v, want ErrUnknownCommand", err)
	}
	msg := signal.PublicMessage(err)
	if len(msg) > 200 || !strings.Contains(msg, strings.Repeat("N", 128)+"…") {
		t.Errorf("message of %d bytes: %.300q", len(msg), msg)
	}
	if len(err.Error()) > 300 {
		t.Errorf("Error() of %d bytes", len(err.Error()))
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\x00") == s }
