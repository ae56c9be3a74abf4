package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/lambdatest"
)

// BenchmarkColdStart reports the init duration RIE measures for each
// function and for two baselines built the same way: a bare aws-lambda-go
// handler, and one that also builds a DynamoDB client at init (the floor
// for any Go Lambda that talks to DynamoDB). Each iteration is a new
// container. Record the medians in docs/BENCHMARKS.md:
//
//	go test -run '^$' -bench ColdStart -benchtime 5x ./e2e/
func BenchmarkColdStart(b *testing.B) {
	s := &stack{env: map[string]string{"EVENTS_TABLE": "e", "VIEWS_TABLE": "v", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}}
	dir := b.TempDir()
	targets := map[string]string{
		"baseline-hello":     lambdatest.Build(b, "../pkg/lambdatest/testdata/hello", filepath.Join(dir, "hello")),
		"baseline-ddbclient": lambdatest.Build(b, "../pkg/lambdatest/testdata/ddbclient", filepath.Join(dir, "ddbclient")),
	}
	for fn, path := range bootstraps(b, theCart) {
		targets[fn] = path
	}
	names := make([]string, 0, len(targets))
	for n := range targets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			var inits []time.Duration
			for b.Loop() {
				f := lambdatest.Start(b, targets[name], s.env)
				// Any invocation starts the runtime; an HTTP API event for
				// GET /healthz is valid for every function (the projector
				// sees a batch without records).
				healthz := map[string]any{"version": "2.0", "routeKey": "$default", "rawPath": "/healthz",
					"requestContext": map[string]any{"stage": "$default", "http": map[string]any{"method": "GET", "path": "/healthz"}}}
				if _, err := f.Invoke(b.Context(), healthz); err != nil {
					b.Fatal(err)
				}
				d, ok := f.InitDuration()
				if !ok {
					b.Fatalf("no init duration in:\n%s", f.Logs())
				}
				inits = append(inits, d)
				f.Stop()
			}
			fi, err := os.Stat(targets[name])
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(lambdatest.Median(inits).Microseconds())/1000, "init-ms")
			b.ReportMetric(float64(fi.Size()), "binary-bytes")
			b.Logf("%s: init median %v over %d cold starts, %d bytes", name, lambdatest.Median(inits), len(inits), fi.Size())
		})
	}
}

// BenchmarkWarmCommandRIE: one POST through a warm command function under
// RIE, against moto_server. moto dominates; the figure is an upper bound.
func BenchmarkWarmCommandRIE(b *testing.B) {
	s := newStack(b)
	for i := 0; b.Loop(); i++ {
		r := v2(b, s.command, request{Method: "POST", Path: "/aggregates/cart/bench/AddItem", Body: fmt.Sprintf(`{"sku":"sku-%d","quantity":1,"price":10}`, i%50)})
		if r.Status >= 300 {
			b.Fatalf("%d %s", r.Status, r.Body)
		}
	}
}
