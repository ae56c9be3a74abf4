// The tenanted bank's query function: one line on the public Lambda
// wiring, the caller's tenant taken from the claim AUTH_TENANT_CLAIM names.
package main

import (
	"github.com/signalforgo/signal/e2e/bank"
	"github.com/signalforgo/signal/pkg/lambdafn"
)

func main() { lambdafn.Query(bank.TenantApp()) }
