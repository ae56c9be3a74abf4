//go:build e2eremote

// The remote end-to-end suite: real HTTP against a deployed Signal API,
// in AWS or on LocalStack (localstack/README.md). It needs the API's base
// URL, stage included where there is one:
//
//	SIGNAL_E2E_API_URL=https://<id>.execute-api.<region>.amazonaws.com/prod make e2e-remote
//
// It is behind the e2eremote build tag, so `make test` never compiles it
// and it never has to skip: without the URL it fails. Every run uses fresh
// random ids, so it can run again and again on one deployment.
// SIGNAL_E2E_PROJECTOR_WAIT (a Go duration, default 60s) bounds the wait
// for the projector's views.
//
// The stack's default auth is IAM: requests to an execute-api host in AWS
// are signed with SigV4 with the credentials of the SDK's standard chain
// (the caller needs execute-api:Invoke on the API). SIGNAL_E2E_SIGV4=1
// signs for any host (LocalStack ignores it), =0 never signs (a stack
// deployed with -c auth=none).

package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

const (
	remoteURLEnv   = "SIGNAL_E2E_API_URL"
	remoteWaitEnv  = "SIGNAL_E2E_PROJECTOR_WAIT"
	remoteSigV4Env = "SIGNAL_E2E_SIGV4"
)

// remoteRun is this run's unique suffix: cart ids and skus carry it, so
// the views a run reads were built by that run alone.
var remoteRun = sync.OnceValue(func() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%d-%s", time.Now().Unix(), hex.EncodeToString(b))
})

// remoteAPI is the deployed API under test.
type remoteAPI struct {
	t    *testing.T
	base string // no trailing slash
	c    *http.Client
	// sign, when set, signs each request (SigV4 for execute-api).
	sign func(req *http.Request, body string) error
}

func newRemote(t *testing.T) *remoteAPI {
	t.Helper()
	raw := strings.TrimSpace(os.Getenv(remoteURLEnv))
	if raw == "" {
		t.Fatalf("%s is not set. The remote suite needs a deployed Signal API: %s=https://<id>.execute-api.<region>.amazonaws.com/prod make e2e-remote (localstack/README.md deploys one locally)", remoteURLEnv, remoteURLEnv)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		t.Fatalf("%s=%q is not an http(s) base URL (scheme, host and optional path, no query)", remoteURLEnv, raw)
	}
	// A cold function on LocalStack may take a while to start.
	a := &remoteAPI{t: t, base: strings.TrimRight(raw, "/"), c: &http.Client{Timeout: 90 * time.Second}}
	a.sign = remoteSigner(t, u.Hostname())
	return a
}

// remoteSigner is the SigV4 signer of requests to host, or nil when they
// go unsigned (remoteSigV4Env; by default only execute-api hosts in AWS
// are signed).
func remoteSigner(t *testing.T, host string) func(*http.Request, string) error {
	t.Helper()
	switch os.Getenv(remoteSigV4Env) {
	case "0":
		return nil
	case "1":
	case "":
		if !strings.HasSuffix(host, ".amazonaws.com") {
			return nil
		}
	default:
		t.Fatalf("%s=%q: use 1 (sign) or 0 (do not)", remoteSigV4Env, os.Getenv(remoteSigV4Env))
	}
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatalf("SigV4 (%s): loading AWS credentials: %v", remoteSigV4Env, err)
	}
	region := cfg.Region
	if parts := strings.Split(host, "."); len(parts) >= 5 && parts[1] == "execute-api" {
		region = parts[2] // <id>.execute-api.<region>.amazonaws.com
	}
	if region == "" {
		t.Fatalf("SigV4: no region (set AWS_REGION)")
	}
	signer := v4.NewSigner()
	return func(req *http.Request, body string) error {
		creds, err := cfg.Credentials.Retrieve(req.Context())
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(body))
		return signer.SignHTTP(req.Context(), creds, req, hex.EncodeToString(sum[:]), "execute-api", region, time.Now())
	}
}

