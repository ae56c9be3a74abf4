// Command signal is the Signal for Go command line.
//
//	signal dev    run the cart example in-process and print what happens
//	signal help   this text
//
// Until the local runtime lands (an HTTP server on an embedded store),
// `signal dev` drives the cart domain through the real Service on the
// in-memory store, with the projections and the order policy dispatched
// in-process, and prints every step.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
)

const usage = `signal — event sourcing for Go on AWS Lambda and DynamoDB

Usage:
  signal dev     run the cart example in-process on the in-memory store and
                 print each command, its events, the views and the pool stats
  signal help    show this text

Environment:
  SIGNAL_LOG_LEVEL   debug, info, warn or error (default warn)
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(os.Getenv("SIGNAL_LOG_LEVEL"))}))
	switch args[0] {
	case "dev":
		if err := dev(ctx, stdout, logger); err != nil {
			fmt.Fprintln(stderr, "signal dev:", err)
			return 1
		}
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "signal: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelWarn
	}
	return l
}
