package signalstack

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// FunctionOptions set one function. Zero fields take the defaults.
type FunctionOptions struct {
	// MemoryMB: the memory size, 128 to 10240. CPU scales with it.
	MemoryMB int
	// Timeout: at most 15 minutes; API Gateway stops waiting at 29 s (REST)
	// or 30 s (HTTP) whatever this says.
	Timeout time.Duration
	// Name is the function's name (FunctionName): letters, digits, - and _,
	// at most 64 characters, unique in the account and region. Default
	// empty: CloudFormation generates one from the stack and construct
	// ids, which lets two stacks of the app coexist.
	Name string
	// Description of the function. Default "Signal <function>"
	// ("Signal command"), at most 256 characters.
	Description string
	// Environment holds extra variables for the function (your app's own
	// settings). The construct's own variables (EVENTS_TABLE, VIEWS_TABLE,
	// LOG_LEVEL, CORS_ALLOW_ORIGINS, DEAD_LETTER_QUEUE_URL,
	// AUTH_TENANT_CLAIM, AUTH_GROUPS_CLAIM) and the ones
	// Lambda reserves (AWS_REGION, _HANDLER, …) are refused: set LogLevel,
	// CORSOrigins, TenantClaim and GroupsClaim instead. Default none.
	Environment map[string]string
	// ReservedConcurrency, when positive, reserves that many concurrent
	// executions for the function, which are also its maximum: a burst
	// beyond it is throttled (API Gateway answers 429 for the command and
	// query functions; the stream mapping waits for the projector) instead
	// of taking the account's whole concurrency. Default 0: unreserved.
	// Negative is an error.
	ReservedConcurrency int
}

// constructEnv are the variables New sets: users may not override them,
// since the functions read their tables, queue and settings from them.
var constructEnv = []string{"EVENTS_TABLE", "VIEWS_TABLE", "LOG_LEVEL", "CORS_ALLOW_ORIGINS", "DEAD_LETTER_QUEUE_URL",
	"AUTH_TENANT_CLAIM", "AUTH_GROUPS_CLAIM"}

// lambdaReservedEnv are the keys Lambda refuses to let a function set
// (Lambda developer guide, "Defined runtime environment variables").
var lambdaReservedEnv = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}

var (
	functionNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	envKeyRE       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// withDefaults fills the zero sizes with mem and timeout and reports
// every invalid field through bad, prefixed with the function's field
// name in Props (e.g. "Query.Timeout").
func (o *FunctionOptions) withDefaults(field string, mem int, timeout time.Duration, bad func(string, ...any)) {
	if o.MemoryMB == 0 {
		o.MemoryMB = mem
	}
	if o.Timeout == 0 {
		o.Timeout = timeout
	}
	if o.MemoryMB < 128 || o.MemoryMB > 10240 {
		bad("%s.MemoryMB %d: want 128 to 10240", field, o.MemoryMB)
	}
	if o.Timeout < time.Second || o.Timeout > 15*time.Minute || o.Timeout%time.Second != 0 {
		bad("%s.Timeout %v: want whole seconds from 1 s to 15 min", field, o.Timeout)
	}
	if o.ReservedConcurrency < 0 {
		bad("%s.ReservedConcurrency %d: want 0 (unreserved) or more", field, o.ReservedConcurrency)
	}
	if o.Name != "" && !functionNameRE.MatchString(o.Name) {
		bad("%s.Name %q: want 1 to 64 letters, digits, - or _", field, o.Name)
	}
	if len(o.Description) > 256 {
		bad("%s.Description: %d characters, want at most 256", field, len(o.Description))
	}
	keys := make([]string, 0, len(o.Environment))
	for k := range o.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case slices.Contains(constructEnv, k):
			bad("%s.Environment %s: set by the construct (%s), not overridable", field, k, strings.Join(constructEnv, ", "))
		case slices.Contains(lambdaReservedEnv, k):
			bad("%s.Environment %s: reserved by Lambda", field, k)
		case !envKeyRE.MatchString(k):
			bad("%s.Environment %q: want a letter, then letters, digits or _", field, k)
		}
	}
}

// uniqueNames reports two functions given the same Name: the second
// would fail to deploy.
func uniqueNames(names map[string]string, bad func(string, ...any)) {
	seen := map[string]string{}
	for _, field := range []string{"Command", "Query", "Projector"} {
		n := names[field]
		if n == "" {
			continue
		}
		if other, ok := seen[n]; ok {
			bad("%s.Name %q: also %s.Name; function names must differ", field, n, other)
		}
		seen[n] = field
	}
}

// description is o's description, or the default for function name.
func (o FunctionOptions) description(name string) string {
	if o.Description != "" {
		return o.Description
	}
	return fmt.Sprintf("Signal %s", name)
}
