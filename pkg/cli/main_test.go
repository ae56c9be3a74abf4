package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/signalforgo/signal/internal/syncbuf"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signalforgo/signal/internal/pgtest"
	"github.com/signalforgo/signal/internal/testbank"
	"github.com/signalforgo/signal/internal/testsupport"
	"github.com/signalforgo/signal/pkg/cli"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
)

func TestMain(m *testing.M) { testsupport.Main(m, motoserver.Stop, pgtest.Stop) }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// run is the bank's command line: cli.Run on the test domain.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, opts ...cli.Option) int {
	return cli.Run(ctx, testbank.App(), args, stdout, stderr, getenv, opts...)
}

// devServer runs `bank dev` with args until the test ends and returns its URL.
type devServer struct {
	URL    string
	out    *syncbuf.Buffer
	cancel context.CancelFunc
	done   chan int
}

func startDev(t testing.TB, args []string, getenv func(string) string, opts ...cli.Option) *devServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &devServer{out: &syncbuf.Buffer{}, cancel: cancel, done: make(chan int, 1)}
	var errOut syncbuf.Buffer
	go func() {
		d.done <- run(ctx, append([]string{"dev", "-addr", "127.0.0.1:0"}, args...), d.out, &errOut, getenv, opts...)
	}()
	re := regexp.MustCompile(`serving (http://\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(d.out.String()); m != nil {
			d.URL = m[1]
			t.Cleanup(func() { d.stop(t) })
			return d
		}
		select {
		case code := <-d.done:
			t.Fatalf("dev exited %d: %s %s", code, d.out.String(), errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("dev did not start: %s %s", d.out.String(), errOut.String())
	return nil
}

func (d *devServer) stop(t testing.TB) {
	if d.cancel == nil {
		return
	}
	d.cancel()
	d.cancel = nil
	select {
	case code := <-d.done:
		if code != 0 {
			t.Errorf("dev exited %d: %s", code, d.out.String())
		}
	case <-time.After(10 * time.Second):
		t.Error("dev did not shut down")
	}
}

func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method != "GET" {
		req.Header.Set("Content-Type", "application/json") // the local guard's rule for commands
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls url until its body contains want.
func waitFor(t *testing.T, url, want string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var body string
	for time.Now().Before(deadline) {
		var status int
		status, body = call(t, "GET", url, "")
		if status == 200 && strings.Contains(body, want) {
			return body
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never showed %q; last: %s", url, want, body)
	return ""
}

func viewData(t *testing.T, url string) string {
	t.Helper()
	status, body := call(t, "GET", url, "")
	var v struct {
		Data json.RawMessage `json:"data"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &v) != nil {
		t.Fatalf("%s: %d %s", url, status, body)
	}
	return string(v.Data)
}

// session runs an account through a dev server and waits for the
// projection and the welcome policy.
func session(t *testing.T, url string) {
	t.Helper()
	for _, c := range []struct{ cmd, body string }{
		{"Open", `{"owner":"ann"}`},
		{"Deposit", `{"amount":200}`},
		{"Withdraw", `{"amount":50}`},
	} {
		if status, body := call(t, "POST", url+"/aggregates/account/a1/"+c.cmd, c.body); status >= 300 {
			t.Fatalf("%s: %d %s", c.cmd, status, body)
		}
	}
	if status, body := call(t, "POST", url+"/aggregates/account/a1/Deposit", `{"amount":`); status != 400 || !strings.Contains(body, `"code":"invalid"`) {
		t.Fatalf("malformed JSON: %d %s", status, body)
	}
	waitFor(t, url+"/views/balances/a1", `"balance":150`)
	waitFor(t, url+"/aggregates/letter/a1", `"welcome, ann"`)
}