// remoteResp is one HTTP answer.
type remoteResp struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
}

func (r remoteResp) String() string {
	body := string(r.Body)
	if len(body) > 500 {
		body = body[:500] + "..."
	}
	return fmt.Sprintf("%s %s: %d %s", r.Method, r.Path, r.Status, body)
}

func (r remoteResp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%v: not a JSON object: %v", r, err)
	}
	return m
}

// expect fails unless the answer has the status and, for errors, the
// documented body {"error":{"code","message"}} with the code.
func (r remoteResp) expect(t *testing.T, status int, code string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%v; want %d %s", r, status, code)
	}
	m := r.json(t)
	if code != "" {
		e, _ := m["error"].(map[string]any)
		if e == nil || e["code"] != code || e["message"] == "" || e["message"] == nil {
			t.Fatalf("%v; want error code %q with a message", r, code)
		}
	}
	return m
}

// transient reports answers worth another try: the gateway or Lambda
// starting a cold function (502, 504), throttling (429) and Signal's own
// 503 (Retry-After). Commands carry an Idempotency-Key, so a retry of one
// that did go through answers its original response and appends nothing.
func remoteTransient(status int) bool {
	return status == http.StatusBadGateway || status == http.StatusServiceUnavailable ||
		status == http.StatusGatewayTimeout || status == http.StatusTooManyRequests
}

// do sends one request, retrying transient answers for up to a minute.
// A POST without an Idempotency-Key gets a fresh one, making the retry safe.
func (a *remoteAPI) do(method, path string, hdr map[string]string, body string) remoteResp {
	a.t.Helper()
	h := http.Header{}
	for k, v := range hdr {
		h.Set(k, v)
	}
	if method == http.MethodPost {
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
		if h.Get("Idempotency-Key") == "" {
			h.Set("Idempotency-Key", "e2e-"+remoteRun()+"-"+remoteHex(a.t, 8))
		}
	}
	deadline := time.Now().Add(time.Minute)
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(a.t.Context(), method, a.base+path, strings.NewReader(body))
		if err != nil {
			a.t.Fatal(err)
		}
		req.Header = h.Clone()
		if a.sign != nil {
			if err := a.sign(req, body); err != nil {
				a.t.Fatalf("%s %s: signing: %v", method, path, err)
			}
		}
		resp, err := a.c.Do(req)
		var r remoteResp
		if err == nil {
			r = remoteResp{Method: method, Path: path, Status: resp.StatusCode, Header: resp.Header}
			r.Body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		// A connection that fails (reset, refused) is tried three times; a
		// wrong URL should not cost a minute.
		retry := (err != nil && remoteNetErr(err) && attempt < 3) || (err == nil && remoteTransient(r.Status))
		if !retry || time.Now().After(deadline) {
			if err != nil {
				a.t.Fatalf("%s %s: %v", method, path, err)
			}
			return r
		}
		if err != nil {
			a.t.Logf("%s %s: attempt %d: %v; retrying", method, path, attempt, err)
		} else {
			a.t.Logf("%v; attempt %d, retrying", r, attempt)
		}
		time.Sleep(time.Duration(min(attempt, 5)) * time.Second)
	}
}

func remoteNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

func (a *remoteAPI) post(path, body string, hdr map[string]string) remoteResp {
	a.t.Helper()
	return a.do(http.MethodPost, path, hdr, body)
}

func (a *remoteAPI) get(path string) remoteResp {
	a.t.Helper()
	return a.do(http.MethodGet, path, nil, "")
}

