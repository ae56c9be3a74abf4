package dynamotest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest"
	"github.com/signalforgo/signal/pkg/dynstore/dynstream"
	"github.com/signalforgo/signal/pkg/lambdatest"
)

// recorder is a testing.TB whose Fatal and Skip are recorded rather than
// acted on. Like the real ones they end the calling goroutine.
type recorder struct {
	testing.TB
	kind, msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.kind, r.msg = "fatal", fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.kind, r.msg = "skip", fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func record(t *testing.T, f func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func exists(t *testing.T, client *dynamodb.Client, table string) bool {
	_, err := client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var nf *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		t.Fatal(err)
	}
	return err == nil
}

func TestNewTables(t *testing.T) {
	client := dynamodb.NewFromConfig(dynamotest.Config(t))
	var a, b dynstore.Tables
	t.Run("user", func(t *testing.T) {
		a, b = dynamotest.NewTables(t, "tables"), dynamotest.NewTables(t, "tables")
		if a == b || a.Events == a.Views || !strings.HasPrefix(a.Events, "tables-events-") || !strings.HasPrefix(a.Views, "tables-views-") {
			t.Fatalf("tables %+v and %+v", a, b)
		}
		if _, err := dynstream.StreamARN(t.Context(), client, a.Events); err != nil {
			t.Errorf("the events table has no stream: %v", err)
		}
		if !exists(t, client, a.Views) {
			t.Error("no views table")
		}
	})
	for _, table := range []string{a.Events, a.Views, b.Events, b.Views} {
		if exists(t, client, table) {
			t.Errorf("table %s outlived the test that made it", table)
		}
	}
	for _, bad := range []string{"", "has space", "slash/", strings.Repeat("x", 101)} {
		if r := record(t, func(tb testing.TB) { dynamotest.NewTables(tb, bad) }); r.kind != "fatal" || !strings.Contains(r.msg, "prefix") {
			t.Errorf("prefix %q: %s %q, want a failure", bad, r.kind, r.msg)
		}
	}
}

func TestNewPumpRefusesBadInput(t *testing.T) {
	tables := dynamotest.NewTables(t, "badpump")
	nop := func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{}, nil
	}
	for name, c := range map[string]struct {
		table string
		to    dynamotest.Projector
		cfg   dynamotest.PumpConfig
		want  string
	}{
		"no projector":         {tables.Events, nil, dynamotest.PumpConfig{}, "no projector"},
		"batch too large":      {tables.Events, nop, dynamotest.PumpConfig{BatchSize: 1001}, "BatchSize"},
		"negative batch":       {tables.Events, nop, dynamotest.PumpConfig{BatchSize: -1}, "BatchSize"},
		"retries":              {tables.Events, nop, dynamotest.PumpConfig{MaxRetries: -2}, "MaxRetries"},
		"no such table":        {"no-such-table", nop, dynamotest.PumpConfig{}, "no-such-table"},
		"table with no stream": {tables.Views, nop, dynamotest.PumpConfig{}, "no enabled stream"},
	} {
		if r := record(t, func(tb testing.TB) { dynamotest.NewPump(tb, c.table, c.to, c.cfg) }); r.kind != "fatal" || !strings.Contains(r.msg, c.want) {
			t.Errorf("%s: %s %q, want a failure saying %q", name, r.kind, r.msg, c.want)
		}
	}
}

// TestPumpToRIE: the pump delivers to a projector's bootstrap under RIE,
// which reports partial failures; the records come again until accepted.
func TestPumpToRIE(t *testing.T) {
	s := newStream(t)
	fn := lambdatest.Start(t, lambdatest.Build(t, "./testdata/projector", t.TempDir()), nil)
	s.put("a", dynstore.KindCommit)
	s.put("b#flaky", dynstore.KindCommit)
	s.put("c", dynstore.KindCommit)
	p := dynamotest.NewPump(t, s.tables.Events, dynamotest.Lambda(fn), dynamotest.PumpConfig{})
	if n := drainAll(t, p); n != 3 {
		t.Fatalf("%d records delivered, want 3", n)
	}
	var got []string
	for _, r := range p.Delivered() {
		got = append(got, pkOf(r))
	}
	if g, want := strings.Join(got, ","), "a,b#flaky,c,b#flaky,c,b#flaky,c"; g != want {
		t.Errorf("delivered %s, want %s", g, want)
	}
	if len(p.DeadLetters()) != 0 || strings.Count(fn.Logs(), "record b#flaky") != 3 {
		t.Errorf("dead letters %v; the function's log:\n%s", p.DeadLetters(), fn.Logs())
	}
	// A projector that is not one: its answer does not decode.
	echo := lambdatest.Start(t, lambdatest.Build(t, "./testdata/notprojector", t.TempDir()), nil)
	q := dynamotest.NewPump(t, s.tables.Events, dynamotest.Lambda(echo), dynamotest.PumpConfig{})
	if _, err := q.Drain(t.Context()); err == nil || !strings.Contains(err.Error(), "not a events.DynamoDBEventResponse") {
		t.Errorf("a function answering no batch response: %v", err)
	}
}
