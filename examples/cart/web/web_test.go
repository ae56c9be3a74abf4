package web_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/signalforgo/signal/internal/syncbuf"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/examples/cart/web"
	"github.com/signalforgo/signal/internal/browser"
	"github.com/signalforgo/signal/pkg/console"
	"github.com/signalforgo/signal/pkg/httpapi"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// Plain Go tests of the handler.

func get(t *testing.T, h http.Handler, method, path string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerServesPageAndAssets(t *testing.T) {
	h := web.Handler()
	for _, tc := range []struct{ path, contentType, contains string }{
		{"/", "text/html; charset=utf-8", `<script src="/ui/app.js" defer></script>`},
		{"/ui/app.js", "text/javascript; charset=utf-8", `"use strict";`},
		{"/ui/style.css", "text/css; charset=utf-8", ".panel"},
		{"/ui/favicon.svg", "image/svg+xml", "<svg"},
	} {
		res := get(t, h, http.MethodGet, tc.path, nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", tc.path, res.StatusCode)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != tc.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if got := res.Header.Get("Content-Security-Policy"); got != web.ContentSecurityPolicy {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, got)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", tc.path, got)
		}
		if !bytes.Contains(body, []byte(tc.contains)) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
		etag := res.Header.Get("ETag")
		if etag == "" || res.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: ETag %q, Cache-Control %q", tc.path, etag, res.Header.Get("Cache-Control"))
		}
		if res := get(t, h, http.MethodGet, tc.path, http.Header{"If-None-Match": {etag}}); res.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match: status %d, want 304", tc.path, res.StatusCode)
		}
		if res := get(t, h, http.MethodHead, tc.path, nil); res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != tc.contentType {
			t.Errorf("HEAD %s: status %d, Content-Type %q", tc.path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
}

func TestContentSecurityPolicyIsStrict(t *testing.T) {
	csp := web.ContentSecurityPolicy
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy lacks %q: %s", want, csp)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("policy allows %q: %s", bad, csp)
		}
	}
	// The page must need nothing the policy forbids: no inline script,
	// event handler attribute or style attribute.
	body, _ := io.ReadAll(get(t, web.Handler(), http.MethodGet, "/", nil).Body)
	for _, re := range []string{`<script(?:\s[^>]*)?>\s*[^<\s]`, `\son[a-z]+\s*=`, `\sstyle\s*=`, `<style`, `javascript:`} {
		if m := regexp.MustCompile(re).Find(body); m != nil {
			t.Errorf("index.html has %q, which the policy blocks", m)
		}
	}
}

func TestHandlerRefusesOtherPathsAndMethods(t *testing.T) {
	h := web.Handler()
	for _, path := range []string{"/ui/", "/ui/missing.js", "/ui/app.js/", "/index.html", "/static/app.js", "/ui/../ui/app.js.map"} {
		res := get(t, h, http.MethodGet, path, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, res.StatusCode)
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy on the 404", path)
		}
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		res := get(t, h, method, "/", nil)
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /: status %d, Allow %q", method, res.StatusCode, res.Header.Get("Allow"))
		}
	}
}

// TestScriptFindsItsElements checks that every id app.js reads with $("…")
// is in index.html (or is one the script creates itself), and that the
// ids the comment of index.html documents exist.
func TestScriptFindsItsElements(t *testing.T) {
	html, _ := io.ReadAll(get(t, web.Handler(), http.MethodGet, "/", nil).Body)
	js, _ := io.ReadAll(get(t, web.Handler(), http.MethodGet, "/ui/app.js", nil).Body)
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllSubmatch(html, -1) {
		ids[string(m[1])] = true
	}
	created := map[string]bool{"alert-message": true, "alert-dismiss": true}
	for _, m := range regexp.MustCompile(`\$\("([^"]+)"\)`).FindAllSubmatch(js, -1) {
		if id := string(m[1]); !ids[id] && !created[id] {
			t.Errorf("app.js reads #%s, which index.html lacks", id)
		}
	}
	for _, id := range []string{"alert", "status", "cart-id", "add-sku", "add-quantity", "add-price", "add-submit",
		"remove-sku", "remove-quantity", "remove-submit", "purchase", "discard", "summary", "sales",
		"console-cart", "console-order"} {
		if !ids[id] {
			t.Errorf("index.html lacks #%s", id)
		}
		if !bytes.Contains(html[:bytes.Index(html, []byte("<html"))], []byte(id)) {
			t.Errorf("the comment of index.html does not document #%s", id)
		}
	}
	// Every input and select has a label.
	for _, m := range regexp.MustCompile(`<(?:input|select)\s[^>]*id="([^"]+)"`).FindAllSubmatch(html, -1) {
		if !bytes.Contains(html, []byte(`<label for="`+string(m[1])+`"`)) {
			t.Errorf("#%s has no label", m[1])
		}
	}
}

