// The tenanted bank's projector function: one line on the public Lambda
// wiring; each balances document stays in the tenant of its event.
package main

import (
	"github.com/signalforgo/signal/e2e/bank"
	"github.com/signalforgo/signal/pkg/lambdafn"
)

func main() { lambdafn.Projector(bank.TenantApp()) }
