package signalstack

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// APIKind selects the API Gateway flavour in front of the command and
// query functions. The functions serve both (pkg/httpapi reads payload
// 1.0 and 2.0), so switching is a redeploy, not a code change.
type APIKind string

const (
	// HTTPAPI is an API Gateway HTTP API (payload format 2.0): cheaper and
	// faster than a REST API. The default.
	HTTPAPI APIKind = "http"
	// RESTAPI is an API Gateway REST API (regional endpoint, Lambda proxy
	// integrations, payload 1.0), for what HTTP APIs lack (usage plans,
	// API keys, WAF, request validation).
	RESTAPI APIKind = "rest"
)

// TableCapacity switches both tables from on-demand to provisioned
// capacity with these units (no auto scaling).
type TableCapacity struct {
	ReadUnits, WriteUnits int
}

// Props configure the Signal construct. The zero value is a working
// configuration: every zero field takes the default named on it.
type Props struct {
	// Arch is the Lambda architecture: "arm64" (default) or "amd64"
	// ("x86_64" is accepted too). It must match `make build ARCH=...`.
	Arch string
	// CodeDir holds prebuilt <function>/bootstrap for command, query and
	// projector, as `make build` writes them. Default "../dist" (relative
	// to infra/, where the CDK CLI runs the app) unless Build is set; set
	// at most one of the two. A missing bootstrap is an error of New.
	CodeDir string
	// Build, when set, builds the three functions from the user's module
	// at synth (see GoBuild) instead of reading CodeDir. Default nil.
	Build *GoBuild
	// API is the API Gateway kind: HTTPAPI (default) or RESTAPI.
	API APIKind

	// Command default: 256 MB, 10 s. Query default: 256 MB, 10 s.
	// Projector default: 512 MB, 60 s (it runs projections and policies
	// for up to BatchSize commits, reading gaps from the table). Names,
	// descriptions and extra environment: see FunctionOptions.
	Command, Query, Projector FunctionOptions
	// PageRoutes are extra routes to the query function, for pages it
	// serves beside the API (lambdafn.Pages, lambdafn.Console): route
	// keys "GET /", "GET /ui/{proxy+}", "GET /console/{proxy+}". Methods
	// GET or HEAD; a path of segments, where {name} matches one segment
	// and a last {name+} the rest. On the REST API each is a method on
	// its resource. They take no preflight (pages are not cross-origin
	// requests). Default none: only the API's routes.
	PageRoutes []string

	// Auth is who may call the API: AuthIAM (default: SigV4 callers with
	// execute-api:Invoke), AuthJWT, AuthCognito, or AuthNone (open; only
	// when set, and the stack then carries a synth warning). It applies
	// to every API route; page routes and CORS preflights stay public.
	// A field that does not fit the mode or the API kind is an error.
	Auth AuthMode
	// JWTIssuer is the https URL of the token issuer (the iss claim),
	// required with AuthJWT and refused otherwise.
	JWTIssuer string
	// JWTAudiences: with AuthJWT the accepted audiences (at least one);
	// with AuthCognito and a given UserPoolARN on the HTTP API the pool's
	// app client ids (at least one). Refused in every other case.
	JWTAudiences []string
	// UserPoolARN: with AuthCognito, an existing user pool
	// (arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>).
	// Default empty: the stack creates a pool and an app client.
	UserPoolARN string
	// TenantClaim and GroupsClaim name the claims the command and query
	// functions read the principal's tenant and groups from (passed as
	// AUTH_TENANT_CLAIM and AUTH_GROUPS_CLAIM). Default empty: the
	// variables are unset and the functions use their own defaults (no
	// tenant; groups from cognito:groups). An App with Tenancy needs
	// TenantClaim: lambdafn refuses to start its HTTP functions without.
	TenantClaim, GroupsClaim string

	// ThrottleRate is the stage's steady request rate per second, every
	// route together on the HTTP API and each method on the REST API.
	// Default DefaultThrottleRate. ThrottleBurst is how many requests may
	// arrive at once above it. Default DefaultThrottleBurst. Zero takes
	// the default (API Gateway's account limits cap both); negative is an
	// error.
	ThrottleRate  float64
	ThrottleBurst int
	// AccessLogRetention of the API's access log group (one JSON line per
	// request: request id, caller, route, status, latency, errors).
	// Default one month.
	AccessLogRetention awslogs.RetentionDays
	// RESTLogRole, with the REST API, creates the account's API Gateway
	// CloudWatch role (AWS::ApiGateway::Account), without which a REST
	// API cannot write access logs and the deploy fails. It is one
	// setting per account and region, shared by every REST API there:
	// leave it off where the account already has one. Default off.
	RESTLogRole bool

	// LogRetention of each function's log group. Default one month.
	LogRetention awslogs.RetentionDays
	// LogLevel is passed as LOG_LEVEL (debug, info, warn, error). Default
	// empty: the functions log at info.
	LogLevel string
	// CORSOrigins are passed to the HTTP functions as CORS_ALLOW_ORIGINS
	// ("*" allowed). Default none: no CORS headers. When set, OPTIONS
	// requests (preflights) are routed to the command function, whose
	// answer allows every method of the API.
	CORSOrigins []string

	// DeletionProtection turns on DynamoDB deletion protection on both
	// tables. Default off.
	DeletionProtection bool
	// RemovalPolicy of both tables when they leave the stack. Default
	// RETAIN: deleting the stack keeps the events. Use DESTROY only for
	// throw-away stacks.
	RemovalPolicy awscdk.RemovalPolicy
	// Capacity, when set, makes both tables provisioned. Default nil:
	// on-demand (PAY_PER_REQUEST), as dynstore.EventsTableInput declares.
	Capacity *TableCapacity

	// BatchSize of the projector's stream mapping: at most this many
	// records per invocation. Default 100 (1 to 10000).
	BatchSize int
	// MaxBatchingWindow: how long Lambda gathers records before invoking.
	// Default 1 s (at most 300 s).
	MaxBatchingWindow time.Duration
	// RetryAttempts of a failed batch (after bisecting) before its
	// record goes to the dead-letter queue. Default 5 (1 to 10000).
	RetryAttempts int
	// MaxRecordAge: older records are not retried but sent to the
	// dead-letter queue. Default 24 h, the stream's retention (60 s to 7 days).
	MaxRecordAge time.Duration
	// DeadLetterRetention: how long failure records stay in the queue.
	// Default 14 days, SQS's maximum.
	DeadLetterRetention time.Duration

	// IteratorAgeThreshold: the projector alarm fires when the age of the
	// newest record it read (IteratorAge, Maximum) stays above this for
	// 5 minutes. Default 60 s.
	IteratorAgeThreshold time.Duration
	// AlarmActions run when any alarm fires (e.g. an SNS topic action).
	// Default none.
	AlarmActions []awscloudwatch.IAlarmAction
}

