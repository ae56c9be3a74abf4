package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/signalforgo/signal/internal/syncbuf"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// fixture is a real Service on a memstore with the shop domain of
// shop_test.go (views built inline), behind a Handler whose log lines are kept.
type fixture struct {
	store *memstore.Store
	svc   *signal.Service
	h     *Handler
	logs  *logBuffer
}

type fixtureOption func(*signal.Config, *Config)

func withStore(s signal.Store) fixtureOption {
	return func(c *signal.Config, _ *Config) { c.Store = s }
}

// withBomb registers the bomb type, whose Decide panics.
func withBomb() fixtureOption {
	return func(c *signal.Config, _ *Config) { c.Types = append(c.Types, bombType) }
}

func withConfig(f func(*Config)) fixtureOption {
	return func(_ *signal.Config, c *Config) { f(c) }
}

func newFixture(t testing.TB, opts ...fixtureOption) *fixture {
	t.Helper()
	st := memstore.New()
	sc := signal.Config{
		Store:          st,
		Types:          shopTypes(),
		Subscribers:    shopSubscribers(),
		InlineDispatch: true,
		Logger:         slog.New(slog.DiscardHandler),
	}
	logs := &logBuffer{}
	hc := Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))}
	for _, o := range opts {
		o(&sc, &hc)
	}
	svc, err := signal.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	hc.Service = svc
	h, err := New(hc)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: st, svc: svc, h: h, logs: logs}
}

// feedLen is the length of the store's change feed: what has been committed.
func (f *fixture) feedLen(t testing.TB) int {
	t.Helper()
	ch, err := f.store.Changes(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return len(ch)
}

// bomb is an aggregate type whose Decide panics, to test that a panic
// becomes a 500.
type bombState struct{}

// Explode is the bomb's only command.
type Explode struct{}

// Exploded is the bomb's only event (never produced).
type Exploded struct{}

var bombType = signal.MustDefine(signal.Spec[bombState]{
	Name:    "bomb",
	Initial: func(string) bombState { return bombState{} },
	Commands: []signal.CommandSpec[bombState]{
		signal.Decide("Explode", func(bombState, Explode) ([]any, error) { panic("boom: secret panic detail") }, signal.Genesis),
	},
	Events: []signal.EventSpec[bombState]{
		signal.Evolve("Exploded", func(s bombState, _ Exploded) bombState { return s }),
	},
})

// failingStore is a memstore whose Append fails with a given error.
type failingStore struct {
	*memstore.Store
	mu        sync.Mutex
	appendErr error
}

func (s *failingStore) Append(ctx context.Context, c signal.Commit) error {
	s.mu.Lock()
	err := s.appendErr
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.Store.Append(ctx, c)
}

func (s *failingStore) failWith(err error) {
	s.mu.Lock()
	s.appendErr = err
	s.mu.Unlock()
}

// logBuffer keeps JSON log lines.
type logBuffer struct{ syncbuf.Buffer }

func (b *logBuffer) lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// call is one HTTP request as a client sends it.
type call struct {
	method string
	// target is the path and query as on the wire (escaped).
	target string
	header map[string]string
	body   string
}

func (c call) String() string { return c.method + " " + truncate(c.target, 80) }

// reply is one HTTP response as a client sees it.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", truncate(string(r.body), 200), err)
	}
	return m
}

// transport sends a call to a Handler the way one kind of caller does.
type transport struct {
	name string
	do   func(t testing.TB, h *Handler, c call) reply
}

var transports = []transport{
	{"net/http", doHTTP},
	{"apigw-v2", doV2},
	{"apigw-v1", doV1},
	{"function-url", doFunctionURL},
	{"lambda-v2", doLambda(func(c call) []byte { return v2Event(c, "$default", false) })},
	{"lambda-v1", doLambda(func(c call) []byte { return v1Event(c, true) })},
	{"lambda-url", doLambda(func(c call) []byte { return functionURLEvent(c, false) })},
}

