// Package console is the web console of any Signal app: one page, plain
// HTML with a small dependency-free script and a style sheet, embedded in
// the binary, with no build step. It talks only to the same-origin HTTP
// API of package httpapi (docs/API.md) and knows nothing of the domain:
// everything it shows comes from GET /app.
//
// The page lists the app's aggregate types with their commands (the JSON
// fields each takes, genesis and internal marks) and events; sends a
// command from a form built from those fields (internal commands are not
// offered) and shows the answer, or the API's JSON error; browses any
// aggregate's history with time travel (the state at any version, GET
// /aggregates/{type}/{id}?version=N), each event with its metadata, the
// actor (who its command was handled for) among them; and reads a view
// document by name and key.
//
// Against `signal dev -insecure-dev-auth` (httpapi.InsecureDevPrincipal),
// the page's "Caller" field sends X-Signal-Insecure-Principal (e.g.
// "sub=alice; groups=admin") with every request, so the app's
// authorization rule can be tried from the page; it is kept for the
// tab's session. Every other server ignores that header: a deployed API
// takes the caller only from its authorizer, and the page sends no token
// of its own, so behind a JWT or IAM authorizer its requests are refused.
//
// Handler serves the page at Prefix and its assets under it. Mount it
// beside the API, which takes every other path:
//
//	api, _ := httpapi.New(httpapi.Config{Service: svc, AppName: app.Name})
//	mux := http.NewServeMux()
//	mux.Handle(console.Prefix, console.Handler())
//	mux.Handle("/", api)
//
// or hand it to the API as its pages (httpapi.Config.Pages), which every
// transport, Lambda included, then serves for GET paths the API does not
// have:
//
//	api, _ := httpapi.New(httpapi.Config{Service: svc, AppName: app.Name, Pages: console.Handler()})
//
// The page reaches the API at the parent of its own path ("/console/" ->
// "/"), by relative URLs only, so it works under any prefix the handler
// does not see, such as an API Gateway stage ("/prod/console/" talks to
// "/prod/app").
//
// # Deep links
//
// "/console/#<type>/<id>" (each part percent-encoded, as
// encodeURIComponent does) opens the history of that aggregate, so
// another page (the cart example's) can link to it.
//
// # Security
//
// Every answer carries ContentSecurityPolicy (scripts, styles, images and
// fetches from the same origin only, no inline script or style, Trusted
// Types required with no policy, no framing, no form posts), nosniff,
// no-referrer, X-Frame-Options: DENY and a same-origin opener policy
// (SetSecurityHeaders). The script builds the page with DOM nodes and
// textContent only, never HTML from data. Assets are revalidated by ETag
// (Cache-Control: no-cache), so a new binary never serves a stale script.
// The console sends commands with Content-Type: application/json and an
// Idempotency-Key, as httpapi.LocalGuard requires of a local server.
package console
