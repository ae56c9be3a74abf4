package browser

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// WaitTimeout bounds every wait of these helpers.
const WaitTimeout = 10 * time.Second

// WaitText waits until the text of the element of the CSS selector holds
// want, failing the test with what it shows (and the page's #alert) if it
// does not within WaitTimeout.
func WaitText(t testing.TB, ctx context.Context, sel, want string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.PollFunction[bool](
		`(sel, want) => { const e = document.querySelector(sel); return !!e && e.textContent.includes(want); }`,
		chromedp.WithPollingArgs(sel, want),
		chromedp.WithPollingInterval(25*time.Millisecond),
		chromedp.WithPollingTimeout(WaitTimeout)))
	if err != nil {
		t.Fatalf("waiting for %s to show %q: %v; it shows %q\nalert: %q", sel, want, err, Text(ctx, sel), Text(ctx, "#alert"))
	}
}

// Text returns the text content of the element of the selector, or "".
func Text(ctx context.Context, sel string) string {
	s, _ := chromedp.Run(ctx, chromedp.PollFunction[string](
		`(sel) => { const e = document.querySelector(sel); return e ? e.textContent + "\u0000" : "\u0000"; }`,
		chromedp.WithPollingArgs(sel), chromedp.WithPollingTimeout(time.Second)))
	return strings.TrimSuffix(s, "\x00")
}

// Count returns how many elements match the CSS selector.
func Count(t testing.TB, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.PollFunction[int](
		`(sel) => document.querySelectorAll(sel).length + 1`,
		chromedp.WithPollingArgs(sel), chromedp.WithPollingTimeout(time.Second)))
	if err != nil {
		t.Fatalf("counting %s: %v", sel, err)
	}
	return n - 1
}

// Do runs steps, failing the test with `what` and the page's #alert.
func Do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v\nalert: %q", what, err, Text(ctx, "#alert"))
	}
}

// Fill sets the values of fields given as selector, value pairs.
func Fill(fields ...string) chromedp.Action[chromedp.Void] {
	var steps []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(fields[i]), fields[i+1]))
	}
	return chromedp.Steps(steps...)
}

// Click clicks the visible element of the selector.
func Click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
}

// Screenshot saves a full-page PNG as name under $WEB_SCREENSHOT_DIR (to
// keep it) or the test's temporary directory, and checks it is a PNG.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv("WEB_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %d bytes, not a PNG", len(png))
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
