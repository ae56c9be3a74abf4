package console_test

import (
	"context"
	"github.com/signalforgo/signal/internal/syncbuf"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/signalforgo/signal/internal/browser"
	"github.com/signalforgo/signal/internal/testbank"
	"github.com/signalforgo/signal/pkg/console"
	"github.com/signalforgo/signal/pkg/httpapi"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// server serves the bank's API and the console on one origin behind
// httpapi.LocalGuard, as a local runtime does, and returns its URL and
// service. The same handlers are served under /prod/ too, as behind an
// API Gateway stage the handlers do not see.
func server(t *testing.T) (string, *signal.Service, *pathLog) {
	t.Helper()
	svc, mux, _ := bankMux(t, nil)
	staged := http.NewServeMux()
	prod := &pathLog{}
	staged.Handle("/prod/", prod.record(http.StripPrefix("/prod", mux)))
	staged.Handle("/", mux)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = httpapi.LocalGuard(staged, httpapi.LocalOptions{Addr: srv.Listener.Addr().String()})
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL, svc, prod
}

// bankMux serves the bank on a new memory store, its subscribers inline
// and rule as its Authorize (nil: none): the console under its prefix,
// the API everywhere else. Its log is shown when the test fails.
func bankMux(t *testing.T, rule signal.Authorizer) (*signal.Service, *http.ServeMux, *slog.Logger) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	cfg := bankApp.Config(memstore.New(), true)
	cfg.InlineDispatch, cfg.Logger, cfg.Authorize = true, logger, rule
	svc, err := signal.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Config{Service: svc, AppName: bankApp.Name, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, console.Handler())
	mux.Handle("/", api)
	return svc, mux, logger
}

// pathLog records the paths of the requests a handler serves.
type pathLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *pathLog) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.paths = append(l.paths, r.URL.Path)
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *pathLog) has(path string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.paths, path)
}

var (
	waitText = browser.WaitText
	text     = browser.Text
	count    = browser.Count
	do       = browser.Do
	fill     = browser.Fill
	click    = browser.Click
	choose   = browser.Choose
)

// TestConsoleInBrowser drives the console in Chromium through what a
// developer does with it: the types listed, commands sent through the
// form, a history with time travel, a view document, a deep link, the
// console under a stage prefix and on a phone's screen.
func TestConsoleInBrowser(t *testing.T) {
	start := time.Now()
	url, svc, prod := server(t)
	ctx := browser.Context(t)
	problems := browser.WatchConsole(t, ctx)

	do(t, ctx, "open the console", chromedp.Navigate(url+"/console/"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	waitText(t, ctx, "#app-name", "bank")
	checkTypesListed(t, ctx)
	sendThroughForm(t, ctx)
	page, err := svc.History(context.Background(), "account", "a1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 3 {
		t.Fatalf("a1 recorded %d events, want 3", len(page.Events))
	}
	if !strings.HasPrefix(page.Events[0].CommandID, "console-") {
		t.Errorf("the command id is %q: the console did not send its Idempotency-Key", page.Events[0].CommandID)
	}
	checkHistoryTimeTravel(t, ctx, page.Events[0].CommandID)
	checkViewDocument(t, ctx)
	browser.Screenshot(t, ctx, "console.png")
	checkDeepLink(t, ctx, url, svc)
	checkActors(t, ctx, url, svc)
	checkUnderStagePrefix(t, ctx, url, prod)

	// Readable on a phone: nothing wider than the screen.
	do(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Sleep(200*time.Millisecond))
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 390 {
		t.Errorf("on a 390px screen the console is %d px wide (%v)", w, err)
	}
	browser.Screenshot(t, ctx, "console-phone.png")

	if p := problems(); len(p) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(p, "\n"))
	}
	t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond))
}

