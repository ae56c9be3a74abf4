package main

import (
	"bytes"
	"context"
	"github.com/signalforgo/signal/internal/syncbuf"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/cli"
)

// run is main without the process: the cart on the kit with main's
// options.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cli.Run(ctx, cart.App(), args, stdout, stderr, func(string) string { return "" }, options()...)
}

func TestDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"demo"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"v1 ItemAdded", "refused (rejected)", "refused (closed)", "refused (not_found)",
		`sku-sales/apple {"sku":"apple","unitsSold":6`, "order/cart-2 v1", "at v3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	errOut.Reset()
	if code := run(t.Context(), []string{"demo", "extra"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "demo takes no arguments") {
		t.Errorf("demo extra: exit %d, %s", code, errOut.String())
	}
}

// TestUsage: the cart's help names the program signal, the cart's types
// and views, and the demo command beside the kit's.
func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"help"}, &out, &errOut); code != 0 {
		t.Fatalf("help: exit %d %s", code, errOut.String())
	}
	for _, want := range []string{"signal dev [flags]", "signal demo", "run a scripted cart session",
		"Aggregate types: cart, order", "cart-summary, sku-sales", "SIGNAL_DATA_DIR"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
	errOut.Reset()
	if code := run(t.Context(), []string{"events", "-data", t.TempDir(), "basket", "b1"}, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), `unknown aggregate type "basket" (types: cart, order)`) {
		t.Errorf("events on an unknown type: exit %d, %s", code, errOut.String())
	}
}

// devServer is `signal dev` run by a test until it ends.
type devServer struct {
	URL string
	out *syncbuf.Buffer
}

// startDev runs `signal dev` on an embedded store of its own
// and returns its URL; it stops when the test ends.
func startDev(t testing.TB) *devServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &devServer{out: &syncbuf.Buffer{}}
	var errOut syncbuf.Buffer
	done := make(chan int, 1)
	// The directory before the Cleanup below, so that it is removed after
	// dev stopped (cleanups run last first): made inside the goroutine, it
	// was sometimes removed under the running projector.
	dir := t.TempDir()
	go func() {
		done <- run(ctx, []string{"dev", "-addr", "127.0.0.1:0", "-data", dir}, d.out, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("signal dev exited %d: %s %s", code, d.out.String(), errOut.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("signal dev did not shut down")
		}
	})
	re := regexp.MustCompile(`signal dev: serving (http://\S+)`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(d.out.String()); m != nil {
			d.URL = m[1]
			return d
		}
	}
	t.Fatalf("signal dev did not start: %s %s", d.out.String(), errOut.String())
	return nil
}

// TestDevServesCartPage: `signal dev` serves the cart page at / beside
// the API, and prints a first command the cart takes.
func TestDevServesCartPage(t *testing.T) {
	d := startDev(t)
	resp, err := http.Get(d.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(string(body)), "<html") {
		t.Fatalf("the page: %d %.200s", resp.StatusCode, body)
	}
	re := regexp.MustCompile(`try  curl -X POST (\S+) -H 'Content-Type: application/json' -d '(.*)'`)
	m := re.FindStringSubmatch(d.out.String())
	if m == nil {
		t.Fatalf("no curl example: %s", d.out.String())
	}
	req, _ := http.NewRequest("POST", m[1], strings.NewReader(m[2]))
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("the printed example %s %s: %d %s", m[1], m[2], resp.StatusCode, body)
	}
}
