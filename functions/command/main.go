// Command function: POST and DELETE /aggregates/... behind API Gateway
// (HTTP API or REST API) or a function URL. Everything is built once at
// init; the Service's warm pool lives as long as the container.
package main

import (
	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/lambdafn"
)

func main() { lambdafn.Command(cart.App()) }
