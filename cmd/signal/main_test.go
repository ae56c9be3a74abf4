package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalforgo/signal/internal/pgtest"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.Stop()
	pgtest.Stop()
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe to read while the command writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"demo"}, &out, &errOut, env(nil)); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"v1 ItemAdded", "refused (rejected)", "refused (closed)", "refused (not_found)",
		`sku-sales/apple {"sku":"apple","unitsSold":6`, "order/cart-2 v1", "at v3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	cases := []struct {
		args []string
		code int
		in   string
	}{
		{nil, 2, "Usage"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"events", "cart"}, 2, "takes 2 argument(s)"},
		{[]string{"rebuild", "no-such-view", "-data", t.TempDir()}, 2, "takes 1 argument"},
		{[]string{"table"}, 2, "signal table create"},
		{[]string{"dev", "-nope"}, 2, "flag provided but not defined"},
		{[]string{"dev", "-allow-origin", "*"}, 2, "no wildcard"},
		{[]string{"dev", "-allow-origin", "localhost:3000"}, 2, "not an origin"},
		{[]string{"dev", "-allow-origin", "http://localhost:3000/app"}, 2, "not an origin"},
		{[]string{"dev", "-allow-host", ""}, 2, "empty value"},
		{[]string{"table", "create", "-data", t.TempDir()}, 2, "needs -dynamodb-endpoint"},
	}
	for _, c := range cases {
		out.Reset()
		errOut.Reset()
		if code := run(t.Context(), c.args, &out, &errOut, env(nil)); code != c.code || !strings.Contains(errOut.String(), c.in) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", c.args, code, errOut.String(), c.code, c.in)
		}
	}
	out.Reset()
	if code := run(t.Context(), []string{"help"}, &out, &errOut, env(nil)); code != 0 || !strings.Contains(out.String(), "signal dev [flags]") || !strings.Contains(out.String(), "SIGNAL_DATA_DIR") {
		t.Fatalf("help: %d %q", code, out.String())
	}
}

// devServer runs `signal dev` with args until the test ends and returns its URL.
type devServer struct {
	URL    string
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan int
}

func startDev(t testing.TB, args []string, getenv func(string) string) *devServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &devServer{out: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	var errOut syncBuffer
	go func() {
		d.done <- run(ctx, append([]string{"dev", "-addr", "127.0.0.1:0"}, args...), d.out, &errOut, getenv)
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
			t.Fatalf("signal dev exited %d: %s %s", code, d.out.String(), errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("signal dev did not start: %s %s", d.out.String(), errOut.String())
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
			t.Errorf("signal dev exited %d: %s", code, d.out.String())
		}
	case <-time.After(10 * time.Second):
		t.Error("signal dev did not shut down")
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

// session runs a purchase through a dev server and waits for the projector.
func session(t *testing.T, url string) {
	t.Helper()
	for _, c := range []struct{ cmd, body string }{
		{"AddItem", `{"sku":"apple","quantity":2,"price":50}`},
		{"AddItem", `{"sku":"pear","quantity":1,"price":75}`},
		{"CompletePurchase", `{}`},
	} {
		if status, body := call(t, "POST", url+"/aggregates/cart/c1/"+c.cmd, c.body); status >= 300 {
			t.Fatalf("%s: %d %s", c.cmd, status, body)
		}
	}
	if status, body := call(t, "POST", url+"/aggregates/cart/c1/AddItem", `{"sku":`); status != 400 || !strings.Contains(body, `"code":"invalid"`) {
		t.Fatalf("malformed JSON: %d %s", status, body)
	}
	waitFor(t, url+"/views/sku-sales/apple", `"unitsSold":2`)
	waitFor(t, url+"/aggregates/order/c1", `"version":1`)
}

// TestDevEmbedded: `signal dev` on the embedded store serves the API and
// the page, projects in-process, and restarted on the same directory
// serves the same state; `signal rebuild` reproduces the view.
func TestDevEmbedded(t *testing.T) {
	dir := t.TempDir()
	d := startDev(t, []string{"-data", dir}, env(nil))
	session(t, d.URL)
	if status, body := call(t, "GET", d.URL+"/", ""); status != 200 || !strings.Contains(strings.ToLower(body), "<html") {
		t.Fatalf("the page: %d %.200s", status, body)
	}
	_, state := call(t, "GET", d.URL+"/aggregates/cart/c1", "")
	sales := viewData(t, d.URL+"/views/sku-sales/apple")
	summary := viewData(t, d.URL+"/views/cart-summary/c1")
	d.stop(t)
	if !strings.Contains(d.out.String(), "signal dev: stopped") {
		t.Fatalf("no clean shutdown: %s", d.out.String())
	}

	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"rebuild", "-data", dir, "sku-sales"}, &out, &errOut, env(nil)); code != 0 || !strings.Contains(out.String(), "rebuilt view sku-sales from 4 commits") {
		t.Fatalf("rebuild: %d %s %s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"events", "-data", dir, "cart", "c1"}, &out, &errOut, env(nil)); code != 0 || strings.Count(out.String(), "\n") != 3 || !strings.Contains(out.String(), `"name":"PurchaseCompleted"`) {
		t.Fatalf("events: %d %s %s", code, out.String(), errOut.String())
	}

	d2 := startDev(t, []string{"-data", dir}, env(nil))
	if _, again := call(t, "GET", d2.URL+"/aggregates/cart/c1", ""); again != state {
		t.Fatalf("state after restart:\n%s\nwant\n%s", again, state)
	}
	if got := viewData(t, d2.URL+"/views/sku-sales/apple"); got != sales {
		t.Fatalf("rebuilt sku-sales %s, incrementally built %s", got, sales)
	}
	if got := viewData(t, d2.URL+"/views/cart-summary/c1"); got != summary {
		t.Fatalf("cart-summary after restart %s, want %s", got, summary)
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
	sales := viewData(t, d.URL+"/views/sku-sales/apple")
	d.stop(t)
	out.Reset()
	if code := run(t.Context(), []string{"rebuild", "sku-sales"}, &out, &errOut, e); code != 0 || !strings.Contains(out.String(), "rebuilt view sku-sales") {
		t.Fatalf("rebuild: %d %s %s", code, out.String(), errOut.String())
	}
	d2 := startDev(t, nil, e)
	if got := viewData(t, d2.URL+"/views/sku-sales/apple"); got != sales {
		t.Fatalf("rebuilt %s, incrementally built %s", got, sales)
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
	_, state := call(t, "GET", d.URL+"/aggregates/cart/c1", "")
	sales := viewData(t, d.URL+"/views/sku-sales/apple")
	d.stop(t)
	var out, errOut bytes.Buffer
	if code := run(t.Context(), append([]string{"rebuild"}, append(args, "sku-sales")...), &out, &errOut, env(nil)); code != 0 || !strings.Contains(out.String(), "rebuilt view sku-sales from 4 commits") {
		t.Fatalf("rebuild: %d %s %s", code, out.String(), errOut.String())
	}
	d2 := startDev(t, args, env(nil))
	if _, again := call(t, "GET", d2.URL+"/aggregates/cart/c1", ""); again != state {
		t.Fatalf("state after restart %s, want %s", again, state)
	}
	if got := viewData(t, d2.URL+"/views/sku-sales/apple"); got != sales {
		t.Fatalf("rebuilt %s, incrementally built %s", got, sales)
	}
}
