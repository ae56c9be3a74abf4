// Projector function: triggered by the events table's stream (an event
// source mapping with ReportBatchItemFailures). It runs the cart's
// projections and order policy through the same dispatcher as in-process
// dispatch and reports partial batch failures.
package main

import (
	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/lambdafn"
)

func main() { lambdafn.Projector(cart.App()) }
