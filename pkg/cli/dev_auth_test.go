package cli_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signalforgo/signal/internal/syncbuf"
	"github.com/signalforgo/signal/internal/testbank"
	"github.com/signalforgo/signal/pkg/cli"
	"github.com/signalforgo/signal/pkg/httpapi"
)

// startRuledDev runs `bank dev` with args on the bank app with the rule
// testbank.OwnersOnly, until the test ends, and returns its URL and output.
func startRuledDev(t *testing.T, args ...string) (string, *syncbuf.Buffer) {
	t.Helper()
	app := testbank.App()
	app.Authorize = testbank.OwnersOnly
	// The data directory is made first, so it is removed after dev stops
	// (cleanups run last first).
	args = append([]string{"dev", "-addr", "127.0.0.1:0", "-data", t.TempDir()}, args...)
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut, done := &syncbuf.Buffer{}, &syncbuf.Buffer{}, make(chan int, 1)
	go func() { done <- cli.Run(ctx, app, args, out, errOut, env(nil)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("dev exited %d: %s %s", code, out, errOut)
			}
		case <-time.After(10 * time.Second):
			t.Error("dev did not shut down")
		}
	})
	re := regexp.MustCompile(`serving (http://\S+)`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], out
		}
	}
	t.Fatalf("dev did not start: %s %s", out, errOut)
	return "", nil
}

// TestDevInsecureAuth: with -insecure-dev-auth, dev takes the caller
// from the insecure header, so the app's rule runs as it does in Lambda
// (401 without a caller, 403 for another, the owner allowed, its
// command's events answered with it as their actor), and says so loudly at start; the local guard still
// refuses other sites first.
func TestDevInsecureAuth(t *testing.T) {
	url, out := startRuledDev(t, "-insecure-dev-auth")
	if !strings.Contains(out.String(), "WARNING: -insecure-dev-auth is on") || !strings.Contains(out.String(), httpapi.InsecurePrincipalHeader+": sub=alice") {
		t.Errorf("no loud warning, or no header in the curl example:\n%s", out)
	}
	as := func(sub string) map[string]string {
		return map[string]string{"Content-Type": "application/json", httpapi.InsecurePrincipalHeader: "sub=" + sub + "; groups=tellers"}
	}
	open := url + "/aggregates/account/x1/Open"
	if status, body := guardCall(t, "POST", open, "", map[string]string{"Content-Type": "application/json"}, `{"owner":"ann"}`); status != 401 || errorCode(body) != "unauthenticated" {
		t.Errorf("an anonymous command: %d %v", status, body)
	}
	status, body := guardCall(t, "POST", open, "", as("ann"), `{"owner":"ann"}`)
	if evs, _ := body["events"].([]any); status != 201 || len(evs) != 1 || evs[0].(map[string]any)["actor"] != "ann" {
		t.Fatalf("ann's command, recorded with ann as its actor: %d %v", status, body)
	}
	if status, body := guardCall(t, "POST", url+"/aggregates/account/x1/Deposit", "", as("bob"), `{"amount":5}`); status != 403 || errorCode(body) != "forbidden" {
		t.Errorf("bob's deposit to ann's account: %d %v", status, body)
	}
	if status, body := guardCall(t, "GET", url+"/aggregates/account/x1", "", map[string]string{httpapi.InsecurePrincipalHeader: "tenant=acme"}, ""); status != 400 || errorCode(body) != "invalid" {
		t.Errorf("a header without sub: %d %v", status, body)
	}
	foreign := as("ann")
	foreign["Origin"] = "https://evil.example"
	if status, body := guardCall(t, "POST", url+"/aggregates/account/x1/Deposit", "", foreign, `{"amount":5}`); status != 403 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "origin") {
		t.Errorf("another site's page acting as ann: %d %v", status, body)
	}
	if status, body := guardCall(t, "GET", url+"/aggregates/account/x1/events", "", as("ann"), ""); status != 200 {
		t.Errorf("ann's history: %d %v", status, body)
	}
}

// TestDevIgnoresInsecureHeader: without the flag the header is ignored:
// every request is anonymous, and the rule refuses it (401).
func TestDevIgnoresInsecureHeader(t *testing.T) {
	url, out := startRuledDev(t)
	if strings.Contains(out.String(), "insecure") {
		t.Errorf("dev talks of insecure auth without the flag:\n%s", out)
	}
	status, body := guardCall(t, "POST", url+"/aggregates/account/x1/Open", "",
		map[string]string{"Content-Type": "application/json", httpapi.InsecurePrincipalHeader: "sub=ann"}, `{"owner":"ann"}`)
	if status != 401 || errorCode(body) != "unauthenticated" {
		t.Errorf("a command with the header but without the flag: %d %v", status, body)
	}
}
