// The CDK app of the shop: Signal's stack with the shop's own functions,
// built from ../functions/{command,query,projector} at synth.
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
	_, _, err := signalstack.NewStack(app, "Shop", nil, &signalstack.Props{
		Build: &signalstack.GoBuild{}, // go build ../functions/{command,query,projector}
		Query: signalstack.FunctionOptions{Environment: map[string]string{"SHOP_CURRENCY": "EUR"}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
}
