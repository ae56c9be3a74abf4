package signalstack

// The shared harness of the template tests: each variant of the stack is
// synthesized once per test binary (a synth costs seconds: it runs in the
// jsii Node.js process) and every test reads the same template.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20") // Node 20 works; the README says what is supported
	code := m.Run()
	jsii.Close()
	if codeDir != "" {
		os.RemoveAll(codeDir)
	}
	os.Exit(code)
}

// codeDir holds dummy <function>/bootstrap files, so the tests need no
// `make build`.
var codeDir string

func dummyCode(t testing.TB) string {
	t.Helper()
	if codeDir != "" {
		return codeDir
	}
	dir, err := os.MkdirTemp("", "signalstack-code-")
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{CommandFunction, QueryFunction, ProjectorFunction} {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("#!/bin/sh\n# "+fn+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	codeDir = dir
	return dir
}

// template is one synthesized variant: the assertions Template (checks run
// in the CDK's own matcher) and its JSON (for checks in Go).
type template struct {
	T         assertions.Template
	Resources map[string]map[string]any
	Outputs   map[string]any
	Props     Props
	Stack     awscdk.Stack // for assertions.Annotations_FromStack
}

var (
	synthMu   sync.Mutex
	templates = map[string]*template{}
)

// variants are the synthesized configurations.
//   - "default": the zero Props (HTTP API, arm64, on-demand, RETAIN).
//   - "rest": REST API on amd64 with deletion protection, CORS origins,
//     provisioned capacity, a log level and non-default function sizes.
//   - "httpcors": the HTTP API with CORS origins (the preflight route).
//   - "options": the HTTP API with page routes and every FunctionOptions
//     field set on some function.
//   - "restpages": the REST API with page routes and CORS origins (pages
//     take no preflight).
//   - the auth variants (auth_test.go): "jwt", "cognito", "cognitoarn",
//     "none" on the HTTP API, "restcognito", "restcognitoarn", "restnone"
//     on the REST API; each with page routes, some with CORS origins, and
//     the stage, claim and concurrency settings spread over them.
var variants = map[string]Props{
	"default": {},
	"rest": {
		API:                RESTAPI,
		Arch:               "amd64",
		DeletionProtection: true,
		CORSOrigins:        []string{"https://shop.example", "https://admin.example"},
		Capacity:           &TableCapacity{ReadUnits: 5, WriteUnits: 7},
		LogLevel:           "debug",
		Command:            FunctionOptions{MemoryMB: 1024, Timeout: 20 * time.Second},
		BatchSize:          50,
	},
	"httpcors": {CORSOrigins: []string{"*"}},
	"options": {
		PageRoutes: pageRoutes,
		Command: FunctionOptions{Name: "shop-command", Description: "Shop commands", MemoryMB: 2048, Timeout: 25 * time.Second,
			Environment: map[string]string{"FEATURE_FLAGS": "beta", "TENANT": "acme"}},
		Query:     FunctionOptions{Environment: map[string]string{"TENANT": "acme"}},
		Projector: FunctionOptions{Name: "shop_projector", Description: "Shop views and policies"},
	},
	"restpages": {API: RESTAPI, PageRoutes: pageRoutes, CORSOrigins: []string{"https://shop.example"}},

	"jwt": {Auth: AuthJWT, JWTIssuer: "https://auth.shop.example/", JWTAudiences: []string{"shop-api", "shop-console"},
		PageRoutes: pageRoutes, CORSOrigins: []string{"https://shop.example"},
		TenantClaim: "custom:tenant", GroupsClaim: "roles",
		ThrottleRate: 25, ThrottleBurst: 50, AccessLogRetention: awslogs.RetentionDays_THREE_MONTHS,
		Command: FunctionOptions{ReservedConcurrency: 20}, Projector: FunctionOptions{ReservedConcurrency: 2}},
	"cognito":    {Auth: AuthCognito, PageRoutes: pageRoutes},
	"cognitoarn": {Auth: AuthCognito, UserPoolARN: testPoolARN, JWTAudiences: []string{"client1", "client2"}, PageRoutes: pageRoutes},
	"none":       {Auth: AuthNone, PageRoutes: pageRoutes, CORSOrigins: []string{"*"}},
	"restcognito": {API: RESTAPI, Auth: AuthCognito, PageRoutes: pageRoutes, CORSOrigins: []string{"https://shop.example"},
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY},
	"restcognitoarn": {API: RESTAPI, Auth: AuthCognito, UserPoolARN: testPoolARN, PageRoutes: pageRoutes,
		RESTLogRole: true, ThrottleRate: 7.5, ThrottleBurst: 15, AccessLogRetention: awslogs.RetentionDays_ONE_YEAR,
		Query: FunctionOptions{ReservedConcurrency: 100}},
	"restnone": {API: RESTAPI, Auth: AuthNone, PageRoutes: pageRoutes},
}

// testPoolARN is a given user pool in another region than the stack's.
const testPoolARN = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123xyZ"

// pageRoutes of the "options" and "restpages" variants: the root, a
// greedy path and a HEAD.
var pageRoutes = []string{"GET /", "GET /ui/{proxy+}", "HEAD /ui/{proxy+}"}

func synth(t *testing.T, variant string) *template {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if tp, ok := templates[variant]; ok {
		return tp
	}
	props, ok := variants[variant]
	if !ok {
		t.Fatalf("no variant %q", variant)
	}
	props.CodeDir = dummyCode(t)
	start := time.Now()
	// Path metadata, as the CDK CLI adds it, lets tests find resources by
	// construct path instead of hashed logical ids.
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:enable-path-metadata": true}})
	stack, _, err := NewStack(app, "Signal", nil, &props)
	if err != nil {
		t.Fatal(err)
	}
	tt := assertions.Template_FromStack(stack, nil)
	j := *tt.ToJSON()
	tp := &template{T: tt, Resources: map[string]map[string]any{}, Props: props, Stack: stack}
	for id, r := range j["Resources"].(map[string]any) {
		tp.Resources[id] = r.(map[string]any)
	}
	tp.Outputs, _ = j["Outputs"].(map[string]any)
	t.Logf("synthesized variant %q in %v", variant, time.Since(start).Round(time.Millisecond))
	templates[variant] = tp
	return tp
}

// check runs an assertions call, turning its panic (a failed match) into
// a test error.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// ofType returns the logical ids of the resources of a type, sorted.
func (tp *template) ofType(typ string) []string {
	var ids []string
	for id, r := range tp.Resources {
		if r["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// id returns the logical id of the resource at construct path
// Signal/Signal/<path> (e.g. "EventsTable/Resource"), so tests never
// hard-code hashed logical ids.
func (tp *template) id(t *testing.T, path string) string {
	t.Helper()
	want := "Signal/Signal/" + path
	for id, r := range tp.Resources {
		if md, ok := r["Metadata"].(map[string]any); ok && md["aws:cdk:path"] == want {
			return id
		}
	}
	t.Fatalf("no resource at %s", want)
	return ""
}

func (tp *template) props(t *testing.T, id string) map[string]any {
	t.Helper()
	r, ok := tp.Resources[id]
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	p, _ := r["Properties"].(map[string]any)
	return p
}

// Intrinsic functions as they appear in the template.
func ref(id string) map[string]any { return map[string]any{"Ref": id} }
func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

// strs normalizes a template value that is a string or a list of strings.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = fmt.Sprint(s)
		}
		return out
	}
	return nil
}

// show renders a template value compactly for messages and map keys.
func show(v any) string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + show(v[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = show(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprint(v)
}