// eventually polls check until it reports done, for up to the projector
// wait; on timeout it fails with check's last word.
func (a *remoteAPI) eventually(what string, check func() (bool, string)) {
	a.t.Helper()
	wait := 60 * time.Second
	if s := os.Getenv(remoteWaitEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			a.t.Fatalf("%s=%q is not a positive Go duration (like 90s)", remoteWaitEnv, s)
		}
		wait = d
	}
	start := time.Now()
	for {
		done, last := check()
		if done {
			a.t.Logf("%s after %v", what, time.Since(start).Round(100*time.Millisecond))
			return
		}
		if time.Since(start) > wait {
			a.t.Fatalf("%s: not within %v (%s to wait longer); last: %s", what, wait, remoteWaitEnv, last)
		}
		time.Sleep(time.Second)
	}
}

func remoteHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// num reads a JSON number at a path of object keys ("state", "total").
func remoteNum(m map[string]any, path ...string) float64 {
	var v any = m
	for _, k := range path {
		o, _ := v.(map[string]any)
		v = o[k]
	}
	f, _ := v.(float64)
	return f
}

func remoteStr(m map[string]any, path ...string) string {
	var v any = m
	for _, k := range path {
		o, _ := v.(map[string]any)
		v = o[k]
	}
	s, _ := v.(string)
	return s
}

func TestRemoteHealthz(t *testing.T) {
	a := newRemote(t)
	r := a.get("/healthz")
	if r.Status != http.StatusOK {
		t.Fatalf("%v; want 200", r)
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Fatalf("%v: no X-Request-Id header (headers %v)", r, r.Header)
	}
}

