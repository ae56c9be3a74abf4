package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signalforgo/signal/internal/testbank"
	"github.com/signalforgo/signal/pkg/boltstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestParked: a rebuild over a stream its projection cannot process
// parks it and says so; `parked` lists it with its error; a replay
// of a parked stream whose cause is gone brings it up to date, one whose
// cause stays fails again and stays parked.
func TestParked(t *testing.T) {
	dir := t.TempDir()
	seedParked(t, dir)
	// cmd runs "bank <words> -data dir <args>".
	cmd := func(words string, args ...string) (int, string) {
		var out, errOut bytes.Buffer
		argv := append(append(strings.Fields(words), "-data", dir), args...)
		code := run(context.Background(), argv, &out, &errOut, env(nil))
		return code, out.String() + errOut.String()
	}

	code, out := cmd("rebuild", testbank.BalancesView)
	if code != 1 || !strings.Contains(out, "rebuilt view balances from 2 commits") || !strings.Contains(out, "1 stream(s) of view balances are parked") {
		t.Fatalf("rebuild over a poison commit: exit %d\n%s", code, out)
	}
	code, out = cmd("parked")
	for _, want := range []string{"balances", "account#bad", "MoneyTeleported", "welcome", "account#ok", "the letter box was full", "parked"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("parked: exit %d, no %q in\n%s", code, want, out)
		}
	}

	code, out = cmd("parked replay", "welcome", "account", "ok")
	if code != 0 || !strings.Contains(out, "welcome on account#ok: replayed, now at version 1") {
		t.Fatalf("replay of a fixed subscriber: exit %d\n%s", code, out)
	}
	code, out = cmd("parked replay")
	if code != 1 || !strings.Contains(out, "balances on account#bad: failed again, still parked") || !strings.Contains(out, "1 of 1 replays failed") {
		t.Fatalf("replay of everything parked: exit %d\n%s", code, out)
	}
	code, out = cmd("parked")
	if code != 0 || strings.Contains(out, "account#ok") || !strings.Contains(out, "account#bad") {
		t.Fatalf("parked after the replays: exit %d\n%s", code, out)
	}
	checkReplayRefusals(t, cmd)

	// The replayed policy sent its letter.
	ctx := t.Context()
	st, err := boltstore.Open(filepath.Join(dir, "signal.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := signal.New(testbank.App().Config(st, false))
	if err != nil {
		t.Fatal(err)
	}
	if letter, err := svc.Get(ctx, "letter", "ok"); err != nil || !strings.Contains(fmt.Sprint(letter.State), "welcome, ann") {
		t.Fatalf("letter/ok after the replay: %+v %v", letter, err)
	}
}

// seedParked writes the bank's store in dir, closed when it returns:
// account ok opened by ann, a commit to account bad of an event this
// deployment does not know, and welcome on ok parked for a cause now
// fixed.
func seedParked(t *testing.T, dir string) {
	t.Helper()
	ctx := t.Context()
	st, err := boltstore.Open(filepath.Join(dir, "signal.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := signal.New(testbank.App().Config(st, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := signal.Bind(svc, testbank.AccountType).Handle(ctx, "ok", testbank.Open{Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	// Written by a deployment that knows an event this one does not.
	poison := signal.Commit{Stream: signal.StreamID{Type: "account", ID: "bad"}, Version: 1, CommandID: "p", Time: time.Now().UTC(),
		Events: []signal.RawEvent{{ID: "e-p", Name: "MoneyTeleported", SchemaVersion: 1, Data: []byte(`{}`)}}}
	if err := st.Append(ctx, poison); err != nil {
		t.Fatal(err)
	}
	// welcome on "ok" was parked earlier for a cause now fixed.
	if err := st.RecordFailure(ctx, signal.Failure{Subscriber: "welcome", Stream: signal.StreamID{Type: "account", ID: "ok"},
		Version: 1, Attempts: 3, Parked: true, Error: "the letter box was full", Time: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkReplayRefusals: `parked replay` of an unknown subscriber, with
// one argument, or on an unknown type exits 2 and says why.
func checkReplayRefusals(t *testing.T, cmd func(words string, args ...string) (int, string)) {
	t.Helper()
	if code, out := cmd("parked replay", "no-such", "account", "ok"); code != 2 || !strings.Contains(out, "no subscriber") {
		t.Fatalf("replay of an unknown subscriber: exit %d\n%s", code, out)
	}
	if code, out := cmd("parked replay", "welcome"); code != 2 || !strings.Contains(out, "<subscriber> <type> <id>") {
		t.Fatalf("replay with one argument: exit %d\n%s", code, out)
	}
	if code, out := cmd("parked replay", "welcome", "cart", "ok"); code != 2 || !strings.Contains(out, `unknown aggregate type "cart" (types: account, letter)`) {
		t.Fatalf("replay on an unknown type: exit %d\n%s", code, out)
	}
}
