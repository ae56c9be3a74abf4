// Package faultproxy is a fault-injecting HTTP proxy for tests: it sits
// between the AWS SDK and a local DynamoDB (moto_server) on the loopback
// interface and, on a seeded schedule, makes DynamoDB API requests fail the
// ways the real service and network do: throttling, 500/503, added
// latency, connection resets, and the hard case, a request that reaches
// the table and whose response is lost.
//
// Point the SDK at it with config.WithBaseEndpoint(proxy.URL()). Only
// requests carrying an X-Amz-Target header (the DynamoDB and DynamoDB
// Streams JSON APIs) are eligible for faults, optionally only some
// operations; anything else is forwarded untouched. The proxy listens on
// 127.0.0.1 only and forwards only to the loopback upstream it was given.
package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is a kind of injected fault.
type Kind int

const (
	// Throttle answers HTTP 400 with ProvisionedThroughputExceededException
	// or ThrottlingException, without forwarding.
	Throttle Kind = iota
	// ServerError answers HTTP 500 (InternalServerError) or 503
	// (ServiceUnavailable), without forwarding.
	ServerError
	// Latency delays the request by up to Config.MaxLatency, then forwards it.
	Latency
	// Reset closes the connection (TCP reset) without forwarding.
	Reset
	// DropResponse forwards the request (the write happens), then closes
	// the connection instead of answering.
	DropResponse
	// ErrorAfter forwards the request (the write happens), then answers
	// HTTP 500 instead of the real response.
	ErrorAfter
	// SlowResponse forwards the request (the write happens), then holds
	// the real response back for MaxLatency/2 to MaxLatency: a client
	// deadline shorter than that sees a timeout after the write.
	SlowResponse
	numKinds
)

var kindNames = [numKinds]string{"throttle", "server-error", "latency", "reset", "drop-response", "error-after", "slow-response"}