// TestRemoteCart drives one cart through its life over HTTP, then waits for
// the projector: both views and the order the policy opens.
func TestRemoteCart(t *testing.T) {
	t.Parallel()
	a := newRemote(t)
	run := remoteRun()
	id := "e2e-" + run
	apple, pear, fig := "apple-"+run, "pear-"+run, "fig-"+run
	cmd := func(name string) string { return "/aggregates/cart/" + id + "/" + name }
	item := func(sku string, q, p int) string {
		return fmt.Sprintf(`{"sku":%q,"quantity":%d,"price":%d}`, sku, q, p)
	}
	etag := func(r remoteResp, want int) {
		t.Helper()
		if got := r.Header.Get("ETag"); got != fmt.Sprintf(`"%d"`, want) {
			t.Fatalf("%v: ETag %q, want \"%d\"", r, got, want)
		}
	}

	r := a.post(cmd("AddItem"), item(apple, 3, 50), nil)
	m := r.expect(t, http.StatusCreated, "")
	etag(r, 1)
	if remoteNum(m, "version") != 1 || remoteStr(m, "type") != "cart" || remoteStr(m, "id") != id {
		t.Fatalf("first AddItem: %v", r)
	}
	if evs, _ := m["events"].([]any); len(evs) != 1 {
		t.Fatalf("first AddItem: want one event in %v", r)
	}
	r = a.post(cmd("AddItem"), item(pear, 2, 75), nil)
	r.expect(t, http.StatusOK, "")
	etag(r, 2)
	r = a.post(cmd("RemoveItem"), fmt.Sprintf(`{"sku":%q,"quantity":1}`, apple), nil)
	r.expect(t, http.StatusOK, "")
	etag(r, 3)

	// If-Match: a stale version is refused, the current one accepted.
	a.post(cmd("AddItem"), item(fig, 1, 30), map[string]string{"If-Match": `"1"`}).
		expect(t, http.StatusPreconditionFailed, "precondition_failed")

	// Idempotency-Key: the replay appends nothing and answers the same bytes.
	key := map[string]string{"Idempotency-Key": "e2e-fig-" + run, "If-Match": `"3"`}
	first := a.post(cmd("AddItem"), item(fig, 1, 30), key)
	first.expect(t, http.StatusOK, "")
	etag(first, 4)
	replay := a.post(cmd("AddItem"), item(fig, 1, 30), map[string]string{"Idempotency-Key": key["Idempotency-Key"]})
	if replay.Status != first.Status || !bytes.Equal(replay.Body, first.Body) {
		t.Fatalf("replay differs:\n%v\nfirst:\n%v", replay, first)
	}
	if replay.Header.Get("X-Signal-Duplicate") != "true" {
		t.Fatalf("replay without X-Signal-Duplicate: true (headers %v)", replay.Header)
	}
	if v := remoteNum(a.get("/aggregates/cart/"+id).expect(t, http.StatusOK, ""), "version"); v != 4 {
		t.Fatalf("after the replay the cart is at version %v, want 4", v)
	}

	// 2×50 + 2×75 + 1×30
	const total = 280
	r = a.post(cmd("CompletePurchase"), ``, nil)
	m = r.expect(t, http.StatusOK, "")
	if remoteNum(m, "version") != 5 || remoteStr(m, "state", "status") != "purchased" || remoteNum(m, "state", "total") != total {
		t.Fatalf("CompletePurchase: %v", r)
	}
	a.post(cmd("AddItem"), item(apple, 1, 50), nil).expect(t, http.StatusGone, "closed")
	a.post(cmd("RemoveItem"), fmt.Sprintf(`{"sku":%q,"quantity":1}`, pear), nil).expect(t, http.StatusGone, "closed")

	// Reads: state, time travel, history.
	r = a.get("/aggregates/cart/" + id)
	m = r.expect(t, http.StatusOK, "")
	etag(r, 5)
	if remoteNum(m, "version") != 5 || remoteStr(m, "state", "status") != "purchased" || m["closed"] != true {
		t.Fatalf("state: %v", r)
	}
	m = a.get("/aggregates/cart/"+id+"?version=2").expect(t, http.StatusOK, "")
	if remoteNum(m, "version") != 2 || remoteNum(m, "state", "total") != 300 || remoteStr(m, "state", "status") != "open" {
		t.Fatalf("state at version 2: %v", m)
	}
	r = a.get("/aggregates/cart/" + id + "/events?after=1&limit=2")
	m = r.expect(t, http.StatusOK, "")
	evs, _ := m["events"].([]any)
	if len(evs) != 2 || remoteNum(m, "next") != 3 {
		t.Fatalf("history page: %v", r)
	}
	for i, want := range []struct {
		name    string
		version float64
	}{{"ItemAdded", 2}, {"ItemRemoved", 3}} {
		e, _ := evs[i].(map[string]any)
		if remoteStr(e, "name") != want.name || remoteNum(e, "version") != want.version || remoteStr(e, "aggregateId") != id {
			t.Fatalf("history event %d: %v, want %s at version %v", i, e, want.name, want.version)
		}
	}
	a.get("/aggregates/cart/"+id+"?version=9").expect(t, http.StatusNotFound, "not_found")

	// The projector, fed by the table's stream: eventually consistent.
	a.eventually("cart-summary says purchased", func() (bool, string) {
		r := a.get("/views/cart-summary/" + id)
		if r.Status != http.StatusOK {
			return false, r.String()
		}
		d, _ := r.json(t)["data"].(map[string]any)
		return remoteStr(d, "status") == "purchased" && remoteNum(d, "version") == 5 && remoteNum(d, "total") == total, r.String()
	})
	for _, want := range []struct {
		sku              string
		units, purchases float64
		revenue          float64
	}{{apple, 2, 1, 100}, {pear, 2, 1, 150}, {fig, 1, 1, 30}} {
		a.eventually("sku-sales counts the purchase of "+want.sku, func() (bool, string) {
			r := a.get("/views/sku-sales/" + want.sku)
			if r.Status != http.StatusOK {
				return false, r.String()
			}
			d, _ := r.json(t)["data"].(map[string]any)
			return remoteNum(d, "unitsSold") == want.units && remoteNum(d, "purchases") == want.purchases && remoteNum(d, "revenue") == want.revenue, r.String()
		})
	}
	a.eventually("the policy opened the order", func() (bool, string) {
		r := a.get("/aggregates/order/" + id)
		if r.Status != http.StatusOK {
			return false, r.String()
		}
		m := r.json(t)
		return remoteNum(m, "version") == 1 && remoteNum(m, "state", "total") == total, r.String()
	})
}