// checkTypesListed: the console lists the types, their commands with
// their fields, their events; internal commands are not offered in the
// form, nor a type that has only those.
func checkTypesListed(t *testing.T, ctx context.Context) {
	t.Helper()
	if n := count(t, ctx, "#types section.type"); n != 2 {
		t.Errorf("the console lists %d types, want 2", n)
	}
	acct := `#types section.type[data-type="account"] `
	waitText(t, ctx, acct+`li.command[data-command="Open"] .badge.genesis`, "genesis")
	waitText(t, ctx, acct+`li.command[data-command="Open"] li.field[data-field="owner"]`, "owner: string")
	waitText(t, ctx, acct+`li.command[data-command="Deposit"] li.field[data-field="amount"]`, "amount: integer")
	waitText(t, ctx, acct+`li.command[data-command="Deposit"] li.field[data-field="memo"]`, "memo: string (optional)")
	waitText(t, ctx, acct+`li.command[data-command="Freeze"] .badge.internal`, "internal")
	waitText(t, ctx, acct+`li.event[data-event="Withdrawn"]`, "Withdrawn")
	waitText(t, ctx, `#types section.type[data-type="audit"] li.command[data-command="Record"] .badge.internal`, "internal")

	// Internal commands are not offered, nor a type that has only those.
	for sel, want := range map[string]int{
		`#command-type option`:                 1,
		`#command-type option[value="audit"]`:  0,
		`#command-name option`:                 3,
		`#command-name option[value="Freeze"]`: 0,
		`#history-type option`:                 2,
		`#history-type option[value="audit"]`:  1,
		`#view-names option[value="balances"]`: 1,
	} {
		if n := count(t, ctx, sel); n != want {
			t.Errorf("%d of %s, want %d", n, sel, want)
		}
	}
}

// sendThroughForm sends commands to account a1 through the form (the
// fields follow the chosen command): Open, Deposit 100, Withdraw 30 and
// a refused Withdraw 500; then a value of the wrong type, refused before
// any request.
func sendThroughForm(t *testing.T, ctx context.Context) {
	t.Helper()
	send := func(what, cmd, id string, fields ...string) {
		t.Helper()
		do(t, ctx, what, choose("#command-name", cmd), fill(append([]string{"#command-id", id}, fields...)...), click("#command-submit"))
	}
	send("open a1", "Open", "a1", `#command-fields [data-field="owner"]`, "ada")
	waitText(t, ctx, "#command-result .result-line.ok", "HTTP 201 created: account a1 is at version 1.")
	if n := count(t, ctx, `#command-fields [data-field]`); n != 1 {
		t.Errorf("Open shows %d fields, want 1", n)
	}
	send("deposit 100", "Deposit", "a1", `#command-fields [data-field="amount"]`, "100")
	waitText(t, ctx, "#command-result .result-line.ok", "HTTP 200: account a1 is at version 2.")
	if n := count(t, ctx, `#command-fields input[data-field="amount"][type="number"]`); n != 1 {
		t.Errorf("the amount is not a number input")
	}
	send("withdraw 30", "Withdraw", "a1", `#command-fields [data-field="amount"]`, "30")
	waitText(t, ctx, "#command-result .result-line.ok", "version 3.")
	waitText(t, ctx, "#command-result pre", `"balance": 70`)

	// A refusal: the domain's message in the alert, the JSON error below the form.
	send("withdraw too much", "Withdraw", "a1", `#command-fields [data-field="amount"]`, "500")
	waitText(t, ctx, "#alert", "insufficient funds: the balance is 70")
	waitText(t, ctx, "#alert", "HTTP 422")
	waitText(t, ctx, "#command-result .result-line.error", "HTTP 422 rejected")
	waitText(t, ctx, "#command-result pre", `"code": "rejected"`)
	// A value of the wrong type is refused before any request.
	send("deposit half a unit", "Deposit", "a1", `#command-fields [data-field="amount"]`, "1.5")
	waitText(t, ctx, "#alert", "amount must be a whole number.")
	if n := count(t, ctx, `#command-fields [data-field="amount"][aria-invalid="true"]`); n != 1 {
		t.Errorf("the amount field is not marked invalid")
	}
}