// ExampleHandler shows how the page is mounted beside the console and the
// API, as the browser test does.
func ExampleHandler() {
	quiet := slog.New(slog.DiscardHandler)
	svc, _ := signal.New(signal.Config{Store: memstore.New(), Types: cart.Types(), Subscribers: cart.Subscribers(), InlineDispatch: true, Logger: quiet})
	api, _ := httpapi.New(httpapi.Config{Service: svc, Routes: httpapi.AllRoutes, AppName: "cart", Logger: quiet})
	mux := http.NewServeMux()
	mux.Handle("/{$}", web.Handler())
	mux.Handle(web.Prefix, web.Handler())
	mux.Handle(console.Prefix, console.Handler())
	mux.Handle("/", api)

	for _, path := range []string{"/", "/ui/app.js", "/console/", "/healthz", "/aggregates/cart/c1"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(path, rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// / 200 text/html; charset=utf-8
	// /ui/app.js 200 text/javascript; charset=utf-8
	// /console/ 200 text/html; charset=utf-8
	// /healthz 200 application/json
	// /aggregates/cart/c1 404 application/json
}

// The browser test.

// server starts the page, the console and the API of a cart service on
// one origin, the way `signal dev` serves them, and returns its URL and
// service.
func server(t *testing.T) (string, *signal.Service) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	svc, err := signal.New(signal.Config{
		Store:          memstore.New(),
		Types:          cart.Types(),
		Subscribers:    cart.Subscribers(),
		InlineDispatch: true,
		Logger:         logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Config{Service: svc, Routes: httpapi.AllRoutes, AppName: "cart", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/{$}", web.Handler())
	mux.Handle(web.Prefix, web.Handler())
	mux.Handle(console.Prefix, console.Handler())
	mux.Handle("/", api)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, svc
}

// The shared chromedp helpers, under the names this file uses.
var (
	waitText   = browser.WaitText
	text       = browser.Text
	count      = browser.Count
	do         = browser.Do
	fill       = browser.Fill
	click      = browser.Click
	screenshot = browser.Screenshot
)

// attr returns the attribute of the element of the selector.
func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		t.Fatalf("reading %s of %s: %v", name, sel, err)
	}
	return v.Value
}

// followLink clicks the link of the selector and waits until the console
// it leads to has loaded and read the app.
func followLink(sel string) chromedp.Action[chromedp.Void] {
	return browser.Follow(sel, console.Prefix, `body[data-ready="true"]`)
}

// doubleClick clicks the element twice the way a mouse double click does:
// a click, then a click with click count 2.
func doubleClick(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		nodes, err := chromedp.Nodes(chromedp.CSS(sel), chromedp.NodeVisible)(ctx, tgt)
		if err != nil {
			return err
		}
		if _, err := chromedp.MouseClickNode(nodes[0])(ctx, tgt); err != nil {
			return err
		}
		_, err = chromedp.MouseClickNode(nodes[0], chromedp.ClickCount(2))(ctx, tgt)
		return err
	})
}

