package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// upstream is a stand-in DynamoDB that counts what reaches it.
type upstream struct {
	*httptest.Server
	hits atomic.Int64
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		fmt.Fprintf(w, `{"path":%q,"target":%q,"body":%q}`, r.URL.Path, r.Header.Get("X-Amz-Target"), body)
	}))
	t.Cleanup(u.Close)
	return u
}

func newProxy(t *testing.T, cfg Config) *Proxy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// call posts one API request of operation op ("" for none).
func call(p *Proxy, op string) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, p.URL()+"/", strings.NewReader(`{"TableName":"t"}`))
	if op != "" {
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	}
	// A fresh connection per request, so a hang-up affects only this one.
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestNewRefusesNonLoopback(t *testing.T) {
	for _, up := range []string{"http://10.0.0.1:8000", "http://example.com", "https://127.0.0.1:1", "127.0.0.1:8000", ""} {
		if p, err := New(Config{Upstream: up}); err == nil {
			p.Close()
			t.Errorf("upstream %q accepted", up)
		}
	}
	for _, r := range []Rates{{Throttle: -0.1}, {Throttle: 0.6, Reset: 0.6}, {Latency: 2}} {
		if p, err := New(Config{Upstream: "http://127.0.0.1:1", Rates: r}); err == nil {
			p.Close()
			t.Errorf("rates %+v accepted", r)
		}
	}
	p := newProxy(t, Config{Upstream: "http://localhost:1"})
	if !strings.HasPrefix(p.URL(), "http://127.0.0.1:") {
		t.Fatalf("listening on %s", p.URL())
	}
	if err := p.SetRates(Rates{ServerError: 1.5}); err == nil {
		t.Fatal("SetRates accepted a rate above 1")
	}
}

func TestEachKind(t *testing.T) {
	tests := []struct {
		kind      Kind
		rates     Rates
		forwarded bool
		status    []int  // acceptable statuses; none: the connection fails
		body      string // substring of the body
	}{
		{Throttle, Rates{Throttle: 1}, false, []int{400}, "Exception"},
		{ServerError, Rates{ServerError: 1}, false, []int{500, 503}, "#"},
		{Latency, Rates{Latency: 1}, true, []int{200}, `"target":"DynamoDB_20120810.PutItem"`},
		{Reset, Rates{Reset: 1}, false, nil, ""},
		{DropResponse, Rates{DropResponse: 1}, true, nil, ""},
		{ErrorAfter, Rates{ErrorAfter: 1}, true, []int{500}, "InternalServerError"},
		{SlowResponse, Rates{SlowResponse: 1}, true, []int{200}, `"target":"DynamoDB_20120810.PutItem"`},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			up := newUpstream(t)
			p := newProxy(t, Config{Upstream: up.URL, Seed: 1, Rates: tt.rates, MaxLatency: 5 * time.Millisecond})
			const n = 5
			for range n {
				status, body, err := call(p, "PutItem")
				switch {
				case tt.status == nil && err == nil:
					t.Fatalf("answered %d %s, want a broken connection", status, body)
				case tt.status != nil && err != nil:
					t.Fatal(err)
				case tt.status != nil && (!slices.Contains(tt.status, status) || !strings.Contains(body, tt.body)):
					t.Fatalf("answered %d %s", status, body)
				}
			}
			want := int64(0)
			if tt.forwarded {
				want = n
			}
			if got := up.hits.Load(); got != want {
				t.Fatalf("upstream saw %d requests, want %d", got, want)
			}
			st := p.Stats()
			if st.Requests != n || st.API != n || st.Eligible != n || st.Faults[tt.kind] != n || st.TotalFaults() != n || st.ByOperation["PutItem"] != n {
				t.Fatalf("stats %v", st)
			}
			// The upstream's answers the client never got: the client
			// here waits for a held-back answer, so only drops and
			// replaced answers are lost.
			lost := int64(0)
			if tt.kind == DropResponse || tt.kind == ErrorAfter {
				lost = n
			}
			if st.Lost["PutItem"] != lost || st.TotalLost() != lost {
				t.Fatalf("lost %v, want %d", st.Lost, lost)
			}
		})
	}
}

// TestSlowResponseLostWhenClientGivesUp: a held-back answer whose client
// gives up first counts as lost; the write reached the upstream.
func TestSlowResponseLostWhenClientGivesUp(t *testing.T) {
	up := newUpstream(t)
	p := newProxy(t, Config{Upstream: up.URL, Rates: Rates{SlowResponse: 1}, MaxLatency: 400 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL()+"/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.UpdateItem")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d before the client's deadline", resp.StatusCode)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Stats().Lost["UpdateItem"] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("stats %v, upstream %d", p.Stats(), up.hits.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if up.hits.Load() != 1 {
		t.Fatalf("upstream saw %d requests, want 1", up.hits.Load())
	}
}

