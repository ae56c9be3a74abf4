package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/signalforgo/signal/internal/testbank"
	"github.com/signalforgo/signal/pkg/cli"
	"github.com/signalforgo/signal/pkg/console"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestUsage: command line problems exit 2 with the reason and the usage
// text; help lists the app's types, views and subscribers.
func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	cases := []struct {
		args []string
		code int
		in   string
	}{
		{nil, 2, "Usage"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"events", "account"}, 2, "takes 2 argument(s)"},
		{[]string{"events", "-data", t.TempDir(), "cart", "c1"}, 2, `unknown aggregate type "cart" (types: account, letter)`},
		{[]string{"rebuild", "no-such-view", "-data", t.TempDir()}, 2, "takes 1 argument"},
		{[]string{"rebuild", "-data", t.TempDir(), "no-such-view"}, 2, `no view "no-such-view" (views: balances)`},
		{[]string{"table"}, 2, "bank table create"},
		{[]string{"dev", "-nope"}, 2, "flag provided but not defined"},
		{[]string{"dev", "-allow-origin", "*"}, 2, "no wildcard"},
		{[]string{"dev", "-allow-origin", "localhost:3000"}, 2, "not an origin"},
		{[]string{"dev", "-allow-origin", "http://localhost:3000/app"}, 2, "not an origin"},
		{[]string{"dev", "-allow-host", ""}, 2, "empty value"},
		{[]string{"dev", "-postgres", "postgres://x", "-dynamodb-endpoint", "http://127.0.0.1:1"}, 2, "not both"},
		{[]string{"table", "create", "-data", t.TempDir()}, 2, "needs -dynamodb-endpoint"},
		{[]string{"parked", "replay", "-data", t.TempDir(), "balances"}, 2, "<subscriber> <type> <id>"},
	}
	for _, c := range cases {
		out.Reset()
		errOut.Reset()
		if code := run(t.Context(), c.args, &out, &errOut, env(nil)); code != c.code || !strings.Contains(errOut.String(), c.in) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", c.args, code, errOut.String(), c.code, c.in)
		}
	}
	// A bad flag is reported once, not also by the flag package.
	errOut.Reset()
	run(t.Context(), []string{"dev", "-nope"}, &out, &errOut, env(nil))
	if n := strings.Count(errOut.String(), "flag provided but not defined"); n != 1 {
		t.Errorf("a bad flag is reported %d times:\n%s", n, errOut.String())
	}
	// -h on a command is help: the usage text once, on stdout, exit 0.
	for _, args := range [][]string{{"dev", "-h"}, {"events", "-help"}, {"parked", "replay", "-h"}} {
		out.Reset()
		errOut.Reset()
		if code := run(t.Context(), args, &out, &errOut, env(nil)); code != 0 || strings.Count(out.String(), "Usage:") != 1 || errOut.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %d bytes with %d usage texts, stderr %q", args, code, out.Len(), strings.Count(out.String(), "Usage:"), errOut.String())
		}
	}
	out.Reset()
	if code := run(t.Context(), []string{"help"}, &out, &errOut, env(nil)); code != 0 {
		t.Fatalf("help: exit %d", code)
	}
	for _, want := range []string{"bank — the bank service", "bank dev [flags]", "bank parked replay", "Aggregate types: account, letter",
		"Views:           balances", "Subscribers:     balances, welcome", "SIGNAL_DATA_DIR", "-allow-origin"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

// TestOptions: a bad option or app is exit 1 with the reason, before any
// command runs.
func TestOptions(t *testing.T) {
	noop := func(context.Context, cli.Env, []string) error { return nil }
	cases := []struct {
		name string
		app  *signal.App
		opts []cli.Option
		in   string
	}{
		{"an empty name", nil, []cli.Option{cli.Name("")}, "cli.Name"},
		{"a name with a space", nil, []cli.Option{cli.Name("my bank")}, "cli.Name"},
		{"nil pages", nil, []cli.Option{cli.Pages(nil)}, "cli.Pages: nil handler"},
		{"a built-in command", nil, []cli.Option{cli.Command("dev", "", noop)}, `cli.Command "dev": the name is taken`},
		{"a command twice", nil, []cli.Option{cli.Command("seed", "", noop), cli.Command("seed", "", noop)}, `"seed": the name is taken`},
		{"a command without run", nil, []cli.Option{cli.Command("seed", "", nil)}, `"seed": nil run`},
		{"a command with a bad name", nil, []cli.Option{cli.Command("-x", "", noop)}, `cli.Command "-x"`},
		{"a nil option", nil, []cli.Option{nil}, "nil Option"},
		{"no app", &signal.App{}, nil, "name"},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		app := c.app
		if app == nil {
			app = testbank.App()
		}
		if code := cli.Run(t.Context(), app, []string{"help"}, &out, &errOut, env(nil), c.opts...); code != 1 || !strings.Contains(errOut.String(), c.in) || out.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 1 with %q", c.name, code, out.String(), errOut.String(), c.in)
		}
	}
}

