package signalstack

// Tests that need no synth (no jsii runtime): props, context, routes, the
// stream filter.

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/httpapi"
)

func TestPropsDefaults(t *testing.T) {
	p, err := (*Props)(nil).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Props{
		Arch:                 "arm64",
		CodeDir:              "../dist",
		API:                  HTTPAPI,
		Command:              FunctionOptions{MemoryMB: 256, Timeout: 10 * time.Second},
		Query:                FunctionOptions{MemoryMB: 256, Timeout: 10 * time.Second},
		Projector:            FunctionOptions{MemoryMB: 512, Timeout: 60 * time.Second},
		LogRetention:         DefaultLogRetention,
		RemovalPolicy:        awscdk.RemovalPolicy_RETAIN,
		BatchSize:            100,
		MaxBatchingWindow:    time.Second,
		RetryAttempts:        5,
		MaxRecordAge:         24 * time.Hour,
		DeadLetterRetention:  14 * 24 * time.Hour,
		IteratorAgeThreshold: 60 * time.Second,
		Auth:                 AuthIAM,
		ThrottleRate:         100,
		ThrottleBurst:        200,
		AccessLogRetention:   DefaultLogRetention,
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", p, want)
	}
	if p, _ := (&Props{Arch: "x86_64"}).withDefaults(); p.Arch != "amd64" {
		t.Errorf("x86_64 became %q, want amd64", p.Arch)
	}
}

func TestPropsInvalid(t *testing.T) {
	for _, tc := range []struct {
		props Props
		want  string
	}{
		{Props{Arch: "riscv64"}, "Arch"},
		{Props{API: "grpc"}, "API"},
		{Props{Command: FunctionOptions{MemoryMB: 64}}, "Command.MemoryMB"},
		{Props{Query: FunctionOptions{Timeout: 16 * time.Minute}}, "Query.Timeout"},
		{Props{Projector: FunctionOptions{Timeout: 1500 * time.Millisecond}}, "Projector.Timeout"},
		{Props{LogLevel: "verbose"}, "LogLevel"},
		{Props{CORSOrigins: []string{"shop.example"}}, "CORSOrigins"},
		{Props{CORSOrigins: []string{"https://a.example,https://b.example"}}, "CORSOrigins"},
		{Props{Capacity: &TableCapacity{ReadUnits: 1}}, "Capacity"},
		{Props{BatchSize: 10001}, "BatchSize"},
		{Props{MaxBatchingWindow: 301 * time.Second}, "MaxBatchingWindow"},
		{Props{RetryAttempts: -1}, "RetryAttempts"},
		{Props{MaxRecordAge: 30 * time.Second}, "MaxRecordAge"},
		{Props{DeadLetterRetention: 15 * 24 * time.Hour}, "DeadLetterRetention"},
		{Props{IteratorAgeThreshold: -time.Second}, "IteratorAgeThreshold"},
		{Props{CodeDir: "dist", Build: &GoBuild{}}, "CodeDir"},
		{Props{Command: FunctionOptions{Name: "my command"}}, "Command.Name"},
		{Props{Query: FunctionOptions{Name: strings.Repeat("q", 65)}}, "Query.Name"},
		{Props{Command: FunctionOptions{Name: "shop"}, Projector: FunctionOptions{Name: "shop"}}, "Projector.Name"},
		{Props{Projector: FunctionOptions{Description: strings.Repeat("d", 257)}}, "Projector.Description"},
		{Props{Command: FunctionOptions{Environment: map[string]string{"EVENTS_TABLE": "mine"}}}, "Command.Environment EVENTS_TABLE"},
		{Props{Query: FunctionOptions{Environment: map[string]string{"LOG_LEVEL": "debug"}}}, "Query.Environment LOG_LEVEL"},
		{Props{Projector: FunctionOptions{Environment: map[string]string{"DEAD_LETTER_QUEUE_URL": "x"}}}, "Projector.Environment DEAD_LETTER_QUEUE_URL"},
		{Props{Query: FunctionOptions{Environment: map[string]string{"CORS_ALLOW_ORIGINS": "*"}}}, "Query.Environment CORS_ALLOW_ORIGINS"},
		{Props{Command: FunctionOptions{Environment: map[string]string{"AWS_REGION": "eu-west-1"}}}, "reserved by Lambda"},
		{Props{Command: FunctionOptions{Environment: map[string]string{"1ST": "x"}}}, "Command.Environment"},
		{Props{PageRoutes: []string{"POST /"}}, "PageRoutes"},
		{Props{PageRoutes: []string{"GET"}}, "PageRoutes"},
		{Props{PageRoutes: []string{"GET ui"}}, "PageRoutes"},
		{Props{PageRoutes: []string{"GET /ui/"}}, "PageRoutes"},
		{Props{PageRoutes: []string{"GET /ui//x"}}, "PageRoutes"},
		{Props{PageRoutes: []string{"GET /{p+}/x"}}, "PageRoutes"},
		{Props{PageRoutes: []string{"GET /healthz"}}, "an API route"},
		{Props{PageRoutes: []string{"GET /aggregates/{kind}/{key}"}}, "an API route"},
		{Props{PageRoutes: []string{"GET /ui/{a+}", "GET /ui/{b+}"}}, "a page route"},
	} {
		_, err := tc.props.withDefaults()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", tc.props, err, tc.want)
		}
	}
	// NewStack refuses invalid props before it touches the jsii runtime.
	if _, _, err := NewStack(nil, "Signal", nil, &Props{API: "grpc"}); err == nil {
		t.Error("NewStack accepted API grpc")
	}
}

