// The bank's projector function, as a user writes it: one line on the public
// Lambda wiring.
package main

import (
	"github.com/signalforgo/signal/e2e/bank"
	"github.com/signalforgo/signal/pkg/lambdafn"
)

func main() { lambdafn.Projector(bank.App()) }
