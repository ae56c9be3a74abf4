package signalstack

// The synthesized tables, created through CloudFormation's API on
// moto_server (which implements CreateStack for AWS::DynamoDB::Table),
// then described and used by dynstore: the template is a table dynstore
// works with, not only one that looks right.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// startMoto starts moto_server on a free loopback port for this test (or
// uses MOTO_ENDPOINT) and stops it at cleanup. Missing moto_server skips
// the test, except under CI=true, where it fails.
func startMoto(t *testing.T) string {
	t.Helper()
	if e := os.Getenv("MOTO_ENDPOINT"); e != "" {
		return e
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("moto_server is required under CI: %v", err)
		}
		t.Skipf("moto_server not installed (pip install 'moto[server]'): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	logFile, err := os.CreateTemp("", "moto-infra-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		if !t.Failed() {
			os.Remove(logFile.Name())
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url + "/"); err == nil {
			resp.Body.Close()
			return url
		}
	}
	t.Fatalf("moto_server did not answer on %s within 30 s (log: %s)", url, logFile.Name())
	return ""
}

func TestTablesOnMoto(t *testing.T) {
	url := startMoto(t)
	tp := synth(t, "default")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The two table resources of the synthesized template, as they are.
	events, views := tp.id(t, "EventsTable/Resource"), tp.id(t, "ViewsTable/Resource")
	resources := map[string]any{}
	for _, id := range tp.ofType("AWS::DynamoDB::Table") {
		resources[id] = tp.Resources[id]
	}
	if len(resources) != 2 {
		t.Fatalf("%d tables in the template, want 2", len(resources))
	}
	body, err := json.Marshal(map[string]any{"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
	if err != nil {
		t.Fatal(err)
	}

	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithBaseEndpoint(url),
	)
	if err != nil {
		t.Fatal(err)
	}
	cfn := cloudformation.NewFromConfig(cfg)
	stack := fmt.Sprintf("signal-tables-%d", time.Now().UnixNano())
	if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(stack), TemplateBody: aws.String(string(body))}); err != nil {
		t.Fatalf("CreateStack: %v", err)
	}
	w := cloudformation.NewStackCreateCompleteWaiter(cfn, func(o *cloudformation.StackCreateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	if err := w.Wait(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)}, time.Minute); err != nil {
		t.Fatalf("stack did not reach CREATE_COMPLETE: %v", err)
	}
	out, err := cfn.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(stack)})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, r := range out.StackResources {
		if r.ResourceStatus != cfntypes.ResourceStatusCreateComplete {
			t.Errorf("%s: %s", aws.ToString(r.LogicalResourceId), r.ResourceStatus)
		}
		names[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
	}
	tables := dynstore.Tables{Events: names[events], Views: names[views]}
	if tables.Events == "" || tables.Views == "" {
		t.Fatalf("stack resources %v lack %s or %s", names, events, views)
	}

	// What DynamoDB says the tables are is what dynstore declares.
	ddb := dynamodb.NewFromConfig(cfg)
	for _, want := range []*dynamodb.CreateTableInput{dynstore.EventsTableInput(tables.Events), dynstore.ViewsTableInput(tables.Views)} {
		d, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: want.TableName})
		if err != nil {
			t.Fatal(err)
		}
		got := d.Table
		name := aws.ToString(want.TableName)
		if !sameKeys(got.KeySchema, want.KeySchema) {
			t.Errorf("%s KeySchema %s, dynstore %s", name, js(got.KeySchema), js(want.KeySchema))
		}
		if !sameAttrs(got.AttributeDefinitions, want.AttributeDefinitions) {
			t.Errorf("%s AttributeDefinitions %s, dynstore %s", name, js(got.AttributeDefinitions), js(want.AttributeDefinitions))
		}
		if got.BillingModeSummary == nil || got.BillingModeSummary.BillingMode != want.BillingMode {
			t.Errorf("%s billing %s, dynstore %s", name, js(got.BillingModeSummary), want.BillingMode)
		}
		switch s := want.StreamSpecification; {
		case s != nil && aws.ToBool(s.StreamEnabled):
			if got.StreamSpecification == nil || !aws.ToBool(got.StreamSpecification.StreamEnabled) ||
				got.StreamSpecification.StreamViewType != s.StreamViewType || aws.ToString(got.LatestStreamArn) == "" {
				t.Errorf("%s stream %s (arn %q), dynstore %s", name, js(got.StreamSpecification), aws.ToString(got.LatestStreamArn), js(s))
			}
		default:
			if got.StreamSpecification != nil && aws.ToBool(got.StreamSpecification.StreamEnabled) {
				t.Errorf("%s has a stream; dynstore declares none", name)
			}
		}
	}
	// dynstore's own check of existing tables (the stream is NEW_IMAGE) passes.
	if err := dynstore.CreateTables(ctx, ddb, tables); err != nil {
		t.Errorf("dynstore.CreateTables on the stack's tables: %v", err)
	}

	// And dynstore works on them: append and load a commit, move a checkpoint.
	store, err := dynstore.New(ddb, tables)
	if err != nil {
		t.Fatal(err)
	}
	id := signal.StreamID{Type: "cart", ID: "c1"}
	c := signal.Commit{Stream: id, Version: 1, CommandID: "cmd-1", Time: time.UnixMilli(time.Now().UnixMilli()).UTC(),
		Events: []signal.RawEvent{{ID: "e1", Name: "ItemAdded", SchemaVersion: 1, Data: []byte(`{"sku":"apple","quantity":1,"price":50}`)}}}
	if err := store.Append(ctx, c); err != nil {
		t.Fatalf("Append: %v", err)
	}
	var loaded []signal.Commit
	for got, err := range store.Load(ctx, id, 0) {
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		loaded = append(loaded, got)
	}
	if len(loaded) != 1 || !reflect.DeepEqual(loaded[0], c) {
		t.Errorf("loaded %+v, want %+v", loaded, c)
	}
	other := c
	other.CommandID, other.Events = "cmd-2", []signal.RawEvent{{ID: "e2", Name: "ItemAdded", SchemaVersion: 1, Data: []byte(`{}`)}}
	if err := store.Append(ctx, other); !errors.Is(err, signal.ErrConflict) {
		t.Errorf("another commit at version 1: %v, want a conflict (the conditional write)", err)
	}
	if err := store.SaveCheckpoint(ctx, "test", id, 0, 1); err != nil {
		t.Fatalf("SaveCheckpoint: %v", err)
	}
	if cp, err := store.LoadCheckpoint(ctx, "test", id); err != nil || cp.Version != 1 {
		t.Errorf("LoadCheckpoint = %d, %v; want 1", cp.Version, err)
	}
}

func sameKeys(a, b []types.KeySchemaElement) bool {
	return slices.EqualFunc(a, b, func(x, y types.KeySchemaElement) bool {
		return aws.ToString(x.AttributeName) == aws.ToString(y.AttributeName) && x.KeyType == y.KeyType
	})
}

func sameAttrs(a, b []types.AttributeDefinition) bool {
	key := func(d types.AttributeDefinition) string {
		return aws.ToString(d.AttributeName) + ":" + string(d.AttributeType)
	}
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i] = key(a[i])
	}
	for i := range b {
		kb[i] = key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
