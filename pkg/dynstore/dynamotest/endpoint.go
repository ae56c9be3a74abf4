package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
)

// Endpoint returns the URL of the DynamoDB API for the test:
// AWS_ENDPOINT_URL when it is set, else the moto_server of this test
// binary, started on first use and shared by later calls.
//
// Outcomes: the URL; the test failed when AWS_ENDPOINT_URL is not an
// http(s) URL; when moto_server cannot be started (missing, crashed, not
// answering within 30 s) the test is skipped with the reason and what to
// install, or failed under CI=true. A failed start is tried again by the
// next call.
func Endpoint(t testing.TB) string {
	t.Helper()
	return motoserver.Endpoint(t)
}

// Config returns an AWS configuration for Endpoint, in region us-east-1
// with static dummy credentials, so that no credentials of the machine are
// read or sent. Use it for DynamoDB, DynamoDB Streams and SQS clients. Its
// outcomes are Endpoint's, plus a failed test when the SDK cannot load a
// configuration.
func Config(t testing.TB) aws.Config {
	t.Helper()
	return motoserver.Config(t)
}

// Stop ends the moto_server this package started, if any, and removes its
// log; a later Endpoint starts a new one. Call it from TestMain after
// m.Run:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		dynamotest.Stop()
//		os.Exit(code)
//	}
//
// Without it the server still dies with the test binary, but its log file
// stays in the temporary directory.
func Stop() { motoserver.Stop() }

var (
	tableSeq    atomic.Int64
	validPrefix = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
)

// NewTables creates a fresh pair of dynstore tables (events, with its
// stream, and views; see dynstore.CreateTables) on the test's endpoint,
// named prefix-events-<unique> and prefix-views-<unique>, so that tests
// and test binaries sharing an endpoint never see each other's data. They
// are deleted when the test ends; deleting is best effort and a failure is
// only logged.
//
// Outcomes: the tables, active; the test failed when prefix is not 1 to
// 100 letters, digits, '_', '-' or '.', or the tables cannot be created;
// Endpoint's skip or failure when there is no endpoint.
func NewTables(t testing.TB, prefix string) dynstore.Tables {
	t.Helper()
	if !validPrefix.MatchString(prefix) {
		t.Fatalf("dynamotest: table prefix %q: want 1 to 100 letters, digits, '_', '-' or '.'", prefix)
	}
	client := dynamodb.NewFromConfig(Config(t))
	suffix := uniqueSuffix()
	tables := dynstore.Tables{Events: prefix + "-events-" + suffix, Views: prefix + "-views-" + suffix}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Cleanup(func() { deleteTables(t, client, tables) })
	if err := dynstore.CreateTables(ctx, client, tables); err != nil {
		t.Fatalf("dynamotest: create tables: %v", err)
	}
	return tables
}

// uniqueSuffix is unique per process (pid, counter) and across machines
// sharing an endpoint (random).
func uniqueSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return fmt.Sprintf("%d-%d-%s", os.Getpid(), tableSeq.Add(1), hex.EncodeToString(b))
}

// deleteTables runs at cleanup, when the test's context has ended already.
func deleteTables(t testing.TB, client *dynamodb.Client, tables dynstore.Tables) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{tables.Events, tables.Views} {
		_, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		var nf *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			t.Logf("dynamotest: delete table %s: %v", name, err)
		}
	}
}