func doHTTP(t testing.TB, h *Handler, c call) reply {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	r := httptest.NewRequest(c.method, c.target, body)
	for k, v := range c.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return reply{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

func doV2(t testing.TB, h *Handler, c call) reply {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(v2Event(c, "prod", true), &ev); err != nil {
		t.Fatal(err)
	}
	resp, err := h.HandleV2(context.Background(), ev)
	if err != nil {
		t.Fatalf("HandleV2 returned an error: %v", err)
	}
	return reply{status: resp.StatusCode, header: headerOf(resp.Headers), body: []byte(resp.Body)}
}

func doV1(t testing.TB, h *Handler, c call) reply {
	t.Helper()
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(v1Event(c, false), &ev); err != nil {
		t.Fatal(err)
	}
	resp, err := h.HandleV1(context.Background(), ev)
	if err != nil {
		t.Fatalf("HandleV1 returned an error: %v", err)
	}
	return reply{status: resp.StatusCode, header: headerOf(resp.Headers), body: []byte(resp.Body)}
}

func doFunctionURL(t testing.TB, h *Handler, c call) reply {
	t.Helper()
	var ev events.LambdaFunctionURLRequest
	if err := json.Unmarshal(functionURLEvent(c, true), &ev); err != nil {
		t.Fatal(err)
	}
	resp, err := h.HandleFunctionURL(context.Background(), ev)
	if err != nil {
		t.Fatalf("HandleFunctionURL returned an error: %v", err)
	}
	return reply{status: resp.StatusCode, header: headerOf(resp.Headers), body: []byte(resp.Body)}
}

var lambdaRequests atomic.Int64

// doLambda sends the raw payload through Handler.Lambda, in a context
// carrying a Lambda request id as the runtime gives it.
func doLambda(payload func(call) []byte) func(testing.TB, *Handler, call) reply {
	return func(t testing.TB, h *Handler, c call) reply {
		t.Helper()
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
			AwsRequestID: fmt.Sprintf("lambda-%d", lambdaRequests.Add(1)),
		})
		out, err := h.Lambda(ctx, payload(c))
		if err != nil {
			t.Fatalf("Lambda returned an error: %v", err)
		}
		var resp lambdaResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("Lambda response %s: %v", out, err)
		}
		if resp.IsBase64Encoded {
			t.Fatal("response body is base64-encoded")
		}
		return reply{status: resp.StatusCode, header: headerOf(resp.Headers), body: []byte(resp.Body)}
	}
}