// TestCommand: a command added with Command is listed in the usage text,
// gets its arguments and the Env, and its error decides the exit status.
func TestCommand(t *testing.T) {
	var got []string
	var gotEnv cli.Env
	opts := []cli.Option{cli.Name("ledger"), cli.Command("seed", "send sample deposits", func(ctx context.Context, env cli.Env, args []string) error {
		got, gotEnv = args, env
		switch {
		case len(args) == 0:
			return fmt.Errorf("%w: seed <n>", cli.ErrUsage)
		case args[0] == "fail":
			return fmt.Errorf("the bank is closed")
		}
		fmt.Fprintln(env.Stdout, "seeded", args[0])
		return nil
	})}
	cases := []struct {
		args          []string
		code          int
		stdout, stder string
	}{
		{[]string{"seed", "3", "-x"}, 0, "seeded 3", ""},
		{[]string{"seed"}, 2, "", "ledger: usage: seed <n>"},
		{[]string{"seed", "fail"}, 1, "", "ledger seed: the bank is closed"},
		{[]string{"help"}, 0, "  ledger seed                        send sample deposits", ""},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		code := run(t.Context(), c.args, &out, &errOut, env(map[string]string{"K": "v"}), opts...)
		if code != c.code || !strings.Contains(out.String(), c.stdout) || !strings.Contains(errOut.String(), c.stder) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, %q, %q", c.args, code, out.String(), errOut.String(), c.code, c.stdout, c.stder)
		}
	}
	if strings.Join(got, " ") != "fail" || gotEnv.Name != "ledger" || gotEnv.App.Name != "bank" || gotEnv.Getenv("K") != "v" || gotEnv.Logger == nil || gotEnv.Stdout == nil {
		t.Errorf("the command got %q and %+v", got, gotEnv)
	}
}

// TestDevPages: dev serves the Pages option's handler on the paths no API
// route matches, the console under console.Prefix in both cases; without
// pages "/" leads to the console and other paths are the API's JSON 404;
// its printed first command works.
func TestDevPages(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html>the bank's page at "+r.URL.Path+"</html>")
	})
	with := startDev(t, []string{"-data", t.TempDir()}, env(nil), cli.Pages(page))
	if status, body := call(t, "GET", with.URL+"/statements/", ""); status != 200 || body != "<html>the bank's page at /statements/</html>" {
		t.Errorf("the page: %d %s", status, body)
	}
	if !strings.Contains(with.out.String(), "your pages at /") {
		t.Errorf("dev does not say where the pages are: %s", with.out.String())
	}
	without := startDev(t, []string{"-data", t.TempDir()}, env(nil))
	if status, body := call(t, "GET", without.URL+"/statements/", ""); status != 404 || !strings.Contains(body, `"code":"not_found"`) {
		t.Errorf("no pages: %d %s", status, body)
	}
	for _, d := range []*devServer{with, without} {
		if status, body := call(t, "GET", d.URL+console.Prefix, ""); status != 200 || !strings.Contains(body, "<html") {
			t.Errorf("the console: %d %.80s", status, body)
		}
		if status, body := call(t, "GET", d.URL+"/app", ""); status != 200 || !strings.Contains(body, `"name":"bank"`) {
			t.Errorf("GET /app: %d %s", status, body)
		}
		if !strings.Contains(d.out.String(), "the console at "+d.URL+console.Prefix) {
			t.Errorf("dev does not say where the console is: %s", d.out.String())
		}
	}
	m := regexp.MustCompile(`try  curl -X POST (\S+) -H 'Content-Type: application/json' -d '(.*)'`).FindStringSubmatch(without.out.String())
	if m == nil {
		t.Fatalf("no first command printed: %s", without.out.String())
	}
	if status, body := call(t, "POST", m[1], m[2]); status != 201 || !strings.Contains(m[1], "/aggregates/account/a1/Open") {
		t.Errorf("the printed command %s %s: %d %s", m[1], m[2], status, body)
	}
	if !strings.Contains(without.out.String(), "subscribers running in-process: balances, welcome") {
		t.Errorf("dev does not say what runs: %s", without.out.String())
	}
}
