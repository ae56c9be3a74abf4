package browser_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/signalforgo/signal/internal/browser"
)

func TestContextRunsScript(t *testing.T) {
	ctx := browser.Context(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	ua, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ua, "HeadlessChrome") {
		t.Errorf("user agent %q is not headless Chrome", ua)
	}
}