func headerOf(m map[string]string) http.Header {
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

var gatewayRequests atomic.Int64

func gatewayID() string { return "gw-" + strconv.FormatInt(gatewayRequests.Add(1), 10) + "=" }

func splitTarget(target string) (path, rawQuery string) {
	path, rawQuery, _ = strings.Cut(target, "?")
	return path, rawQuery
}

// v2Event is the JSON API Gateway HTTP API sends (payload 2.0). With a
// named stage, rawPath starts with it.
func v2Event(c call, stage string, b64 bool) []byte {
	path, rawq := splitTarget(c.target)
	headers := map[string]string{
		"accept": "*/*", "content-type": "application/json", "host": "abc123.execute-api.eu-west-1.amazonaws.com",
		"user-agent": "curl/8.0", "x-forwarded-proto": "https",
	}
	for k, v := range c.header {
		headers[strings.ToLower(k)] = v
	}
	rawPath := path
	if stage != "$default" {
		rawPath = "/" + stage + path
	}
	ev := map[string]any{
		"version":        "2.0",
		"routeKey":       "ANY /{proxy+}",
		"rawPath":        rawPath,
		"rawQueryString": rawq,
		"headers":        headers,
		"requestContext": map[string]any{
			"accountId":    "123456789012",
			"apiId":        "abc123",
			"domainName":   "abc123.execute-api.eu-west-1.amazonaws.com",
			"domainPrefix": "abc123",
			"http": map[string]any{
				"method": c.method, "path": rawPath, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "curl/8.0",
			},
			"requestId": gatewayID(),
			"routeKey":  "ANY /{proxy+}",
			"stage":     stage,
			"time":      "21/Apr/2025:15:08:21 +0000",
			"timeEpoch": 1745248101067,
		},
		"isBase64Encoded": false,
	}
	if q, err := url.ParseQuery(rawq); err == nil && len(q) > 0 {
		single := map[string]string{}
		for k, vs := range q {
			single[k] = strings.Join(vs, ",")
		}
		ev["queryStringParameters"] = single
	}
	setBody(ev, c.body, b64)
	return mustJSON(ev)
}

// functionURLEvent is the JSON a Lambda function URL sends: payload 2.0
// without routeKey or stage.
func functionURLEvent(c call, b64 bool) []byte {
	path, rawq := splitTarget(c.target)
	headers := map[string]string{"accept": "*/*", "host": "xyz.lambda-url.eu-west-1.on.aws", "user-agent": "curl/8.0"}
	for k, v := range c.header {
		headers[strings.ToLower(k)] = v
	}
	ev := map[string]any{
		"version":        "2.0",
		"rawPath":        path,
		"rawQueryString": rawq,
		"headers":        headers,
		"requestContext": map[string]any{
			"accountId":    "anonymous",
			"apiId":        "xyz",
			"domainName":   "xyz.lambda-url.eu-west-1.on.aws",
			"domainPrefix": "xyz",
			"http": map[string]any{
				"method": c.method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "curl/8.0",
			},
			"requestId": gatewayID(),
			"time":      "21/Apr/2025:15:08:21 +0000",
			"timeEpoch": 1745248101067,
		},
		"isBase64Encoded": false,
	}
	setBody(ev, c.body, b64)
	return mustJSON(ev)
}

// v1Event is the JSON an API Gateway REST API sends (payload 1.0): path
// without the stage, headers in single and multi-value forms, decoded
// query parameters.
func v1Event(c call, b64 bool) []byte {
	path, rawq := splitTarget(c.target)
	headers := map[string]string{"Accept": "*/*", "Content-Type": "application/json", "Host": "abc123.execute-api.eu-west-1.amazonaws.com", "User-Agent": "curl/8.0"}
	for k, v := range c.header {
		headers[textproto.CanonicalMIMEHeaderKey(k)] = v
	}
	multi := map[string][]string{}
	for k, v := range headers {
		multi[k] = []string{v}
	}
	ev := map[string]any{
		"resource":          "/{proxy+}",
		"path":              path,
		"httpMethod":        c.method,
		"headers":           headers,
		"multiValueHeaders": multi,
		"pathParameters":    map[string]string{"proxy": strings.TrimPrefix(path, "/")},
		"stageVariables":    nil,
		"requestContext": map[string]any{
			"accountId":    "123456789012",
			"resourceId":   "abcd12",
			"stage":        "prod",
			"domainName":   "abc123.execute-api.eu-west-1.amazonaws.com",
			"domainPrefix": "abc123",
			"requestId":    gatewayID(),
			"protocol":     "HTTP/1.1",
			"identity":     map[string]any{"sourceIp": "203.0.113.7", "userAgent": "curl/8.0"},
			"resourcePath": "/{proxy+}",
			"path":         "/prod" + path,
			"httpMethod":   c.method,
			"apiId":        "abc123",
		},
		"body":            nil,
		"isBase64Encoded": false,
	}
	if q, err := url.ParseQuery(rawq); err == nil && len(q) > 0 {
		single := map[string]string{}
		for k, vs := range q {
			single[k] = vs[len(vs)-1]
		}
		ev["queryStringParameters"] = single
		ev["multiValueQueryStringParameters"] = map[string][]string(q)
	}
	setBody(ev, c.body, b64)
	return mustJSON(ev)
}

func setBody(ev map[string]any, body string, b64 bool) {
	if body == "" {
		return
	}
	if b64 {
		ev["body"] = base64.StdEncoding.EncodeToString([]byte(body))
		ev["isBase64Encoded"] = true
	} else {
		ev["body"] = body
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// get follows a dotted path ("state.items.apple.quantity", "events.0.name")
// through decoded JSON.
func get(t testing.TB, v any, path string) any {
	t.Helper()
	cur := v
	for _, p := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			x, ok := c[p]
			if !ok {
				t.Fatalf("%s: no %q in %v", path, p, c)
			}
			cur = x
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(c) {
				t.Fatalf("%s: no index %q in %v", path, p, c)
			}
			cur = c[i]
		default:
			t.Fatalf("%s: cannot index %T with %q", path, cur, p)
		}
	}
	return cur
}

// checkError asserts an error reply: status, a JSON error body with the code.
func checkError(t testing.TB, r reply, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d; body %s", r.status, status, truncate(string(r.body), 300))
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("error body %q: %v", truncate(string(r.body), 300), err)
	}
	if b.Error.Code != code {
		t.Errorf("error code %q, want %q (message %q)", b.Error.Code, code, b.Error.Message)
	}
	if b.Error.Message == "" {
		t.Error("empty error message")
	}
}

func addItem(sku string, qty, price int) string {
	return fmt.Sprintf(`{"sku":%q,"quantity":%d,"price":%d}`, sku, qty, price)
}

// lambdaResponse is the JSON of the API Gateway proxy response the
// Lambda adapters answer with.
type lambdaResponse struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}
