package cli_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/signalforgo/signal/internal/testbank"
	"github.com/signalforgo/signal/pkg/cli"
)

// A service's command line with a command of its own, run as its main
// would run it with the arguments "types".
func ExampleRun() {
	types := cli.Command("types", "print the aggregate types", func(ctx context.Context, env cli.Env, args []string) error {
		for _, t := range env.App.Types {
			fmt.Fprintln(env.Stdout, t.Name())
		}
		return nil
	})
	code := cli.Run(context.Background(), testbank.App(), []string{"types"}, os.Stdout, os.Stderr, os.Getenv, types)
	fmt.Println("exit", code)
	// Output:
	// account
	// letter
	// exit 0
}

// The usage text names the program, the app's types and views.
func ExampleName() {
	var out strings.Builder
	cli.Run(context.Background(), testbank.App(), []string{"help"}, &out, os.Stderr, os.Getenv, cli.Name("ledger"))
	for _, line := range strings.Split(out.String(), "\n")[:4] {
		fmt.Println(line)
	}
	// Output:
	// ledger — the bank service's command line (Signal for Go: event sourcing on AWS Lambda and DynamoDB)
	//
	// Aggregate types: account, letter
	// Views:           balances
}
