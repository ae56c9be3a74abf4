package browser_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/signalforgo/signal/internal/browser"
)

func TestWatchConsoleKeepsOnlyProblems(t *testing.T) {
	ctx := browser.Context(t)
	problems := browser.WatchConsole(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	// A plain log is no problem; an uncaught exception is.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`console.log("all is fine"); setTimeout(() => { throw new Error("boom"); }); true`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(browser.WaitTimeout)
	for len(problems()) == 0 && time.Now().Before(deadline) {
		time.Sleep(25 * time.Millisecond)
	}
	p := problems()
	if len(p) != 1 || !strings.Contains(p[0], "boom") {
		t.Errorf("problems %q, want the one exception", p)
	}
}