func TestPropsFromContext(t *testing.T) {
	ctx := map[string]any{
		"api":                "REST",
		"arch":               "amd64",
		"codeDir":            "/tmp/dist",
		"deletionProtection": "true",
		"removalPolicy":      "destroy",
		"corsOrigins":        " https://a.example, https://b.example ,",
		"logLevel":           "warn",
	}
	get := func(k string) (any, bool) { v, ok := ctx[k]; return v, ok }
	p, err := PropsFromContext(get)
	if err != nil {
		t.Fatal(err)
	}
	want := Props{API: RESTAPI, Arch: "amd64", CodeDir: "/tmp/dist", DeletionProtection: true,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY, LogLevel: "warn",
		CORSOrigins: []string{"https://a.example", "https://b.example"}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v\nwant %+v", p, want)
	}

	// cdk.json may hold a boolean.
	ctx = map[string]any{"deletionProtection": true}
	if p, err := PropsFromContext(get); err != nil || !p.DeletionProtection {
		t.Errorf("boolean context: %+v, %v", p, err)
	}
	// Nothing set: the defaults (RemovalPolicy RETAIN).
	ctx = map[string]any{}
	if p, err := PropsFromContext(get); err != nil || p.RemovalPolicy != awscdk.RemovalPolicy_RETAIN || p.DeletionProtection {
		t.Errorf("empty context: %+v, %v", p, err)
	}
	// build=true: the zero GoBuild (this repository's functions, from infra/).
	ctx = map[string]any{"build": "true"}
	if p, err := PropsFromContext(get); err != nil || !reflect.DeepEqual(p.Build, &GoBuild{}) || p.CodeDir != "" {
		t.Errorf("build=true: %+v, %v", p, err)
	}
	ctx = map[string]any{"build": false}
	if p, err := PropsFromContext(get); err != nil || p.Build != nil {
		t.Errorf("build=false: %+v, %v", p, err)
	}
	for _, bad := range []map[string]any{
		{"build": "maybe"},
		{"build": "true", "codeDir": "/tmp/dist"},
		{"deletionProtection": "yes please"},
		{"removalPolicy": "snapshot-ish"},
		{"api": "grpc"},
		{"arch": "s390x"},
	} {
		ctx = bad
		if _, err := PropsFromContext(get); err == nil {
			t.Errorf("context %v accepted", bad)
		}
	}
}

// The two functions split httpapi's routes between them, exactly: every
// route once, GET /healthz on the query function.
func TestRoutes(t *testing.T) {
	cmd, qry := Routes()
	all := append(slices.Clone(cmd), qry...)
	slices.Sort(all)
	want := httpapi.AllRoutes.Patterns()
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Errorf("command %v + query %v != all routes %v", cmd, qry, want)
	}
	for _, r := range cmd {
		if slices.Contains(qry, r) {
			t.Errorf("%s is routed to both functions", r)
		}
		if !strings.HasPrefix(r, "POST ") && !strings.HasPrefix(r, "DELETE ") {
			t.Errorf("command route %s is not a POST or DELETE", r)
		}
	}
	for _, r := range qry {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("query route %s is not a GET", r)
		}
	}
	if !slices.Contains(qry, "GET /healthz") {
		t.Errorf("GET /healthz is not a query route: %v", qry)
	}
}

