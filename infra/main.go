// The CDK app of Signal for Go: one stack, "Signal", from package
// signalstack. Context (-c key=value, or cdk.json) selects the variant:
//
//	api=http|rest              API Gateway kind (default http)
//	arch=arm64|amd64           Lambda architecture (default arm64; match `make build ARCH=`)
//	codeDir=../dist            where <function>/bootstrap are (default ../dist)
//	build=true                 build ../functions/* with go at synth instead (no `make build`)
//	deletionProtection=true    DynamoDB deletion protection on both tables
//	removalPolicy=retain|destroy  what deleting the stack does to the tables (default retain)
//	corsOrigins=https://a,https://b  CORS_ALLOW_ORIGINS of the HTTP functions
//	logLevel=debug|info|warn|error   LOG_LEVEL of the functions
//	stackName=Signal           the stack's name (default Signal)
//	auth=iam|jwt|cognito|none  who may call the API (default iam: SigV4 callers;
//	                           none leaves it open and warns at synth)
//	jwtIssuer=https://...      auth=jwt: the token issuer (iss)
//	jwtAudience=a,b            auth=jwt: accepted audiences; auth=cognito with
//	                           userPoolArn on the HTTP API: the pool's client ids
//	userPoolArn=arn:...        auth=cognito: an existing pool (default: one is created)
//	tenantClaim=custom:tenant  AUTH_TENANT_CLAIM of the command and query functions
//	groupsClaim=cognito:groups AUTH_GROUPS_CLAIM of the command and query functions
//	throttleRate=100           stage throttling: requests per second (default 100)
//	throttleBurst=200          stage throttling: burst (default 200)
//	restLogRole=true           api=rest: create the account's API Gateway logging role
//
// The query function serves the cart's page beside the API
// (lambdafn.Pages(web.Handler()) in functions/query): "/" and its assets
// under /ui/ are routed to it. They are public in every auth mode (static
// files, no data); the API routes the page calls are authorized.
//
// With auth=none the stack carries a warning; the CDK CLI prints it, and
// the app prints it itself when run without the CLI (`go run .`).
//
// The stack is environment-agnostic (no account or region in the code), so
// `cdk synth` runs without AWS credentials; `cdk deploy` takes them from
// the usual AWS configuration.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/signalforgo/signal/infra/signalstack"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	get := func(key string) (any, bool) {
		v := app.Node().TryGetContext(jsii.String(key))
		return v, v != nil
	}
	props, err := signalstack.PropsFromContext(get)
	if err != nil {
		fail(err)
	}
	props.PageRoutes = cartPageRoutes
	name := "Signal"
	if v, ok := get("stackName"); ok && fmt.Sprint(v) != "" {
		name = fmt.Sprint(v)
	}
	if _, _, err := signalstack.NewStack(app, name, nil, &props); err != nil {
		fail(err)
	}
	app.Synth(nil)
	// The CDK CLI prints the assembly's warnings itself (and sets
	// CDK_CLI_ASM_VERSION when it runs the app); `go run .` alone would
	// hide them, so the app prints them then.
	if os.Getenv("CDK_CLI_ASM_VERSION") == "" {
		if err := printWarnings(os.Stderr, *app.Outdir()); err != nil {
			fail(err)
		}
	}
}

// cartPageRoutes are the routes of the cart's page (examples/cart/web:
// the page at "/", its assets under web.Prefix).
var cartPageRoutes = []string{"GET /", "GET /ui/{proxy+}"}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	jsii.Close()
	os.Exit(1)
}
