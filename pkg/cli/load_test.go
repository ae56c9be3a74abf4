package cli_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkDevThroughput: a load generator on loopback against dev on the
// embedded store (fsync on, concurrent commits sharing each fsync). Each
// client reads every answer to its end so that its connection is reused,
// as a load generator's would be. 8 clients send Deposit to 64
// accounts, opened first; each iteration is a bounded run of 2,000 commands or 20 s,
// whichever ends first. It reports commands/s and the p50/p99 latency:
//
//	go test -run '^$' -bench DevThroughput -benchtime 1x ./pkg/cli/
func BenchmarkDevThroughput(b *testing.B) {
	const clients, total, limit = 8, 2000, 20 * time.Second
	d := startDev(b, []string{"-data", b.TempDir()}, env(map[string]string{"SIGNAL_LOG_LEVEL": "warn"}))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 10 * time.Second}
	for c := range clients {
		for j := range 8 {
			resp, err := client.Post(fmt.Sprintf("%s/aggregates/account/load-%d-%d/Open", d.URL, c, j), "application/json", strings.NewReader(`{"owner":"load"}`))
			if err != nil || resp.StatusCode != 201 {
				b.Fatalf("opening the accounts: %v %v", resp, err)
			}
			resp.Body.Close()
		}
	}
	for b.Loop() {
		var next atomic.Int64
		var mu sync.Mutex
		var latencies []time.Duration
		var failures atomic.Int64
		start := time.Now()
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > total || time.Since(start) > limit {
						return
					}
					body := fmt.Sprintf(`{"amount":%d}`, 1+i%20)
					t0 := time.Now()
					resp, err := client.Post(fmt.Sprintf("%s/aggregates/account/load-%d-%d/Deposit", d.URL, c, i%8), "application/json", strings.NewReader(body))
					if err != nil || resp.StatusCode >= 300 {
						failures.Add(1)
					}
					if resp != nil {
						// Read to the end, or the transport closes the
						// connection and the next command dials a new one.
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					mu.Lock()
					latencies = append(latencies, time.Since(t0))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		if failures.Load() > 0 {
			b.Fatalf("%d commands failed", failures.Load())
		}
		slices.Sort(latencies)
		pct := func(p float64) float64 {
			return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
		}
		b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "commands/s")
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
	}
}