// The construct's filter is dynstore's (whose test checks what it keeps).
func TestCommitFilterPattern(t *testing.T) {
	if got, want := CommitFilterPattern(), dynstore.StreamFilterPattern(); got != want {
		t.Errorf("filter %s, want dynstore's %s", got, want)
	}
}

// Valid page routes and options pass; GoBuild's zero value means the
// repository layout.
func TestPropsValidOptions(t *testing.T) {
	p := Props{
		PageRoutes: []string{"GET /", "GET /ui/{proxy+}", "HEAD /ui/{proxy+}", "GET /console/{proxy+}", "GET /{proxy+}", "GET /app/{x}"},
		Command:    FunctionOptions{Name: "a-b_C9", Environment: map[string]string{"AWS_LAMBDA_EXEC_WRAPPER": "/opt/w", "MY_SETTING": ""}},
		Build:      &GoBuild{},
	}
	if _, err := p.withDefaults(); err != nil {
		t.Fatal(err)
	}
	want := GoBuild{ModuleDir: "..", Command: "./functions/command", Query: "./functions/query", Projector: "./functions/projector"}
	if got := (GoBuild{}).withDefaults(); got != want {
		t.Errorf("GoBuild defaults %+v, want %+v", got, want)
	}
	if got := (GoBuild{ModuleDir: "m", Query: "./q"}).withDefaults(); got.ModuleDir != "m" || got.Query != "./q" || got.Command != "./functions/command" {
		t.Errorf("GoBuild with fields set: %+v", got)
	}
}

