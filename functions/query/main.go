// Query function: GET /aggregates/..., /views/... and /healthz behind API
// Gateway (HTTP API or REST API) or a function URL, and the cart's page
// beside them. Its pool keeps aggregates warm; reads catch up with one
// Query of only the newer commits.
package main

import (
	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/examples/cart/web"
	"github.com/signalforgo/signal/pkg/lambdafn"
)

func main() { lambdafn.Query(cart.App(), lambdafn.Pages(web.Handler())) }