// Defaults of Props, exported for documentation and tests.
const (
	DefaultArch                 = "arm64"
	DefaultCodeDir              = "../dist"
	DefaultHTTPMemoryMB         = 256
	DefaultHTTPTimeout          = 10 * time.Second
	DefaultProjectorMemoryMB    = 512
	DefaultProjectorTimeout     = 60 * time.Second
	DefaultBatchSize            = 100
	DefaultMaxBatchingWindow    = time.Second
	DefaultRetryAttempts        = 5
	DefaultMaxRecordAge         = 24 * time.Hour
	DefaultDeadLetterRetention  = 14 * 24 * time.Hour
	DefaultIteratorAgeThreshold = 60 * time.Second
	DefaultThrottleRate         = 100
	DefaultThrottleBurst        = 200
)

// DefaultLogRetention is the retention of the functions' log groups and
// of the access log group.
const DefaultLogRetention = awslogs.RetentionDays_ONE_MONTH

// withDefaults returns a copy of p with the defaults filled in, or an
// error naming every invalid field. It needs no jsii runtime.
func (p *Props) withDefaults() (Props, error) {
	var out Props
	if p != nil {
		out = *p
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	switch out.Arch {
	case "":
		out.Arch = DefaultArch
	case "arm64", "amd64":
	case "x86_64":
		out.Arch = "amd64"
	default:
		bad("Arch %q: want arm64 or amd64", out.Arch)
	}
	switch {
	case out.Build != nil && out.CodeDir != "":
		bad("CodeDir %q and Build: set one (prebuilt bootstraps, or a build at synth)", out.CodeDir)
	case out.Build == nil && out.CodeDir == "":
		out.CodeDir = DefaultCodeDir
	}
	switch out.API {
	case "":
		out.API = HTTPAPI
	case HTTPAPI, RESTAPI:
	default:
		bad("API %q: want http or rest", out.API)
	}
	out.Command.withDefaults("Command", DefaultHTTPMemoryMB, DefaultHTTPTimeout, bad)
	out.Query.withDefaults("Query", DefaultHTTPMemoryMB, DefaultHTTPTimeout, bad)
	out.Projector.withDefaults("Projector", DefaultProjectorMemoryMB, DefaultProjectorTimeout, bad)
	uniqueNames(map[string]string{"Command": out.Command.Name, "Query": out.Query.Name, "Projector": out.Projector.Name}, bad)
	checkPageRoutes(out.PageRoutes, bad)
	checkAuth(&out, bad)
	checkStage(&out, bad)
	if out.LogRetention == "" {
		out.LogRetention = DefaultLogRetention
	}
	switch strings.ToLower(out.LogLevel) {
	case "", "debug", "info", "warn", "error":
	default:
		bad("LogLevel %q: want debug, info, warn or error", out.LogLevel)
	}
	for _, o := range out.CORSOrigins {
		if o == "*" {
			continue
		}
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || strings.ContainsAny(o, " ,") {
			bad("CORSOrigins %q: want an origin like https://shop.example, or *", o)
		}
	}
	if out.RemovalPolicy == "" {
		out.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	if c := out.Capacity; c != nil && (c.ReadUnits < 1 || c.WriteUnits < 1) {
		bad("Capacity %d/%d: want at least 1 read and 1 write unit", c.ReadUnits, c.WriteUnits)
	}
	if out.BatchSize == 0 {
		out.BatchSize = DefaultBatchSize
	}
	if out.BatchSize < 1 || out.BatchSize > 10000 {
		bad("BatchSize %d: want 1 to 10000", out.BatchSize)
	}
	if out.MaxBatchingWindow == 0 {
		out.MaxBatchingWindow = DefaultMaxBatchingWindow
	}
	if out.MaxBatchingWindow < 0 || out.MaxBatchingWindow > 300*time.Second || out.MaxBatchingWindow%time.Second != 0 {
		bad("MaxBatchingWindow %v: want whole seconds up to 300 s", out.MaxBatchingWindow)
	}
	if out.RetryAttempts == 0 {
		out.RetryAttempts = DefaultRetryAttempts
	}
	if out.RetryAttempts < 1 || out.RetryAttempts > 10000 {
		bad("RetryAttempts %d: want 1 to 10000 (retries must be bounded)", out.RetryAttempts)
	}
	if out.MaxRecordAge == 0 {
		out.MaxRecordAge = DefaultMaxRecordAge
	}
	if out.MaxRecordAge < time.Minute || out.MaxRecordAge > 7*24*time.Hour || out.MaxRecordAge%time.Second != 0 {
		bad("MaxRecordAge %v: want whole seconds from 60 s to 7 days", out.MaxRecordAge)
	}
	if out.DeadLetterRetention == 0 {
		out.DeadLetterRetention = DefaultDeadLetterRetention
	}
	if out.DeadLetterRetention < time.Minute || out.DeadLetterRetention > 14*24*time.Hour || out.DeadLetterRetention%time.Second != 0 {
		bad("DeadLetterRetention %v: want whole seconds from 60 s to 14 days", out.DeadLetterRetention)
	}
	if out.IteratorAgeThreshold == 0 {
		out.IteratorAgeThreshold = DefaultIteratorAgeThreshold
	}
	if out.IteratorAgeThreshold < 0 {
		bad("IteratorAgeThreshold %v: want a positive duration", out.IteratorAgeThreshold)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("signalstack: invalid props: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// Context keys PropsFromContext reads (`cdk synth -c api=rest`).
const (
	ContextAPI                = "api"                // http (default) or rest
	ContextArch               = "arch"               // arm64 (default) or amd64
	ContextCodeDir            = "codeDir"            // default ../dist
	ContextBuild              = "build"              // true: Build = &GoBuild{} (../functions/* built at synth)
	ContextDeletionProtection = "deletionProtection" // true or false (default)
	ContextRemovalPolicy      = "removalPolicy"      // retain (default) or destroy
	ContextCORSOrigins        = "corsOrigins"        // comma-separated
	ContextLogLevel           = "logLevel"           // debug, info, warn, error
	ContextAuth               = "auth"               // iam (default), jwt, cognito, none
	ContextJWTIssuer          = "jwtIssuer"          // https URL (auth=jwt)
	ContextJWTAudience        = "jwtAudience"        // comma-separated audiences or app client ids
	ContextUserPoolARN        = "userPoolArn"        // an existing pool (auth=cognito)
	ContextTenantClaim        = "tenantClaim"        // AUTH_TENANT_CLAIM
	ContextGroupsClaim        = "groupsClaim"        // AUTH_GROUPS_CLAIM
	ContextThrottleRate       = "throttleRate"       // requests per second (default 100)
	ContextThrottleBurst      = "throttleBurst"      // burst (default 200)
	ContextRESTLogRole        = "restLogRole"        // true: create the account's API Gateway logging role
)

// PropsFromContext builds Props from CDK context values; get returns a
// key's value and whether it is set (app.Node().TryGetContext). Values
// given with -c are strings; cdk.json may hold booleans.
func PropsFromContext(get func(key string) (any, bool)) (Props, error) {
	str := func(key string) string {
		v, ok := get(key)
		if !ok || v == nil {
			return ""
		}
		return strings.TrimSpace(fmt.Sprint(v))
	}
	var p Props
	p.API = APIKind(strings.ToLower(str(ContextAPI)))
	p.Arch = strings.ToLower(str(ContextArch))
	p.CodeDir = str(ContextCodeDir)
	p.LogLevel = str(ContextLogLevel)
	if s := str(ContextBuild); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return p, fmt.Errorf("signalstack: context %s=%q: want true or false", ContextBuild, s)
		}
		if b {
			p.Build = &GoBuild{}
		}
	}
	if s := str(ContextDeletionProtection); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return p, fmt.Errorf("signalstack: context %s=%q: want true or false", ContextDeletionProtection, s)
		}
		p.DeletionProtection = b
	}
	switch s := strings.ToLower(str(ContextRemovalPolicy)); s {
	case "", "retain":
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	case "destroy":
		p.RemovalPolicy = awscdk.RemovalPolicy_DESTROY
	default:
		return p, fmt.Errorf("signalstack: context %s=%q: want retain or destroy", ContextRemovalPolicy, s)
	}
	p.CORSOrigins = list(str(ContextCORSOrigins))
	if err := apiFromContext(str, &p); err != nil {
		return p, err
	}
	_, err := p.withDefaults()
	return p, err
}

// apiFromContext reads the auth and stage keys into p.
func apiFromContext(str func(string) string, p *Props) error {
	p.Auth = AuthMode(strings.ToLower(str(ContextAuth)))
	p.JWTIssuer = str(ContextJWTIssuer)
	p.JWTAudiences = list(str(ContextJWTAudience))
	p.UserPoolARN = str(ContextUserPoolARN)
	p.TenantClaim = str(ContextTenantClaim)
	p.GroupsClaim = str(ContextGroupsClaim)
	if s := str(ContextThrottleRate); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("signalstack: context %s=%q: want requests per second", ContextThrottleRate, s)
		}
		p.ThrottleRate = v
	}
	if s := str(ContextThrottleBurst); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("signalstack: context %s=%q: want a whole number of requests", ContextThrottleBurst, s)
		}
		p.ThrottleBurst = v
	}
	if s := str(ContextRESTLogRole); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("signalstack: context %s=%q: want true or false", ContextRESTLogRole, s)
		}
		p.RESTLogRole = b
	}
	return nil
}

// list splits a comma-separated context value, dropping empty items.
func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