// Bad auth and stage combinations are errors naming the field, before
// anything is created; the good ones pass.
func TestAuthPropsInvalid(t *testing.T) {
	const iss = "https://auth.example/"
	for _, tc := range []struct {
		props Props
		want  string
	}{
		{Props{Auth: "basic"}, "Auth \"basic\""},
		{Props{Auth: AuthJWT}, "JWTIssuer"},
		{Props{Auth: AuthJWT, JWTIssuer: iss}, "JWTAudiences: Auth jwt needs"},
		{Props{Auth: AuthJWT, JWTIssuer: "http://auth.example/", JWTAudiences: []string{"a"}}, "https URL"},
		{Props{Auth: AuthJWT, JWTIssuer: "https://auth.example/?x=1", JWTAudiences: []string{"a"}}, "JWTIssuer"},
		{Props{Auth: AuthJWT, JWTIssuer: "auth.example", JWTAudiences: []string{"a"}}, "JWTIssuer"},
		{Props{Auth: AuthJWT, JWTIssuer: iss, JWTAudiences: []string{"a,b"}}, "JWTAudiences \"a,b\""},
		{Props{Auth: AuthJWT, JWTIssuer: iss, JWTAudiences: []string{""}}, "JWTAudiences \"\""},
		{Props{Auth: AuthJWT, API: RESTAPI, JWTIssuer: iss, JWTAudiences: []string{"a"}}, "REST API has no JWT authorizer"},
		{Props{Auth: AuthJWT, JWTIssuer: iss, JWTAudiences: []string{"a"}, UserPoolARN: testPoolARN}, "UserPoolARN"},
		{Props{JWTIssuer: iss}, "JWTIssuer \"https://auth.example/\": only with Auth jwt (Auth is iam)"},
		{Props{JWTAudiences: []string{"a"}}, "JWTAudiences [a]: only with Auth jwt or cognito"},
		{Props{Auth: AuthNone, JWTAudiences: []string{"a"}}, "Auth is none"},
		{Props{UserPoolARN: testPoolARN}, "UserPoolARN"},
		{Props{Auth: AuthCognito, JWTIssuer: iss}, "JWTIssuer"},
		{Props{Auth: AuthCognito, UserPoolARN: "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/us-east-1_AbC"}, "UserPoolARN"},
		{Props{Auth: AuthCognito, UserPoolARN: "arn:aws:cognito-idp:eu-west-1:1234:userpool/eu-west-1_AbC", JWTAudiences: []string{"c"}}, "UserPoolARN"},
		{Props{Auth: AuthCognito, UserPoolARN: "eu-west-1_AbC", JWTAudiences: []string{"c"}}, "UserPoolARN"},
		{Props{Auth: AuthCognito, UserPoolARN: testPoolARN}, "needs the pool's app client ids"},
		{Props{Auth: AuthCognito, JWTAudiences: []string{"c"}}, "the stack creates the pool"},
		{Props{Auth: AuthCognito, API: RESTAPI, UserPoolARN: testPoolARN, JWTAudiences: []string{"c"}}, "cannot restrict app clients"},
		{Props{TenantClaim: "custom tenant"}, "TenantClaim"},
		{Props{GroupsClaim: "a,b"}, "GroupsClaim"},
		{Props{ThrottleRate: -1}, "ThrottleRate"},
		{Props{ThrottleBurst: -5}, "ThrottleBurst"},
		{Props{RESTLogRole: true}, "RESTLogRole"},
		{Props{Command: FunctionOptions{ReservedConcurrency: -1}}, "Command.ReservedConcurrency"},
		{Props{Query: FunctionOptions{Environment: map[string]string{"AUTH_TENANT_CLAIM": "t"}}}, "Query.Environment AUTH_TENANT_CLAIM"},
		{Props{Command: FunctionOptions{Environment: map[string]string{"AUTH_GROUPS_CLAIM": "g"}}}, "Command.Environment AUTH_GROUPS_CLAIM"},
	} {
		_, err := tc.props.withDefaults()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", tc.props, err, tc.want)
		}
	}
	// NewStack returns the error (no panic, no jsii runtime needed).
	if _, _, err := NewStack(nil, "Signal", nil, &Props{Auth: AuthJWT}); err == nil || !strings.Contains(err.Error(), "JWTIssuer") {
		t.Errorf("NewStack with jwt and no issuer: %v", err)
	}
	for _, ok := range []Props{
		{Auth: AuthJWT, JWTIssuer: iss, JWTAudiences: []string{"a", "b"}},
		{Auth: AuthCognito},
		{Auth: AuthCognito, UserPoolARN: testPoolARN, JWTAudiences: []string{"c"}},
		{Auth: AuthCognito, API: RESTAPI},
		{Auth: AuthCognito, API: RESTAPI, UserPoolARN: "arn:aws-cn:cognito-idp:cn-north-1:123456789012:userpool/cn-north-1_Zz9"},
		{Auth: AuthNone},
		{Auth: AuthIAM, API: RESTAPI, RESTLogRole: true, ThrottleRate: 0.5, ThrottleBurst: 1},
		{TenantClaim: "custom:tenant", GroupsClaim: "cognito:groups", Command: FunctionOptions{ReservedConcurrency: 5}},
	} {
		if _, err := ok.withDefaults(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
}

func TestAuthPropsFromContext(t *testing.T) {
	ctx := map[string]any{
		"auth":          "JWT",
		"jwtIssuer":     "https://auth.example/",
		"jwtAudience":   "shop-api, shop-console",
		"tenantClaim":   "custom:tenant",
		"groupsClaim":   "roles",
		"throttleRate":  "12.5",
		"throttleBurst": "30",
	}
	get := func(k string) (any, bool) { v, ok := ctx[k]; return v, ok }
	p, err := PropsFromContext(get)
	if err != nil {
		t.Fatal(err)
	}
	want := Props{Auth: AuthJWT, JWTIssuer: "https://auth.example/", JWTAudiences: []string{"shop-api", "shop-console"},
		TenantClaim: "custom:tenant", GroupsClaim: "roles", ThrottleRate: 12.5, ThrottleBurst: 30, RemovalPolicy: awscdk.RemovalPolicy_RETAIN}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v\nwant %+v", p, want)
	}
	ctx = map[string]any{"api": "rest", "auth": "cognito", "userPoolArn": testPoolARN, "restLogRole": true}
	if p, err := PropsFromContext(get); err != nil || p.Auth != AuthCognito || p.UserPoolARN != testPoolARN || !p.RESTLogRole {
		t.Errorf("cognito context: %+v, %v", p, err)
	}
	ctx = map[string]any{"auth": "none"}
	if p, err := PropsFromContext(get); err != nil || p.Auth != AuthNone {
		t.Errorf("none context: %+v, %v", p, err)
	}
	for _, bad := range []map[string]any{
		{"auth": "jwt"}, // no issuer
		{"auth": "jwt", "jwtIssuer": "https://a.example/"},
		{"auth": "open"},
		{"throttleRate": "fast"},
		{"throttleBurst": "1.5"},
		{"restLogRole": "please"},
		{"api": "rest", "auth": "jwt", "jwtIssuer": "https://a.example/", "jwtAudience": "x"},
		{"auth": "cognito", "userPoolArn": "pool"},
	} {
		ctx = bad
		if _, err := PropsFromContext(get); err == nil {
			t.Errorf("context %v accepted", bad)
		}
	}
}
