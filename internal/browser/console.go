package browser

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// WatchConsole collects what the page of ctx writes to the browser
// console from now on and returns a func giving a copy of the problems
// so far: every exception, and every Content-Security-Policy or Trusted
// Types violation (a message from the "security" source or naming
// either). It reports nothing itself, so the test decides when problems
// fail it; if the test has failed by its end, its log shows all the
// console said, problems or not.
func WatchConsole(t testing.TB, ctx context.Context) func() []string {
	var mu sync.Mutex
	var problems, all []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			all = append(all, m.String())
			if m.IsException() || m.Source == "security" || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Trusted Type") {
				problems = append(problems, m.String())
			}
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if t.Failed() {
			t.Logf("browser console:\n%s", strings.Join(all, "\n"))
		}
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}