func TestPageInBrowser(t *testing.T) {
	start := time.Now()
	url, svc := server(t)
	ctx := browser.Context(t)

	// An exception or a Content-Security-Policy or Trusted Types
	// violation in the browser console fails the test.
	problems := browser.WatchConsole(t, ctx)

	do(t, ctx, "open the page", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#add-form")))
	if id, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#cart-id"))); !regexp.MustCompile(`^cart-[0-9a-f]{8}$`).MatchString(id) {
		t.Errorf("the default cart id is %q, want a random cart-xxxxxxxx", id)
	}
	waitText(t, ctx, "#cart-status", "new")

	// Open cart c1 and add two items; the second with a double click,
	// which must add once.
	do(t, ctx, "open cart c1", fill("#cart-id", "c1"), click("#cart-open"))
	waitText(t, ctx, "#summary-key", "c1")
	do(t, ctx, "add apples", fill("#add-sku", "apple", "#add-quantity", "2", "#add-price", "150"), click("#add-submit"))
	waitText(t, ctx, "#cart-version", "1")
	waitText(t, ctx, `#cart-items tr[data-sku="apple"] .quantity`, "2")
	waitText(t, ctx, "#status", "done")
	do(t, ctx, "add pears", fill("#add-sku", "pear", "#add-quantity", "3", "#add-price", "75"), doubleClick("#add-submit"))
	waitText(t, ctx, "#cart-version", "2")
	waitText(t, ctx, `#cart-items tr[data-sku="pear"] .quantity`, "3")
	waitText(t, ctx, "#cart-total", "$5.25")
	waitText(t, ctx, "#cart-status", "open")
	if n := count(t, ctx, "#cart-items tr"); n != 2 {
		t.Errorf("the cart lists %d lines, want 2", n)
	}

	// The views follow.
	waitText(t, ctx, "#summary-total", "$5.25")
	waitText(t, ctx, "#summary-version", "2")
	waitText(t, ctx, `#summary-items li[data-sku="pear"]`, "pear × 3")
	waitText(t, ctx, `#sales tr[data-sku="apple"] .units`, "0")

	// Check out.
	do(t, ctx, "complete the purchase", click("#purchase"))
	waitText(t, ctx, "#cart-status", "purchased")
	waitText(t, ctx, "#cart-version", "3")
	waitText(t, ctx, "#summary-status", "purchased")
	waitText(t, ctx, "#summary-version", "3")
	waitText(t, ctx, `#sales tr[data-sku="apple"] .units`, "2")
	waitText(t, ctx, `#sales tr[data-sku="apple"] .revenue`, "$3.00")
	waitText(t, ctx, `#sales tr[data-sku="pear"] .units`, "3")
	waitText(t, ctx, `#sales tr[data-sku="pear"] .revenue`, "$2.25")
	waitText(t, ctx, `#sales tr[data-sku="pear"] .purchases`, "1")

	// The double click added once: three events in all.
	page, err := svc.History(context.Background(), "cart", "c1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range page.Events {
		names = append(names, e.Name)
	}
	if want := []string{"ItemAdded", "ItemAdded", "PurchaseCompleted"}; !slices.Equal(names, want) {
		t.Errorf("cart c1 recorded %v, want %v", names, want)
	}

	// The histories are the console's: the page links to them.
	if href := attr(t, ctx, "#console-cart", "href"); href != "/console/#cart/c1" {
		t.Errorf("the cart's history link is %q", href)
	}
	if href := attr(t, ctx, "#console-order", "href"); href != "/console/#order/c1" {
		t.Errorf("the order's history link is %q", href)
	}
	screenshot(t, ctx, "cart.png")

	// A refusal: a negative quantity is a 422 whose message the page shows.
	do(t, ctx, "start a new cart", click("#cart-new"))
	waitText(t, ctx, "#cart-status", "new")
	do(t, ctx, "add a negative quantity", fill("#add-sku", "apple", "#add-quantity", "-2", "#add-price", "150"), click("#add-submit"))
	waitText(t, ctx, "#alert", "quantity must be between 1 and 10000")
	waitText(t, ctx, "#alert", "HTTP 422")
	if n := count(t, ctx, `#add-quantity[aria-invalid="true"]`); n != 1 {
		t.Errorf("the quantity field is not marked invalid")
	}
	if v := text(ctx, "#cart-version"); v != "0" {
		t.Errorf("the refused command changed the cart: version %q", v)
	}
	// A closed cart answers 410, shown the same way.
	do(t, ctx, "reopen c1", fill("#cart-id", "c1"), click("#cart-open"))
	waitText(t, ctx, "#cart-status", "purchased")
	do(t, ctx, "add to a purchased cart", fill("#add-sku", "apple", "#add-quantity", "1"), click("#add-submit"))
	waitText(t, ctx, "#alert", "HTTP 410")
	screenshot(t, ctx, "error.png")

	// Readable on a phone: nothing wider than the screen.
	do(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Sleep(200*time.Millisecond))
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 390 {
		t.Errorf("on a 390px screen the page is %d px wide (%v)", w, err)
	}
	screenshot(t, ctx, "phone.png")

	// The links open the console on the cart's and the order's history,
	// with time travel.
	do(t, ctx, "desktop viewport", chromedp.EmulateViewport(1280, 900))
	do(t, ctx, "follow the cart's history link", followLink("#console-cart"))
	waitText(t, ctx, "#history-title", "cart c1: 3 events, version 3 (closed)")
	if n := count(t, ctx, `#events li[data-version]`); n != 3 {
		t.Fatalf("the console lists %d events of c1, want 3", n)
	}
	waitText(t, ctx, `#events li[data-version="1"] .event-name`, "ItemAdded")
	waitText(t, ctx, `#events li[data-version="1"] .event-data`, `"sku": "apple"`)
	waitText(t, ctx, `#events li[data-version="3"] .event-name`, "PurchaseCompleted")
	waitText(t, ctx, `#events li[data-version="1"] dd.command-id`, page.Events[0].CommandID)
	do(t, ctx, "move the slider to version 1", chromedp.Focus(chromedp.CSS("#version-slider")), chromedp.KeyEvent(kb.Home))
	waitText(t, ctx, `#version-state[data-version="1"]`, `"apple"`)
	if s := text(ctx, "#version-state"); strings.Contains(s, "pear") {
		t.Errorf("the state at version 1 is %q, want the apples only", s)
	}
	do(t, ctx, "back to the cart", chromedp.Navigate(url+"/#cart=c1"))
	waitText(t, ctx, "#cart-status", "purchased")
	do(t, ctx, "follow the order's history link", followLink("#console-order"))
	waitText(t, ctx, "#history-title", "order c1: 1 event, version 1")
	waitText(t, ctx, `#events li[data-version="1"] .event-name`, "OrderOpened")
	waitText(t, ctx, "#version-state", `"total": 525`)

	if p := problems(); len(p) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(p, "\n"))
	}
	t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond))
}
