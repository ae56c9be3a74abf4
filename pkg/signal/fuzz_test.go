package signal_test

import (
	"errors"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/signalforgo/signal/pkg/signal"
)

// FuzzHandleJSON: whatever the command name and body, HandleJSON returns a
// typed client error or a result, never panics, and refused input writes nothing.
func FuzzHandleJSON(f *testing.F) {
	f.Add("Deposit", []byte(`{"amount":5}`))
	f.Add("Deposit", []byte(`{"amount":-5}`))
	f.Add("Deposit", []byte(`{"amount":"5"}`))
	f.Add("Open", []byte(`{"owner":"\u00e9"}`))
	f.Add("Withdraw", []byte(`{"amount":1e400}`))
	f.Add("Nope", []byte(`{}`))
	f.Add("Deposit", []byte(`[`))
	f.Add("", []byte(nil))
	f.Add("Noop", []byte(`null`))
	f.Add("Open", []byte("{\"owner\":\"\xff\xfe\"}"))
	f.Add("Open", []byte(`{"owner":"\ud800"}`))
	f.Add("Open", []byte(`{"owner":"\udc00x"}`))
	f.Add("Open", []byte(`{"owner":"\ud83d\uded2"}`))
	f.Add("Open", []byte(`{"owner":"a","owner":"b"}`))
	f.Add("Deposit", []byte(`{"amount":1,"x":[{"k":1,"k":2}]}`))
	f.Fuzz(func(t *testing.T, command string, body []byte) {
		fx := newFixture(t)
		mustHandle(t, fx, "a1", Open{Owner: "ann"})
		before := fx.store.Counts().Appends
		r, err := fx.svc.HandleJSON(t.Context(), "account", "a1", command, body)
		if err != nil {
			switch signal.KindOf(err) {
			case signal.KindInvalid, signal.KindUnknownCommand, signal.KindRejected:
			default:
				t.Fatalf("%s %q: unexpected error kind %v: %v", command, body, signal.KindOf(err), err)
			}
			var se *signal.Error
			if !errors.As(err, &se) || signal.PublicMessage(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
			if fx.store.Counts().Appends != before {
				t.Fatal("refused input was appended")
			}
			return
		}
		if r.Version < 1 {
			t.Fatalf("result %+v", r)
		}
		// What is accepted is no body, or one strict JSON value (valid
		// UTF-8, no lone surrogate, no repeated name) other than null.
		if len(body) > 0 && (!jsontext.Value(body).IsValid() || jsontext.Value(body).Kind() == 'n') {
			t.Fatalf("%s accepted the body %q", command, body)
		}
	})
}

// FuzzValidateID: accepted ids are valid, bounded and free of separators.
func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"cart-1", "a#b", "ü", "", "a/b", "\x00", "\xff", ".", "..", "..."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if signal.ValidateID(id) != nil {
			return
		}
		if id == "" || len(id) > signal.MaxIDBytes || id == "." || id == ".." {
			t.Fatalf("accepted %q", id)
		}
		for _, r := range id {
			if r == '#' || r == '/' || r < 0x20 || r == 0xfffd && !containsReplacementChar(id) {
				t.Fatalf("accepted %q", id)
			}
		}
	})
}

func containsReplacementChar(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == 0xef && s[i+1] == 0xbf && s[i+2] == 0xbd {
			return true
		}
	}
	return false
}
