package cli_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalforgo/signal/internal/testbank"
	"github.com/signalforgo/signal/pkg/boltstore"
	"github.com/signalforgo/signal/pkg/cli"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestEventsIgnoresTheRule: `events` is the operator's view of the
// store, which the operator reads directly anyway: the app's rule, made
// for API callers, does not stop it (it answered 401 for an owned
// aggregate, having no caller).
func TestEventsIgnoresTheRule(t *testing.T) {
	dir := t.TempDir()
	app := testbank.App()
	app.Authorize = testbank.OwnersOnly
	st, err := boltstore.Open(filepath.Join(dir, "signal.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := signal.New(app.Config(st, false))
	if err != nil {
		t.Fatal(err)
	}
	ann := signal.WithPrincipal(t.Context(), &signal.Principal{Subject: "ann"})
	if _, err := svc.HandleJSON(ann, "account", "a1", "Open", []byte(`{"owner":"ann"}`)); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := cli.Run(t.Context(), app, []string{"events", "-data", dir, "account", "a1"}, &out, &errOut, env(nil))
	if code != 0 || !strings.Contains(out.String(), `"name":"Opened"`) || !strings.Contains(out.String(), `"actor":"ann"`) {
		t.Fatalf("events of ann's account: %d %s %s", code, out.String(), errOut.String())
	}
}
