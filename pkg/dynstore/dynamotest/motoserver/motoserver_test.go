package motoserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/internal/testsupport"
)

func TestMain(m *testing.M) { testsupport.Main(m, Stop) }

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

// endpoint calls Endpoint with a recorder, on a goroutine of its own.
func endpoint(t *testing.T) (*recorder, string) {
	r := &recorder{TB: t}
	var url string
	done := make(chan struct{})
	go func() {
		defer close(done)
		url = Endpoint(r)
	}()
	<-done
	return r, url
}

var tables atomic.Int64

// TestConditionalWritesAreAtomic: of many concurrent PutItems on one key,
// each conditioned on the item's absence, exactly one succeeds. DynamoDB
// guarantees it; moto_server (threaded, no lock around check-then-write)
// did not, which let two commits land at one version now and then. The
// server serializes DynamoDB requests for it (serve.py).
func TestConditionalWritesAreAtomic(t *testing.T) {
	client := dynamodb.NewFromConfig(Config(t))
	table := fmt.Sprintf("atomic-%d-%d", os.Getpid(), tables.Add(1))
	_, err := client.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	const rounds, writers = 30, 32
	for round := range rounds {
		var won atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range writers {
			wg.Go(func() {
				<-start
				_, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{
					TableName: aws.String(table),
					Item: map[string]types.AttributeValue{
						"pk":     &types.AttributeValueMemberS{Value: fmt.Sprint("k", round)},
						"writer": &types.AttributeValueMemberN{Value: fmt.Sprint(w)},
					},
					ConditionExpression: aws.String("attribute_not_exists(pk)"),
				})
				var ccf *types.ConditionalCheckFailedException
				switch {
				case err == nil:
					won.Add(1)
				case !errors.As(err, &ccf):
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := won.Load(); n != 1 {
			t.Fatalf("round %d: %d conditional writes on one absent key succeeded, want 1", round, n)
		}
	}
}

func TestEndpointFromEnvironment(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
	if r, url := endpoint(t); r.kind != "" || url != "http://127.0.0.1:4566" {
		t.Errorf("Endpoint with AWS_ENDPOINT_URL: %q (%s %s)", url, r.kind, r.msg)
	}
	if got := aws.ToString(Config(t).BaseEndpoint); got != "http://127.0.0.1:4566" {
		t.Errorf("Config's endpoint %q", got)
	}
	for _, bad := range []string{"127.0.0.1:4566", "ftp://host", "http://"} {
		t.Setenv("AWS_ENDPOINT_URL", bad)
		if r, _ := endpoint(t); r.kind != "fatal" || !strings.Contains(r.msg, bad) {
			t.Errorf("AWS_ENDPOINT_URL=%q: %s %q, want a failure naming it", bad, r.kind, r.msg)
		}
	}
}

// TestMissingServer: no moto_server skips the test, or fails it under
// CI=true, saying what to install; once it is there again, Endpoint
// starts it.
func TestMissingServer(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	Stop()
	missing := filepath.Join(t.TempDir(), "no-moto")
	for _, c := range []struct{ bin, want string }{
		{missing, "no such file"},
		{"/bin/false", "exited before answering"}, // exits at once: retried, then reported
	} {
		t.Setenv("MOTO_SERVER", c.bin)
		for ci, kind := range map[string]string{"": "skip", "true": "fatal"} {
			t.Setenv("CI", ci)
			r, _ := endpoint(t)
			if r.kind != kind || !strings.Contains(r.msg, c.want) || !strings.Contains(r.msg, "pip install 'moto[server]'") || !strings.Contains(r.msg, "AWS_ENDPOINT_URL") {
				t.Errorf("MOTO_SERVER=%s CI=%q: %s %q, want a %s saying %q and how to get an endpoint", c.bin, ci, r.kind, r.msg, kind, c.want)
			}
		}
	}
	t.Setenv("MOTO_SERVER", "")
	t.Setenv("CI", "")
	if r, url := endpoint(t); r.kind != "" || url == "" {
		require(t, errors.New(r.msg)) // no moto_server on this machine at all
	}
}

// TestStopEndsTheServer: Stop kills the server and removes its log; the
// next Endpoint starts another.
func TestStopEndsTheServer(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	Endpoint(t)
	mu.Lock()
	s := current
	mu.Unlock()
	pid := s.cmd.Process.Pid
	Stop()
	Stop() // idempotent
	if alive(pid) {
		t.Errorf("moto_server %d still running after Stop", pid)
	}
	if _, err := os.Stat(s.logPath); !os.IsNotExist(err) {
		t.Errorf("log %s left behind: %v", s.logPath, err)
	}
	cfg := Config(t)
	if _, err := dynamodb.NewFromConfig(cfg).ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
		t.Errorf("the server started after Stop does not answer: %v", err)
	}
}

// alive reports whether pid is a running (not zombie) process, giving a
// dying one a moment.
func alive(pid int) bool {
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i >= 0 && strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z") {
			return false
		}
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
}
