// Package browser gives tests a headless Chromium driven by chromedp.
//
// Context starts a fresh browser for one test: the binary in $CHROMIUM,
// else /usr/bin/chromium (Debian's package, `apt-get install chromium`),
// else chromium or chromium-browser on the PATH; a temporary profile; no
// sandbox (tests run as root in containers); nothing that reaches the
// network on its own (background networking, component updates, sync),
// which on a machine without outside access would only log refusals. The
// whole browser session is bounded by Timeout, and the browser is closed
// and its profile removed when the test ends.
//
// When no Chromium is found the test is skipped, except under CI=true,
// where it fails: CI must never pass by not testing. .ci/run installs the
// package.
package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds everything a test does with the browser of Context.
const Timeout = 60 * time.Second

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// Path returns the Chromium binary to run: $CHROMIUM if set (it must
// exist), else DefaultPath, else chromium or chromium-browser on the PATH.
func Path() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$CHROMIUM: %w", err)
		}
		return p, nil
	}
	if _, err := os.Stat(DefaultPath); err == nil {
		return DefaultPath, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found: set $CHROMIUM or install it (apt-get install chromium)")
}

// Options are the allocator options every browser of Context gets,
// besides its binary, profile directory, window size and output: chromedp's
// defaults (headless, no first run, quiet) and the switches a container
// without outside access needs.
func Options() []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // tests run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers have a small /dev/shm
	)
}

// Context returns a chromedp context of a new headless Chromium tab,
// valid until the test ends or Timeout passes, whichever comes first.
// The browser is started before Context returns, so a browser that
// cannot start fails here, with its output in the test log.
func Context(t testing.TB) context.Context {
	t.Helper()
	path, err := Path()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is required under CI: %v", err)
		}
		t.Skipf("skipping the browser test: %v", err)
	}
	profile := t.TempDir() // removed after the cleanup below has stopped the browser
	out := &syncBuffer{}
	opts := append(Options(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(out),
	)
	timeout, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(timeout, opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf), chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		// Close the browser gracefully (bounded), then cancel the
		// allocator, which waits for the process to end, before the
		// profile directory is removed.
		closeCtx, cancelClose := context.WithTimeout(ctx, 5*time.Second)
		_ = chromedp.Cancel(closeCtx)
		cancelClose()
		cancelCtx()
		cancelAlloc()
		cancelTimeout()
		if t.Failed() {
			if s := out.String(); s != "" {
				t.Logf("chromium output:\n%s", s)
			}
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v\n%s", path, err, out.String())
	}
	return ctx
}

// syncBuffer collects the browser's output; the allocator writes to it
// from its own goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil // enough to diagnose; drop the rest
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