// checkHistoryTimeTravel: the history of a1, whose first command had id
// firstCommandID, lists its events, and the slider and the events'
// buttons show the state at earlier versions, behind a deep link.
func checkHistoryTimeTravel(t *testing.T, ctx context.Context, firstCommandID string) {
	t.Helper()
	waitText(t, ctx, "#history-title", "account a1: 3 events, version 3")
	if n := count(t, ctx, `#events li[data-version]`); n != 3 {
		t.Fatalf("the history lists %d events, want 3", n)
	}
	waitText(t, ctx, `#events li[data-version="1"] .event-name`, "Opened")
	waitText(t, ctx, `#events li[data-version="2"] .event-data`, `"amount": 100`)
	waitText(t, ctx, `#events li[data-version="3"] .event-name`, "Withdrawn")
	waitText(t, ctx, `#events li[data-version="1"] dd.command-id`, firstCommandID)
	waitText(t, ctx, "#version-state", `"balance": 70`)
	do(t, ctx, "move the slider to version 1", chromedp.Focus(chromedp.CSS("#version-slider")), chromedp.KeyEvent(kb.Home))
	waitText(t, ctx, "#version-value", "1")
	waitText(t, ctx, `#version-state[data-version="1"]`, `"balance": 0`)
	if s := text(ctx, "#version-state"); !strings.Contains(s, `"owner": "ada"`) {
		t.Errorf("the state at version 1 is %q", s)
	}
	if n := count(t, ctx, "#events li.future"); n != 2 {
		t.Errorf("%d events are marked as after version 1, want 2", n)
	}
	do(t, ctx, "show the state at version 2", click(`#events li[data-version="2"] button.goto`))
	waitText(t, ctx, `#version-state[data-version="2"]`, `"balance": 100`)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/console/#account/a1") {
		t.Errorf("the location is %s, want the deep link of a1", loc)
	}
}

// checkViewDocument: a view document read by name and key, and one that
// is not there.
func checkViewDocument(t *testing.T, ctx context.Context) {
	t.Helper()
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#view-name"))); v != "balances" {
		t.Errorf("the view name is %q, want the app's only view", v)
	}
	do(t, ctx, "read balances/a1", fill("#view-key", "a1"), click("#view-load"))
	waitText(t, ctx, "#view-meta", "balances/a1, version 3")
	waitText(t, ctx, "#view-doc", `"balance": 70`)
	do(t, ctx, "read balances/nobody", fill("#view-key", "nobody"), click("#view-load"))
	waitText(t, ctx, "#alert", "HTTP 404")
	waitText(t, ctx, "#view-meta", "No document balances/nobody")
}

// checkDeepLink: a deep link opens any aggregate's history, one of a
// type with only internal commands included.
func checkDeepLink(t *testing.T, ctx context.Context, url string, svc *signal.Service) {
	t.Helper()
	if _, err := svc.Handle(context.Background(), "audit", "log 1", testbank.Record{Note: "opened a1"}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "follow a deep link", chromedp.Navigate(url+"/console/#audit/log%201"))
	waitText(t, ctx, "#history-title", "audit log 1: 1 event, version 1")
	waitText(t, ctx, `#events li[data-version="1"] .event-name`, "Recorded")
	waitText(t, ctx, "#version-state", `"opened a1"`)
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#history-type"))); v != "audit" {
		t.Errorf("the history type is %q after the deep link", v)
	}
}

// checkActors: the history shows who each event was handled for: the
// caller's subject, and nothing for an event written without a caller
// (a1's, sent through the console).
func checkActors(t *testing.T, ctx context.Context, url string, svc *signal.Service) {
	t.Helper()
	as := signal.WithPrincipal(context.Background(), &signal.Principal{Subject: "ada@example.com"})
	if _, err := svc.Handle(as, "account", "a2", testbank.Open{Owner: "ada"}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "open the history of a2", chromedp.Navigate(url+"/console/#account/a2"))
	waitText(t, ctx, "#history-title", "account a2: 1 event, version 1")
	waitText(t, ctx, `#events li[data-version="1"] dd.actor`, "ada@example.com")
	do(t, ctx, "open the history of a1", chromedp.Navigate(url+"/console/#account/a1"))
	waitText(t, ctx, "#history-title", "account a1: 3 events, version 3")
	if n := count(t, ctx, "#events dd.actor"); n != 0 {
		t.Errorf("a1's history shows %d actors, want none", n)
	}
}

// checkUnderStagePrefix: under a stage prefix the console finds its
// assets and the API beside it: every URL it uses is relative.
func checkUnderStagePrefix(t *testing.T, ctx context.Context, url string, prod *pathLog) {
	t.Helper()
	do(t, ctx, "open the console under /prod", chromedp.Navigate(url+"/prod/console/#account/a1"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	waitText(t, ctx, "#app-name", "bank")
	waitText(t, ctx, "#history-title", "account a1: 3 events, version 3")
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/prod/console/#account/a1") {
		t.Errorf("the location is %s, want the console under /prod", loc)
	}
	for _, p := range []string{"/prod/console/console.js", "/prod/console/console.css", "/prod/app", "/prod/aggregates/account/a1/events"} {
		if !prod.has(p) {
			t.Errorf("the console under /prod did not request %s", p)
		}
	}
}