// TestRemoteBadInput: each malformed or refused request gets its documented
// status and JSON error, and changes nothing.
func TestRemoteBadInput(t *testing.T) {
	t.Parallel()
	a := newRemote(t)
	run := remoteRun()
	id, empty := "e2e-bad-"+run, "e2e-empty-"+run
	sku := "apple-bad-" + run
	a.post("/aggregates/cart/"+id+"/AddItem", fmt.Sprintf(`{"sku":%q,"quantity":1,"price":10}`, sku), nil).expect(t, http.StatusCreated, "")
	a.post("/aggregates/cart/"+empty+"/AddItem", `{"sku":"a","quantity":1,"price":1}`, nil).expect(t, http.StatusCreated, "")
	a.post("/aggregates/cart/"+empty+"/RemoveItem", `{"sku":"a","quantity":1}`, nil).expect(t, http.StatusOK, "")

	cases := []struct {
		name         string
		method, path string
		body         string
		hdr          map[string]string
		status       int
		code         string
	}{
		{"malformed JSON", "POST", "/aggregates/cart/" + id + "/AddItem", `{"sku":`, nil, 400, "invalid"},
		{"unknown type", "POST", "/aggregates/boat/" + id + "/AddItem", `{}`, nil, 404, "unknown_type"},
		{"unknown command", "POST", "/aggregates/cart/" + id + "/Steal", `{}`, nil, 400, "unknown_command"},
		{"negative quantity", "POST", "/aggregates/cart/" + id + "/AddItem", fmt.Sprintf(`{"sku":%q,"quantity":-1,"price":10}`, sku), nil, 422, "rejected"},
		{"removing more than the cart holds", "POST", "/aggregates/cart/" + id + "/RemoveItem", fmt.Sprintf(`{"sku":%q,"quantity":5}`, sku), nil, 422, "rejected"},
		{"completing an empty cart", "POST", "/aggregates/cart/" + empty + "/CompletePurchase", `{}`, nil, 422, "rejected"},
		// 2 MiB: over Signal's 1 MiB limit, well under API Gateway's own 10 MB.
		{"2 MB body", "POST", "/aggregates/cart/" + id + "/AddItem", `{"sku":"` + strings.Repeat("x", 2<<20) + `"}`, nil, 413, "too_large"},
		{"If-Match mismatch", "POST", "/aggregates/cart/" + id + "/AddItem", fmt.Sprintf(`{"sku":%q,"quantity":1,"price":10}`, sku), map[string]string{"If-Match": `"7"`}, 412, "precondition_failed"},
		{"genesis refused on a missing cart", "POST", "/aggregates/cart/never-" + run + "/RemoveItem", `{"sku":"a","quantity":1}`, nil, 404, "not_found"},
		{"unknown aggregate", "GET", "/aggregates/cart/never-" + run, ``, nil, 404, "not_found"},
		{"bad version parameter", "GET", "/aggregates/cart/" + id + "?version=abc", ``, nil, 400, "invalid"},
		{"missing view document", "GET", "/views/cart-summary/never-" + run, ``, nil, 404, "not_found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &remoteAPI{t: t, base: a.base, c: a.c}
			r := a.do(c.method, c.path, c.hdr, c.body)
			r.expect(t, c.status, c.code)
			if r.Header.Get("X-Request-Id") == "" {
				t.Fatalf("%v: no X-Request-Id header", r)
			}
		})
	}
	for _, c := range []struct {
		id      string
		version float64
	}{{id, 1}, {empty, 2}} {
		if v := remoteNum(a.get("/aggregates/cart/"+c.id).expect(t, http.StatusOK, ""), "version"); v != c.version {
			t.Fatalf("bad input changed cart %s: version %v, want %v", c.id, v, c.version)
		}
	}
}
