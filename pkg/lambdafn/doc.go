// Package lambdafn runs a signal.App as the three AWS Lambda functions of a
// Signal service. Each function's main is one line:
//
//	func main() { lambdafn.Command(shop.App()) }                       // POST, DELETE /aggregates/...
//	func main() { lambdafn.Query(shop.App(), lambdafn.Pages(page)) }   // GET routes, /healthz, your pages
//	func main() { lambdafn.Projector(shop.App()) }                     // the events table's stream
//
// At init each one reads its Settings from the environment (FromEnv:
// EVENTS_TABLE and VIEWS_TABLE are required; LOG_LEVEL,
// CORS_ALLOW_ORIGINS, AWS_LAMBDA_FUNCTION_NAME, DEAD_LETTER_QUEUE_URL,
// AUTH_TENANT_CLAIM and AUTH_GROUPS_CLAIM are optional), loads one AWS configuration through the SDK's standard
// chain (so AWS_ENDPOINT_URL points it at moto_server or LocalStack),
// builds the DynamoDB client with dynstore.ClientOptions, the store and
// the Service with its pool, then hands the handler to the Lambda
// runtime. Everything is built once per container, so the pool stays warm
// between requests. Only the projector runs the app's subscribers.
//
// Logs are JSON (log/slog) on stdout (the Output and Logger options change
// that): the HTTP functions write one line
// per request with request_id and cold_start; the projector one per batch,
// and every line it logs while handling an invocation carries request_id.
// Metrics are CloudWatch Embedded Metric Format lines (package emf) in
// namespace "Signal" (MetricNamespace changes it) with the dimension Function: per request Requests,
// Latency, Commands, ServerErrors and the pool's PoolHits, PoolMisses,
// Conflicts and Retries; per batch Records, Commits, FailedRecords,
// ProjectorLag and BatchDuration.
//
// The command and query functions take the caller of each request (a
// signal.Principal, which the App's Authorize rule decides on and whose
// subject each commit records as its actor) from what API Gateway or the
// function URL verified and wrote into the event: a JWT, Cognito, IAM or
// Lambda authorizer's context (package httpapi, Config.Auth). They trust
// it and never read or verify a token themselves, so a route must have
// its authorizer on the gateway: a request without one is anonymous.
// AUTH_TENANT_CLAIM names the claim of the caller's tenant ("custom:tenant";
// none by default), AUTH_GROUPS_CLAIM that of its groups (default
// "cognito:groups").
//
// A function that cannot wire itself (a missing variable, an invalid App,
// a bad option) logs one JSON error line, "init failed", to stderr (or
// the Logger or Output option's), and exits with
// status 1, so the failure shows in the function's logs and Lambda reports
// an init error rather than a function that answers wrongly.
//
// Options change what differs per service: MetricNamespace, Pages,
// Logger, Output, AWSConfig, ServiceConfig and HTTPConfig. Tests and
// advanced users build the same parts without the runtime: New returns a
// Function whose HTTPHandler and StreamHandler are what Command, Query
// and Projector start.
package lambdafn
