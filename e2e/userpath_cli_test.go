package e2e

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/signalforgo/signal/internal/browser"
	"github.com/signalforgo/signal/internal/syncbuf"
)

// devServer is a user's `<cli> dev` running as its own process.
type devServer struct {
	url    string
	output syncbuf.Buffer // its stdout and stderr
}

// startDev builds the CLI at pkg (a main package on pkg/cli) and runs its
// dev command on a free port and a fresh embedded store, returning once it
// says where it serves. The process is interrupted at the end of the test.
func startDev(t *testing.T, pkg string) *devServer {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cli")
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	cmd := exec.Command(bin, "dev", "-addr", "127.0.0.1:0", "-data", filepath.Join(t.TempDir(), "data"))
	cmd.Env = append(os.Environ(), "SIGNAL_LOG_LEVEL=warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &devServer{}
	cmd.Stderr = &d.output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("dev did not stop cleanly on an interrupt: %v\n%s", err, d.logs())
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("dev did not stop within 20 s of an interrupt\n%s", d.logs())
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			_, _ = d.output.Write([]byte(line + "\n"))
			if _, rest, ok := strings.Cut(line, " serving "); ok {
				url, _, _ := strings.Cut(rest, " ")
				select {
				case found <- url:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case d.url = <-found:
	case <-time.After(60 * time.Second):
		t.Fatalf("dev did not say where it serves within 60 s:\n%s", d.logs())
	}
	return d
}

func (d *devServer) logs() string { return d.output.String() }

// send makes one request as a client of the local API would.
func (d *devServer) send(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, d.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method != "GET" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", method, path, err, d.logs())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls a read until it holds or the test's deadline nears:
// the in-process projector runs behind the command.
func eventually(t *testing.T, what string, read func() (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		ok, last := read()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: never; last answer %s", what, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestUserPathCLI: the bank's one-line CLI (bank/cmd/bank on pkg/cli)
// serves the bank locally: commands, the domain's refusals, the state and
// the balances view fed by the in-process projector.
func TestUserPathCLI(t *testing.T) {
	d := startDev(t, "./bank/cmd/bank")
	if code, body := d.send(t, "POST", "/aggregates/account/a1/Open", `{"owner":"grace"}`); code != 201 {
		t.Fatalf("Open: %d %s", code, body)
	}
	if code, body := d.send(t, "POST", "/aggregates/account/a1/Deposit", `{"amount":25}`); code != 200 {
		t.Fatalf("Deposit: %d %s", code, body)
	}
	if code, body := d.send(t, "POST", "/aggregates/account/a1/Withdraw", `{"amount":26}`); code != 422 || !strings.Contains(body, "insufficient funds") {
		t.Fatalf("overdraft: %d %s", code, body)
	}
	if code, body := d.send(t, "GET", "/aggregates/account/a1", ""); code != 200 || !strings.Contains(body, `"balance":25`) || !strings.Contains(body, `"version":2`) {
		t.Fatalf("state: %d %s", code, body)
	}
	eventually(t, "the balances view shows the deposit", func() (bool, string) {
		code, body := d.send(t, "GET", "/views/balances/a1", "")
		return code == 200 && strings.Contains(body, `"balance":25`), body
	})
	if !strings.Contains(d.logs(), "bank dev: serving") {
		t.Errorf("dev's greeting does not name the bank:\n%s", d.logs())
	}
}

// TestUserPathConsole: the console the bank's CLI serves, in headless
// Chromium: it describes the bank, sends its commands through the form,
// shows a refusal, the history with time travel and the balances view.
func TestUserPathConsole(t *testing.T) {
	d := startDev(t, "./bank/cmd/bank")
	ctx := browser.Context(t)
	do, fill, click, wait := browser.Do, browser.Fill, browser.Click, browser.WaitText
	send := func(what, cmd, id, field, value string) {
		t.Helper()
		do(t, ctx, what, browser.Choose("#command-name", cmd),
			fill("#command-id", id, `#command-fields [data-field="`+field+`"]`, value), click("#command-submit"))
	}

	do(t, ctx, "open the console", chromedp.Navigate(d.url+"/"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	wait(t, ctx, "#app-name", "bank")
	wait(t, ctx, `#types section.type[data-type="account"] li.command[data-command="Withdraw"] li.field[data-field="amount"]`, "amount: integer")
	if n := browser.Count(t, ctx, `#command-name option[value="Audit"]`); n != 0 {
		t.Errorf("the internal command Audit is offered to send")
	}
	send("open c1", "Open", "c1", "owner", "hopper")
	wait(t, ctx, "#command-result .result-line.ok", "HTTP 201 created: account c1 is at version 1.")
	send("deposit 40", "Deposit", "c1", "amount", "40")
	wait(t, ctx, "#command-result .result-line.ok", "version 2.")
	send("withdraw too much", "Withdraw", "c1", "amount", "41")
	wait(t, ctx, "#alert", "insufficient funds")

	wait(t, ctx, "#history-title", "account c1: 2 events, version 2")
	do(t, ctx, "travel to version 1", chromedp.Focus(chromedp.CSS("#version-slider")), chromedp.KeyEvent(kb.Home))
	wait(t, ctx, `#version-state[data-version="1"]`, `"balance": 0`)

	eventually(t, "the projector has the deposit", func() (bool, string) {
		code, body := d.send(t, "GET", "/views/balances/c1", "")
		return code == 200 && strings.Contains(body, `"balance":40`), body
	})
	do(t, ctx, "read balances/c1", fill("#view-key", "c1"), click("#view-load"))
	wait(t, ctx, "#view-doc", `"balance": 40`)
	browser.Screenshot(t, ctx, "bank-console.png")
}