// TestDevEmbedded: dev on the embedded store serves the API, runs the
// subscribers in-process, and restarted on the same directory
// serves the same state; `rebuild` reproduces the view.
func TestDevEmbedded(t *testing.T) {
	dir := t.TempDir()
	d := startDev(t, []string{"-data", dir}, env(nil))
	session(t, d.URL)
	_, state := call(t, "GET", d.URL+"/aggregates/account/a1", "")
	balance := viewData(t, d.URL+"/views/balances/a1")
	_, letter := call(t, "GET", d.URL+"/aggregates/letter/a1", "")
	d.stop(t)
	if !strings.Contains(d.out.String(), "bank dev: stopped") {
		t.Fatalf("no clean shutdown: %s", d.out.String())
	}

	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"rebuild", "-data", dir, "balances"}, &out, &errOut, env(nil)); code != 0 || !strings.Contains(out.String(), "rebuilt view balances from 4 commits") {
		t.Fatalf("rebuild: %d %s %s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"events", "-data", dir, "account", "a1"}, &out, &errOut, env(nil)); code != 0 || strings.Count(out.String(), "\n") != 3 || !strings.Contains(out.String(), `"name":"Withdrawn"`) {
		t.Fatalf("events: %d %s %s", code, out.String(), errOut.String())
	}

	d2 := startDev(t, []string{"-data", dir}, env(nil))
	if _, again := call(t, "GET", d2.URL+"/aggregates/account/a1", ""); again != state {
		t.Fatalf("state after restart:\n%s\nwant\n%s", again, state)
	}
	if got := viewData(t, d2.URL+"/views/balances/a1"); got != balance {
		t.Fatalf("rebuilt balances %s, incrementally built %s", got, balance)
	}
	if _, got := call(t, "GET", d2.URL+"/aggregates/letter/a1", ""); got != letter {
		t.Fatalf("the letter after restart %s, want %s", got, letter)
	}
}

// TestDevDynamoDB: the same runtime on DynamoDB (moto_server), projecting
// from the table's stream with the poller.
func TestDevDynamoDB(t *testing.T) {
	endpoint := motoserver.Endpoint(t)
	suffix := fmt.Sprint(time.Now().UnixNano())
	e := env(map[string]string{"AWS_ENDPOINT_URL": endpoint, "EVENTS_TABLE": "dev-events-" + suffix, "VIEWS_TABLE": "dev-views-" + suffix})
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"table", "create"}, &out, &errOut, e); code != 0 || !strings.Contains(out.String(), "are ready") {
		t.Fatalf("table create: %d %s %s", code, out.String(), errOut.String())
	}
	d := startDev(t, nil, e)
	if !strings.Contains(d.out.String(), "DynamoDB at "+endpoint) {
		t.Fatalf("not on DynamoDB: %s", d.out.String())
	}
	session(t, d.URL)
	balance := viewData(t, d.URL+"/views/balances/a1")
	d.stop(t)
	out.Reset()
	if code := run(t.Context(), []string{"rebuild", "balances"}, &out, &errOut, e); code != 0 || !strings.Contains(out.String(), "rebuilt view balances") {
		t.Fatalf("rebuild: %d %s %s", code, out.String(), errOut.String())
	}
	d2 := startDev(t, nil, e)
	if got := viewData(t, d2.URL+"/views/balances/a1"); got != balance {
		t.Fatalf("rebuilt %s, incrementally built %s", got, balance)
	}
}

// TestDevPostgres: the same runtime on Postgres, projecting from its
// change feed; restarted, it resumes; rebuild reproduces the view.
func TestDevPostgres(t *testing.T) {
	url := pgtest.URL(t)
	data := t.TempDir()
	args := []string{"-postgres", url, "-data", data}
	d := startDev(t, args, env(nil))
	if !strings.Contains(d.out.String(), "store: Postgres") {
		t.Fatalf("not on Postgres: %s", d.out.String())
	}
	session(t, d.URL)
	_, state := call(t, "GET", d.URL+"/aggregates/account/a1", "")
	balance := viewData(t, d.URL+"/views/balances/a1")
	d.stop(t)
	var out, errOut bytes.Buffer
	if code := run(t.Context(), append([]string{"rebuild"}, append(args, "balances")...), &out, &errOut, env(nil)); code != 0 || !strings.Contains(out.String(), "rebuilt view balances from 4 commits") {
		t.Fatalf("rebuild: %d %s %s", code, out.String(), errOut.String())
	}
	d2 := startDev(t, args, env(nil))
	if _, again := call(t, "GET", d2.URL+"/aggregates/account/a1", ""); again != state {
		t.Fatalf("state after restart %s, want %s", again, state)
	}
	if got := viewData(t, d2.URL+"/views/balances/a1"); got != balance {
		t.Fatalf("rebuilt %s, incrementally built %s", got, balance)
	}
}
