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
//
// The query function serves the cart's page beside the API
// (lambdafn.Pages(web.Handler()) in functions/query): "/" and its assets
// under /ui/ are routed to it.
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
}

// cartPageRoutes are the routes of the cart's page (examples/cart/web:
// the page at "/", its assets under web.Prefix).
var cartPageRoutes = []string{"GET /", "GET /ui/{proxy+}"}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	jsii.Close()
	os.Exit(1)
}
