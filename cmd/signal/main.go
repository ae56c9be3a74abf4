// Command signal is the cart example's command line, on the CLI kit
// pkg/cli: the local runtime (dev, serving the cart page beside the API)
// and the tools around a deployment (events, rebuild, parked, table), plus
// demo, a scripted cart session, and new, which writes a new service of
// your own into a directory (internal/scaffold). Flags and environment are
// in `signal help`.
package main

import (
	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/examples/cart/web"
	"github.com/signalforgo/signal/pkg/cli"
)

func main() { cli.Main(cart.App(), options()...) }

// options are what the cart adds to the kit: the program's name, the cart
// page, the demo command and the project scaffold (new).
func options() []cli.Option {
	return []cli.Option{
		cli.Name("signal"),
		cli.Pages(web.Handler()),
		cli.Command("demo", "run a scripted cart session in memory and print it", demo),
		cli.Command("new", "write a new service into a directory: signal new DIR -module PATH", newProject),
	}
}
