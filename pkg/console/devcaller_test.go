package console_test

import (
	"github.com/signalforgo/signal/internal/testbank"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/signalforgo/signal/internal/browser"
	"github.com/signalforgo/signal/pkg/httpapi"
)

// devAuthServer serves the bank with the rule testbank.OwnersOnly as `signal dev
// -insecure-dev-auth` does: the console and the API behind
// InsecureDevPrincipal, behind the local guard.
func devAuthServer(t *testing.T) string {
	t.Helper()
	_, mux, logger := bankMux(t, testbank.OwnersOnly)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = httpapi.LocalGuard(httpapi.InsecureDevPrincipal(mux, logger), httpapi.LocalOptions{Addr: srv.Listener.Addr().String()})
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestConsoleDevCaller: against a server with insecure dev auth, the
// console acts as the caller typed in its dev caller field: none is
// refused 401, the owner sends and reads (the history naming it as the
// actor), another caller is refused 403; the field outlives a reload.
func TestConsoleDevCaller(t *testing.T) {
	url := devAuthServer(t)
	ctx := browser.Context(t)
	problems := browser.WatchConsole(t, ctx)
	do(t, ctx, "open the console", chromedp.Navigate(url+"/console/#account/z1"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	waitText(t, ctx, "#alert", "HTTP 401")
	waitText(t, ctx, "#alert", "authentication required")
	if n := count(t, ctx, "#dev-caller-panel[open]"); n != 0 {
		t.Errorf("the dev caller is shown before anyone asked for it")
	}

	do(t, ctx, "open z1 as ada", click("#dev-caller-panel summary"), fill("#dev-caller", "sub=ada; groups=tellers"), choose("#command-name", "Open"),
		fill("#command-id", "z1", `#command-fields [data-field="owner"]`, "ada"), click("#command-submit"))
	waitText(t, ctx, "#command-result .result-line.ok", "HTTP 201 created: account z1 is at version 1.")
	do(t, ctx, "show z1's history as ada", fill("#history-id", "z1"), click("#history-load"))
	waitText(t, ctx, "#history-title", "account z1: 1 event, version 1")
	waitText(t, ctx, `#events li[data-version="1"] dd.actor`, "ada")

	do(t, ctx, "show z1's history as bob", fill("#dev-caller", "sub=bob"), click("#history-load"))
	waitText(t, ctx, "#alert", "HTTP 403")
	waitText(t, ctx, "#alert", "account z1 belongs to someone else")

	do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#dev-caller"))); v != "sub=bob" || count(t, ctx, "#dev-caller-panel[open]") != 1 {
		t.Errorf("after a reload the dev caller is %q (shown: %d), want the session's sub=bob, shown", v, count(t, ctx, "#dev-caller-panel[open]"))
	}
	do(t, ctx, "a caller fetch cannot send", fill("#dev-caller", "sub=ädá"), click("#history-load"))
	waitText(t, ctx, "#alert", "printable ASCII")
	if p := problems(); len(p) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(p, "\n"))
	}
}
