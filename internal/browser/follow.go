package browser

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// Follow clicks the link of the selector, waits until the page's location
// holds path (the navigation has happened), then until the element of
// ready is visible on the new page. Waiting for text right after a click
// that navigates races the old page's teardown; this does not.
func Follow(sel, path, ready string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		Click(sel),
		chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
			for deadline := time.Now().Add(WaitTimeout); ; {
				loc, err := chromedp.Location()(ctx, tgt)
				if err == nil && strings.Contains(loc, path) {
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("the link of %s did not lead to %s (at %s, %v)", sel, path, loc, err)
				}
				time.Sleep(25 * time.Millisecond)
			}
		}),
		chromedp.WaitVisible(chromedp.CSS(ready)))
}