// TestInjectedAnswersCarryCRC32: an injected error carries the CRC32 of
// its body in X-Amz-Crc32, as DynamoDB's answers do (the SDK checks it).
func TestInjectedAnswersCarryCRC32(t *testing.T) {
	up := newUpstream(t)
	for _, r := range []Rates{{Throttle: 1}, {ServerError: 1}, {ErrorAfter: 1}} {
		p := newProxy(t, Config{Upstream: up.URL, Seed: 2, Rates: r})
		req, _ := http.NewRequest(http.MethodPost, p.URL()+"/", strings.NewReader(`{}`))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.PutItem")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := resp.Header.Get("X-Amz-Crc32"), fmt.Sprint(crc32.ChecksumIEEE(body)); got != want {
			t.Errorf("%+v: X-Amz-Crc32 %q, want %q (body %s)", r, got, want, body)
		}
	}
}

// TestOnlyTargetedRequests: requests without X-Amz-Target and operations
// not listed pass untouched, even at a fault rate of 1.
func TestOnlyTargetedRequests(t *testing.T) {
	up := newUpstream(t)
	p := newProxy(t, Config{Upstream: up.URL, Rates: Rates{Throttle: 1}, Operations: []string{"PutItem"}})
	for _, op := range []string{"", "Query", "GetItem"} {
		status, body, err := call(p, op)
		if err != nil || status != 200 || !strings.Contains(body, `"path":"/"`) {
			t.Fatalf("%q: %d %s %v", op, status, body, err)
		}
	}
	if status, _, err := call(p, "PutItem"); err != nil || status != 400 {
		t.Fatalf("PutItem: %d %v", status, err)
	}
	st := p.Stats()
	if st.Requests != 4 || st.API != 3 || st.Eligible != 1 || st.Faults[Throttle] != 1 || up.hits.Load() != 3 {
		t.Fatalf("stats %v, upstream %d", st, up.hits.Load())
	}
	// Faults off: a plain proxy.
	if err := p.SetRates(Rates{}); err != nil {
		t.Fatal(err)
	}
	if status, _, err := call(p, "PutItem"); err != nil || status != 200 {
		t.Fatalf("PutItem without faults: %d %v", status, err)
	}
}

// TestSeededSchedule: the same seed gives the same sequence of outcomes,
// another seed another one, and the rates are about right.
func TestSeededSchedule(t *testing.T) {
	outcomes := func(seed uint64) (string, Stats) {
		up := newUpstream(t)
		p := newProxy(t, Config{Upstream: up.URL, Seed: seed, Rates: Uniform(0.6), MaxLatency: time.Millisecond})
		var b strings.Builder
		for range 300 {
			status, _, err := call(p, "Query")
			if err != nil {
				status = -1
			}
			fmt.Fprint(&b, status, " ")
		}
		return b.String(), p.Stats()
	}
	a, st := outcomes(7)
	b, _ := outcomes(7)
	c, _ := outcomes(8)
	if a != b {
		t.Fatal("same seed, different schedules")
	}
	if a == c {
		t.Fatal("different seeds, same schedule")
	}
	if f := st.TotalFaults(); f < 130 || f > 230 {
		t.Fatalf("%d faults in 300 requests at rate 0.6: %v", f, st)
	}
	for _, k := range Kinds() {
		if k != SlowResponse && st.Faults[k] == 0 {
			t.Fatalf("no %s fault: %v", k, st)
		}
	}
}

// TestSDKSeesDynamoDBErrors: the SDK decodes the injected errors as the
// DynamoDB error codes its retryer knows, and retries them.
func TestSDKSeesDynamoDBErrors(t *testing.T) {
	up := newUpstream(t)
	for _, tt := range []struct {
		rates Rates
		codes []string
	}{
		{Rates{Throttle: 1}, []string{"ProvisionedThroughputExceededException", "ThrottlingException"}},
		{Rates{ServerError: 1}, []string{"InternalServerError", "ServiceUnavailable"}},
		{Rates{ErrorAfter: 1}, []string{"InternalServerError"}},
	} {
		p := newProxy(t, Config{Upstream: up.URL, Seed: 3, Rates: tt.rates})
		client := dynamodb.New(dynamodb.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(p.URL()),
			Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
			Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
			}),
		})
		_, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("t"),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}})
		var api smithy.APIError
		if !errors.As(err, &api) || !slices.Contains(tt.codes, api.ErrorCode()) {
			t.Fatalf("%+v: %v", tt.rates, err)
		}
		if st := p.Stats(); st.Eligible != 3 {
			t.Fatalf("%+v: the SDK made %d attempts, want 3 (retried)", tt.rates, st.Eligible)
		}
	}
}

func TestCloseStops(t *testing.T) {
	up := newUpstream(t)
	p := newProxy(t, Config{Upstream: up.URL})
	if _, _, err := call(p, "PutItem"); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := call(p, "PutItem"); err == nil {
		t.Fatal("a closed proxy answered")
	}
}

func TestSeed(t *testing.T) {
	t.Setenv("SIGNAL_FAULT_SEED", "")
	if s := Seed(t); s != 1 {
		t.Errorf("default seed %d, want 1", s)
	}
	t.Setenv("SIGNAL_FAULT_SEED", "42")
	if s := Seed(t); s != 42 {
		t.Errorf("seed %d, want 42", s)
	}
	if r := Retryer(3); r.MaxAttempts() != 3 {
		t.Errorf("retryer of %d attempts, want 3", r.MaxAttempts())
	}
}
