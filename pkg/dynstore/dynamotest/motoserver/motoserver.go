// Package motoserver is the endpoint part of dynamotest on its own: a real
// DynamoDB, DynamoDB Streams (and SQS) API for tests, either moto_server
// (an independent implementation, `pip install 'moto[server]'`) started on
// a free loopback port, or the endpoint in AWS_ENDPOINT_URL when one is
// given (LocalStack, DynamoDB Local, a shared moto).
//
// Use dynamotest, which has the same Endpoint, Config and Stop plus tables
// and a stream pump. This package exists for the tests inside dynstore
// itself: dynamotest imports dynstore, so dynstore's own tests cannot
// import it. Both share one server per test binary.
//
// The server is started on first use, once per test binary, and dies with
// it. Its DynamoDB requests are serialized (serve.py): moto checks a
// conditional write's condition and then writes without a lock, so two
// conditional writes on one key could both succeed, which DynamoDB never
// allows. When moto_server is missing the test is skipped, except under
// CI=true, where it fails: CI must never pass by not testing.
package motoserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region of Config, and the one the server's ARNs name.
const Region = "us-east-1"

// installHint says how to get a DynamoDB endpoint.
const installHint = "install moto_server (`pip install 'moto[server]'`; the Signal repository's `make deps` does) " +
	"or set AWS_ENDPOINT_URL to a DynamoDB endpoint (LocalStack, DynamoDB Local)"

var (
	mu      sync.Mutex
	current *server // the running server, nil before the first use and after Stop
)

// Endpoint returns the URL of the DynamoDB API for the test:
// AWS_ENDPOINT_URL when it is set, else the moto_server of this test
// binary, started on first use (later calls share it).
//
// Outcomes: the URL; the test failed when AWS_ENDPOINT_URL is not an
// http(s) URL with a host; when moto_server cannot be started (missing,
// crashed, not answering within 30 s), the test skipped with the reason
// and what to install, or failed under CI=true. A failed start is tried
// again by the next call.
func Endpoint(t testing.TB) string {
	t.Helper()
	if e := os.Getenv("AWS_ENDPOINT_URL"); e != "" {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("AWS_ENDPOINT_URL=%q: want an http(s) URL such as http://127.0.0.1:4566", e)
		}
		return e
	}
	mu.Lock()
	defer mu.Unlock()
	if current == nil {
		s, err := startRetrying()
		if err != nil {
			require(t, fmt.Errorf("no DynamoDB endpoint: %v; %s", err, installHint))
		}
		current = s
	}
	return current.url
}

// Config returns an AWS configuration for Endpoint: region us-east-1 and
// static dummy credentials, the way a user points the SDK at a local
// endpoint, so no credentials of the machine are read or sent. Its
// outcomes are Endpoint's, plus a failed test when the SDK cannot load a
// configuration (a malformed AWS_* variable).
func Config(t testing.TB) aws.Config {
	t.Helper()
	endpoint := Endpoint(t)
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithBaseEndpoint(endpoint),
	)
	if err != nil {
		t.Fatalf("AWS configuration for %s: %v", endpoint, err)
	}
	return cfg
}

// Stop ends the moto_server this package started, if any, and removes its
// log; a later Endpoint starts a new one. Call it from TestMain after
// m.Run. Without it the server still dies with the test binary (it runs
// with a parent-death signal), but its log file stays in the temporary
// directory. Stop does nothing when no server runs.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if current != nil {
		current.stop()
		current = nil
	}
}

// require is what a missing tool does to a test: it fails under CI=true
// (CI must never pass by not testing) and is skipped otherwise.
func require(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("required under CI=true: %v", err)
	}
	t.Skipf("skipped: %v", err)
}

// startRetrying starts a server, on new ports when the last one exited at
// once: a free port is free only until another process takes it.
func startRetrying() (*server, error) {
	var err error
	for range 3 {
		var s *server
		if s, err = start(); err == nil {
			return s, nil
		}
		if !errors.Is(err, errExited) {
			return nil, err
		}
	}
	return nil, err
}
