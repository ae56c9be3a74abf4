// Package httpapi is the HTTP adapter of a signal.Service: a Handler,
// an http.Handler whose routes sit on an http.ServeMux, served on
// net/http (ServeHTTP, for `signal dev`) and behind API Gateway HTTP APIs
// (payload 2.0, HandleV2), REST APIs (payload 1.0, HandleV1), Lambda
// function URLs (HandleFunctionURL), any of them detected from the raw
// payload (Lambda).
//
// A Lambda event becomes an *http.Request (method, path, query, canonical
// headers, body decoded from base64 where flagged) and its answer is
// written to a buffering http.ResponseWriter that becomes the event's
// response, as aws-lambda-go's lambdaurl does: the same routes, and
// Config.Pages, answer every transport, so all of them answer the same
// statuses, headers and bytes. A request problem is always an HTTP
// response, never a Go error (which API Gateway would turn into a 502).
//
// Files, one idea each: routes.go (the table and the mux), paths.go
// (what the mux must not see), serve.go (the one way in: common headers,
// dispatch, 404/405 and pages), exchange.go (the ResponseWriter a request
// is answered through), handlers.go, answer.go (bodies, reply, fail),
// params.go (command headers, query parameters), body.go (limits,
// discarding), record.go (log line, OnRequest), event.go and lambda.go
// (Lambda events), cors.go, errors.go (StatusOf), describe.go (GET /app),
// principal.go (the caller of a Lambda event), guard.go, listener.go and
// devprincipal.go (local development).
//
// # Routes
//
//	POST   /aggregates/{type}/{id}/{command}   command JSON body (empty = {}, null refused); 201 created, else 200
//	DELETE /aggregates/{type}/{id}             end the aggregate (its type's End rule); 200
//	GET    /aggregates/{type}/{id}             current state; ?version=N replays to version N
//	GET    /aggregates/{type}/{id}/events      history page: ?after=N&limit=M
//	GET    /views/{view}/{key}                 a projection document
//	GET    /app                                the app described: its types, commands (with their JSON fields), events, views
//	GET    /healthz                            liveness, on both route sets
//	OPTIONS any path                           CORS preflight (204), when CORS is configured
//
// Command answers are {"type","id","version","state","events"}, state
// reads {"type","id","version","state","closed"}, history pages
// {"type","id","events","next"} (next omitted at the end), views
// {"view","key","version","data"}, the app {"name","types","views"}
// (Config.AppName, the Service's types, Config.Views). Commands, state reads and views carry
// ETag: "<version>".
//
// Request headers on commands: Idempotency-Key (the command id: a repeat
// appends nothing and answers the original response byte for byte, with
// X-Signal-Duplicate: true), If-Match: "<version>" (also 5 and W/"5"; "0"
// means "must not exist yet"; a mismatch is 412), X-Correlation-Id (the
// events' correlation id; the request id otherwise). Repeating one of them
// is a 400.
//
// # Decisions
//
//   - Routes are http.ServeMux patterns ("GET /aggregates/{type}/{id}"):
//     the mux splits the escaped path into segments and unescapes each
//     before matching, so unicode ids work, "%2F" inside an id becomes
//     '/', which ids may not hold (400), instead of splitting the path,
//     and a literal may be percent-encoded (/%61pp is /app, equivalent
//     URIs by RFC 3986). HTTP APIs decode rawPath before Lambda sees it,
//     so there "%2F" arrives as a real '/' and the path matches no route
//     (404), and an id holding a literal '%' cannot be addressed; REST
//     APIs and function URLs pass the path still encoded, as net/http does.
//   - The mux would answer some requests itself: it redirects a path with
//     an empty, "." or ".." segment to its cleaned form, and serves HEAD
//     with a GET route. The API answers them in JSON instead, never with
//     a redirect: such requests (and event paths that are not validly
//     percent-encoded, which an http.Request cannot hold) are matched by
//     their shape against the same routes. A path of a route's shape
//     with an empty parameter is a 400 naming it ("missing id":
//     /aggregates/cart//AddItem, /aggregates/cart/); "." and ".." reach
//     the route, which refuses them as ids (400); a bad escape in a
//     parameter is a 400 naming it; HEAD is served by no route (405 on a
//     route's path, else a page or 404). A path of no route's shape
//     (/aggregates/cart, //healthz) is a 404.
//   - net/http answers a request it cannot parse (an invalid percent
//     escape in the path, say) itself, in plain text, before any handler
//     runs. A server on Listener answers those with the JSON error too.
//   - A known path asked with another method is a 405 with Allow (the
//     mux's list, without the HEAD it adds beside GET, with OPTIONS when
//     CORS is configured); a route not enabled by Config.Routes is not
//     registered (404, and not in Allow). Config.Pages answers the GET
//     and HEAD requests the mux has no route for, beside it.
//   - Errors are {"error":{"code","message"}}, code being the signal.Kind's
//     code ("method_not_allowed" for 405) and message signal.PublicMessage
//     ("method not allowed" for 405, with Allow). StatusOf is the only map
//     from errors to statuses. A 500 says "internal error" only; the full
//     error goes to the log line. A 503 carries Retry-After: 1.
//   - Every answer, pages included, carries X-Content-Type-Options:
//     nosniff and X-Request-Id.
//   - A command registered signal.Internal (one only the service itself
//     sends, from a policy or other Go code) is a 403 "forbidden" from
//     signal.Service.HandleJSON, before its body is decoded or the
//     aggregate read: malformed, null or valid, nothing is read or
//     written, on every entry point. Only the body limit (413) and the
//     command headers (400) are checked before it.
//   - A command body is decoded by signal.Service.HandleJSON, strictly:
//     null, invalid UTF-8, escaped lone surrogates and repeated member
//     names are a 400 (encoding/json alone would take null for {} and
//     silently rewrite or drop the rest, so two different bodies could
//     become one command).
//   - The body limit (Config.MaxBodyBytes) is checked before decoding:
//     from Content-Length, by reading one byte past it, or on the decoded
//     base64 of a Lambda event. Only routes that take a body read it.
//     On net/http, a body left unread (too large, or sent to a route that
//     takes none) is then read and discarded, up to 8 MiB within 5 s,
//     before the answer is written: otherwise the server closes with
//     unread data, the client's upload is reset, and most clients report
//     the reset instead of reading the 413.
//   - Event times are answered in UTC to the millisecond, the precision
//     stores keep, so a duplicate read back from the store answers the
//     same bytes as the original command did.
//   - A panic while serving is answered as a 500 and logged with its stack.
//   - A payload 1.0 event from an HTTP API with a named stage has the
//     stage stripped by Lambda (it tells REST from HTTP APIs by the
//     "version" field); HandleV1 assumes a REST API, whose path has no stage.
//
// # The caller
//
// Each request runs with its caller, a signal.Principal, in its context
// (signal.WithPrincipal), for the Service's Authorize rule and the actor
// its commits record; none (nil) is an anonymous request. The Lambda
// adapters take it only from the event's request context, which API
// Gateway or the function URL wrote after verifying the caller: an HTTP
// API's JWT (claims, scopes), IAM or Lambda authorizer
// (requestContext.authorizer.jwt, .iam, .lambda), a REST API's Cognito
// user pool authorizer (authorizer.claims), Lambda authorizer
// (authorizer.principalId and its context) or IAM caller
// (requestContext.identity), a function URL's AWS_IAM caller
// (authorizer.iam). They trust it as it is and never read or verify a
// token (an Authorization header): that is the gateway's job, done
// before the function runs. The event alone decides: a context that
// already carried a principal does not make an anonymous event
// authenticated. Config.Auth names the claims of the tenant and the
// groups; docs/API.md has the table of sources.
//
// ServeHTTP takes the principal its request's context carries, which
// only a middleware puts there: InsecureDevPrincipal (signal dev
// -insecure-dev-auth), or a user's own that verified the caller.
//
// # Local development
//
// A server on a developer's machine (signal dev) adds two pieces:
// LocalGuard, which refuses what another site's web page could send it
// (a Host that is not local: 421; a foreign Origin: 403; a command without
// Content-Type: application/json: 415), and Listener, which answers in
// JSON the requests net/http refuses before any handler:
//
//	srv := &http.Server{Handler: httpapi.LocalGuard(h, httpapi.LocalOptions{Addr: ln.Addr().String()})}
//	srv.Serve(httpapi.Listener(ln))
//
// # Logging
//
// One line per request ("http request"), at Info below 500 and at Error
// from 500, with request_id (the Lambda request id, else API Gateway's,
// else a generated one; also the X-Request-Id response header),
// cold_start (first request of the Handler), method, route (the pattern),
// path, status, duration_ms, aggregate (type#id) or view (name/key),
// version, created/duplicate, and error_kind and error on failures. Then
// Config.OnRequest, if set, gets the same facts as a RequestInfo.
//
// Client input is echoed only in part: error messages quote at most 128
// bytes of a name or path, log fields and RequestInfo hold at most 256
// bytes of the path, type, id or view (32 of the method), each cut at a
// character boundary and ended with "…".
package httpapi
