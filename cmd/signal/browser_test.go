package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/signalforgo/signal/internal/browser"
	"github.com/signalforgo/signal/pkg/console"
)

// TestDevInBrowser: headless Chromium against a `signal dev` started by the
// test (embedded store; the views come from the in-process projector, not
// from inline dispatch): fill a cart, check out, watch the views update,
// follow the link to the console and travel back to version 1, see an error shown, and
// discard a cart.
func TestDevInBrowser(t *testing.T) {
	d := startDev(t)
	ctx := browser.Context(t)
	do, fill, click, wait := browser.Do, browser.Fill, browser.Click, browser.WaitText

	do(t, ctx, "open the page", chromedp.Navigate(d.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#add-form")))
	do(t, ctx, "open cart b1", fill("#cart-id", "b1"), click("#cart-open"))
	do(t, ctx, "add apples", fill("#add-sku", "apple", "#add-quantity", "2", "#add-price", "150"), click("#add-submit"))
	wait(t, ctx, "#cart-version", "1")
	do(t, ctx, "add a pear", fill("#add-sku", "pear", "#add-quantity", "1", "#add-price", "75"), click("#add-submit"))
	wait(t, ctx, "#cart-version", "2")
	wait(t, ctx, "#cart-total", "$3.75")
	wait(t, ctx, "#summary-total", "$3.75") // built by the projector from the change feed

	do(t, ctx, "complete the purchase", click("#purchase"))
	wait(t, ctx, "#cart-status", "purchased")
	wait(t, ctx, "#summary-status", "purchased")
	wait(t, ctx, `#sales tr[data-sku="apple"] .units`, "2")
	wait(t, ctx, `#sales tr[data-sku="pear"] .purchases`, "1")

	// The cart page's link to its events opens the console, which dev
	// serves beside the page, on the cart's history.
	do(t, ctx, "follow the link to the console", browser.Follow("#console-cart", console.Prefix, `body[data-ready="true"]`))
	wait(t, ctx, "#history-title", "cart b1: 3 events")
	do(t, ctx, "move the slider to version 1", chromedp.Focus(chromedp.CSS("#version-slider")), chromedp.KeyEvent(kb.Home))
	wait(t, ctx, "#version-value", "1")
	// The state at a version is fetched after the slider moves: wait for
	// the one of version 1 before reading it.
	wait(t, ctx, `#version-state[data-version="1"]`, "apple")
	if s := browser.Text(ctx, `#version-state[data-version="1"]`); strings.Contains(s, "pear") {
		t.Errorf("the state at version 1 is %q, want the apples only", s)
	}
	browser.Screenshot(t, ctx, "signal-dev.png")

	// A refused command shows the API's message to the person.
	do(t, ctx, "back to the cart page", chromedp.Navigate(d.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#add-form")))
	do(t, ctx, "open cart b2", fill("#cart-id", "b2"), click("#cart-open"))
	do(t, ctx, "add a negative quantity", fill("#add-sku", "fig", "#add-quantity", "-1", "#add-price", "10"), click("#add-submit"))
	wait(t, ctx, "#alert", "HTTP 422")

	// Discarding sends a DELETE, which the local guard takes only as JSON.
	do(t, ctx, "add a fig", fill("#add-sku", "fig", "#add-quantity", "1", "#add-price", "10"), click("#add-submit"))
	wait(t, ctx, "#cart-version", "1")
	do(t, ctx, "discard cart b2", click("#discard"))
	wait(t, ctx, "#cart-status", "discarded")
}