func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Kinds lists every fault kind.
func Kinds() []Kind {
	out := make([]Kind, numKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// Rates is the fraction of eligible requests that get each fault. The sum
// must not exceed 1; the rest are forwarded untouched.
type Rates struct {
	Throttle, ServerError, Latency, Reset, DropResponse, ErrorAfter, SlowResponse float64
}

func (r Rates) of(k Kind) float64 {
	return [numKinds]float64{r.Throttle, r.ServerError, r.Latency, r.Reset, r.DropResponse, r.ErrorAfter, r.SlowResponse}[k]
}

// Sum is the fraction of eligible requests that get some fault.
func (r Rates) Sum() float64 {
	var s float64
	for _, k := range Kinds() {
		s += r.of(k)
	}
	return s
}

// Uniform spreads total evenly over the kinds that keep requests short:
// every kind but SlowResponse, which is meant for deadline tests.
func Uniform(total float64) Rates {
	x := total / float64(numKinds-1)
	return Rates{x, x, x, x, x, x, 0}
}

func (r Rates) validate() error {
	for _, k := range Kinds() {
		if v := r.of(k); v < 0 || v > 1 {
			return fmt.Errorf("faultproxy: rate of %s is %v, not in [0, 1]", k, v)
		}
	}
	if s := r.Sum(); s > 1+1e-9 {
		return fmt.Errorf("faultproxy: rates sum to %v, more than 1", s)
	}
	return nil
}

// Config configures a Proxy. Upstream is required.
type Config struct {
	// Upstream is the base URL of the DynamoDB endpoint, on a loopback
	// address (http://127.0.0.1:port, http://localhost:port).
	Upstream string
	// Seed seeds the schedule: the n-th eligible request gets the same
	// decision for the same seed.
	Seed uint64
	// Rates are the fault fractions.
	Rates Rates
	// Operations restricts faults to these operations (the part of
	// X-Amz-Target after the dot: "PutItem", "TransactWriteItems",
	// "GetRecords"). Empty means every operation.
	Operations []string
	// MaxLatency bounds the Latency and SlowResponse faults' delays.
	// Default 50ms.
	MaxLatency time.Duration
}

// Stats are a proxy's counters.
type Stats struct {
	// Requests counts every request received; API those with an
	// X-Amz-Target; Eligible those of a targeted operation.
	Requests, API, Eligible int64
	// Faults counts the injected faults by kind.
	Faults map[Kind]int64
	// ByOperation counts injected faults by operation.
	ByOperation map[string]int64
	// Lost counts by operation the requests the upstream processed and
	// answered with a 2xx whose answer never reached the client: dropped
	// (DropResponse), replaced by a 500 (ErrorAfter), or held back
	// (SlowResponse) until the client gave up. For a write, each is one
	// that happened while its client heard of a failure or of nothing.
	Lost map[string]int64
}

// TotalLost is the number of successful answers lost, all operations.
func (s Stats) TotalLost() int64 {
	var n int64
	for _, v := range s.Lost {
		n += v
	}
	return n
}

// TotalFaults is the number of faults injected, all kinds.
func (s Stats) TotalFaults() int64 {
	var n int64
	for _, v := range s.Faults {
		n += v
	}
	return n
}

func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests, %d API, %d eligible, %d faults:", s.Requests, s.API, s.Eligible, s.TotalFaults())
	for _, k := range Kinds() {
		fmt.Fprintf(&b, " %s=%d", k, s.Faults[k])
	}
	fmt.Fprintf(&b, "; %d successful answers lost", s.TotalLost())
	return b.String()
}

// Proxy is a running fault proxy. Safe for concurrent use.
type Proxy struct {
	upstream *url.URL
	ops      map[string]bool
	maxLat   time.Duration
	ln       net.Listener
	srv      *http.Server
	client   *http.Client
	url      string

	mu    sync.Mutex // guards rng and rates
	rng   *rand.Rand
	rates Rates

	requests, api, eligible atomic.Int64
	faults                  [numKinds]atomic.Int64
	opMu                    sync.Mutex // guards byOp and lost
	byOp, lost              map[string]int64
	closed                  atomic.Bool
}

// New starts a proxy on a free port of 127.0.0.1.
func New(cfg Config) (*Proxy, error) {
	up, err := url.Parse(cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: upstream: %w", err)
	}
	if up.Scheme != "http" || up.Host == "" {
		return nil, fmt.Errorf("faultproxy: upstream %q must be an http:// URL", cfg.Upstream)
	}
	if !loopback(up.Hostname()) {
		return nil, fmt.Errorf("faultproxy: upstream %q is not a loopback address", cfg.Upstream)
	}
	if err := cfg.Rates.validate(); err != nil {
		return nil, err
	}
	if cfg.MaxLatency <= 0 {
		cfg.MaxLatency = 50 * time.Millisecond
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		upstream: up,
		maxLat:   cfg.MaxLatency,
		ln:       ln,
		url:      "http://" + ln.Addr().String(),
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		rates:    cfg.Rates,
		byOp:     map[string]int64{},
		lost:     map[string]int64{},
		client: &http.Client{
			Transport: &http.Transport{
				// Never follow the environment's proxies: upstream only.
				Proxy: nil,
				// Pass bodies through as they are (the SDK checks
				// DynamoDB's X-Amz-Crc32 of the body it receives).
				DisableCompression:  true,
				MaxIdleConnsPerHost: 64,
				IdleConnTimeout:     30 * time.Second,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	if len(cfg.Operations) > 0 {
		p.ops = map[string]bool{}
		for _, op := range cfg.Operations {
			p.ops[op] = true
		}
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URL is the proxy's base URL, for the SDK's BaseEndpoint.
func (p *Proxy) URL() string { return p.url }

// SetRates changes the fault rates from now on (zero Rates: a plain proxy).
func (p *Proxy) SetRates(r Rates) error {
	if err := r.validate(); err != nil {
		return err
	}
	p.mu.Lock()
	p.rates = r
	p.mu.Unlock()
	return nil
}

// Stats returns a copy of the counters.
func (p *Proxy) Stats() Stats {
	s := Stats{Requests: p.requests.Load(), API: p.api.Load(), Eligible: p.eligible.Load(),
		Faults: map[Kind]int64{}, ByOperation: map[string]int64{}, Lost: map[string]int64{}}
	for _, k := range Kinds() {
		s.Faults[k] = p.faults[k].Load()
	}
	p.opMu.Lock()
	for k, v := range p.byOp {
		s.ByOperation[k] = v
	}
	for k, v := range p.lost {
		s.Lost[k] = v
	}
	p.opMu.Unlock()
	return s
}

// Close stops the proxy: the listener, open connections and idle upstream
// connections. Requests in flight fail.
func (p *Proxy) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := p.srv.Close()
	p.client.CloseIdleConnections()
	return err
}

// operation returns the operation named by X-Amz-Target
// ("DynamoDB_20120810.PutItem" -> "PutItem"), "" when absent.
func operation(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	if t == "" {
		return ""
	}
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		return t[i+1:]
	}
	return t
}

// decide draws the fault for one eligible request, and the random numbers
// the fault needs, from the seeded generator.
func (p *Proxy) decide() (k Kind, x float64, fault bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, x := p.rng.Float64(), p.rng.Float64()
	var acc float64
	for _, k := range Kinds() {
		acc += p.rates.of(k)
		if u < acc {
			return k, x, true
		}
	}
	return 0, x, false
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	op := operation(r)
	if op != "" {
		p.api.Add(1)
	}
	if op == "" || (p.ops != nil && !p.ops[op]) {
		p.forward(w, r)
		return
	}
	p.eligible.Add(1)
	k, x, fault := p.decide()
	if !fault {
		p.forward(w, r)
		return
	}
	p.faults[k].Add(1)
	p.opMu.Lock()
	p.byOp[op]++
	p.opMu.Unlock()
	switch k {
	case Throttle:
		code := "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
		if x < 0.5 {
			code = "com.amazon.coral.availability#ThrottlingException"
		}
		awsError(w, http.StatusBadRequest, code, "injected by faultproxy: rate exceeded")
	case ServerError:
		if x < 0.5 {
			awsError(w, http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError", "injected by faultproxy: internal server error")
		} else {
			awsError(w, http.StatusServiceUnavailable, "com.amazonaws.dynamodb.v20120810#ServiceUnavailable", "injected by faultproxy: service unavailable")
		}
	case Latency:
		t := time.NewTimer(time.Duration(x*float64(p.maxLat)) + 1)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
		p.forward(w, r)
	case Reset:
		_, _ = io.Copy(io.Discard, r.Body)
		hangUp(w)
	case DropResponse:
		resp, _, err := p.roundTrip(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		p.lose(op, resp)
		hangUp(w)
	case ErrorAfter:
		resp, _, err := p.roundTrip(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		p.lose(op, resp)
		awsError(w, http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError", "injected by faultproxy: internal server error after the request was processed")
	case SlowResponse:
		resp, data, err := p.roundTrip(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		t := time.NewTimer(time.Duration((0.5 + x/2) * float64(p.maxLat)))
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			p.lose(op, resp)
			return
		}
		reply(w, resp, data)
	}
}

// lose counts a successful upstream answer the client does not get.
func (p *Proxy) lose(op string, resp *http.Response) {
	if resp.StatusCode/100 != 2 {
		return
	}
	p.opMu.Lock()
	p.lost[op]++
	p.opMu.Unlock()
}

// awsError answers the way the DynamoDB JSON protocol reports an error,
// with the body's CRC32 as DynamoDB sends it (the SDK checks it).
func awsError(w http.ResponseWriter, status int, typ, msg string) {
	body := fmt.Sprintf(`{"__type":%q,"message":%q}`, typ, msg)
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Requestid", "faultproxy")
	h.Set("X-Amz-Crc32", fmt.Sprint(crc32.ChecksumIEEE([]byte(body))))
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// hangUp closes the client's connection without an answer, with a TCP
// reset when it can.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// roundTrip sends r to the upstream and reads the whole answer.
func (p *Proxy) roundTrip(r *http.Request) (*http.Response, []byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, nil, err
	}
	target := *p.upstream
	target.Path = singleJoin(p.upstream.Path, r.URL.Path)
	target.RawQuery = r.URL.RawQuery
	// The upstream must see the request even when the client gives up
	// (that is the point of DropResponse), so it does not inherit the
	// client's cancellation; it is still bounded.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, r.Method, target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range r.Header {
		if hopByHop(k) {
			continue
		}
		out.Header[k] = vs
	}
	out.Host = r.Host // the SigV4 signature covers it
	out.ContentLength = int64(len(body))
	resp, err := p.client.Do(out)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	return resp, data, nil
}

func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	resp, data, err := p.roundTrip(r)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	reply(w, resp, data)
}

// reply passes the upstream's answer on.
func reply(w http.ResponseWriter, resp *http.Response, data []byte) {
	for k, vs := range resp.Header {
		if hopByHop(k) || k == "Content-Length" {
			continue
		}
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(data)
}

func singleJoin(a, b string) string {
	switch {
	case a == "" || a == "/":
		return b
	case strings.HasSuffix(a, "/") && strings.HasPrefix(b, "/"):
		return a + b[1:]
	case !strings.HasSuffix(a, "/") && !strings.HasPrefix(b, "/"):
		return a + "/" + b
	}
	return a + b
}

func hopByHop(h string) bool {
	switch http.CanonicalHeaderKey(h) {
	case "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Proxy-Connection":
		return true
	}
	return false
}
