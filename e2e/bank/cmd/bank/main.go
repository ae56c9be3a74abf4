// Command bank is the bank service's command line, as a user writes it:
// one line on the public CLI kit. `bank dev` serves the API and the
// console on an embedded store with the balances projection in-process;
// `bank help` lists the rest.
package main

import (
	"github.com/signalforgo/signal/e2e/bank"
	"github.com/signalforgo/signal/pkg/cli"
)

func main() { cli.Main(bank.App()) }
