// Command signal is the Signal for Go command line: the local runtime and
// the tools around a deployment. Flags and environment are in `signal help`.
//
// main holds the configuration (flags, environment); the rest of the
// package only wires the library's parts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `signal — event sourcing for Go on AWS Lambda and DynamoDB

Usage:
  signal dev [flags]                 serve the HTTP API and the cart page locally, with the
                                     projector and the order policy running in-process
  signal events [flags] <type> <id>  print an aggregate's events, one JSON object a line
  signal rebuild [flags] <view>      drop a view and rebuild it from the full event log
  signal parked [flags]              list subscribers that keep failing on a stream, and
                                     those parked (skipped until replayed)
  signal parked replay [flags] [<subscriber> <type> <id>]
                                     replay one parked subscriber, or every one, once the
                                     cause is fixed
  signal table create [flags]        create the DynamoDB tables (local endpoints)
  signal demo                        run a scripted cart session in memory and print it
  signal help                        this text

Store flags (dev, events, rebuild, parked, table):
  -data DIR              embedded store directory (default ./.signal; env SIGNAL_DATA_DIR)
  -postgres URL          use Postgres instead (env DATABASE_URL; pool settings such as
                         pool_max_conns go in the URL); the schema is created on start
  -dynamodb-endpoint URL use DynamoDB at URL instead (moto_server, LocalStack);
                         env AWS_ENDPOINT_URL. Credentials and region come from the
                         AWS SDK's usual chain (defaults: test/test, us-east-1)
  -events-table NAME     events table (default signal-events; env EVENTS_TABLE)
  -views-table NAME      views table (default signal-views; env VIEWS_TABLE)

dev flags:
  -addr HOST:PORT        listen address (default 127.0.0.1:8080; env SIGNAL_ADDR)
  -allow-host NAME       also answer requests for this host name (repeatable); by
                         default only loopback names and the -addr host are served
  -allow-origin ORIGIN   also accept requests from pages of this origin, e.g.
                         http://localhost:3000 (repeatable); by default only the
                         server's own origin. Commands need
                         Content-Type: application/json

Environment:
  SIGNAL_LOG_LEVEL       debug, info, warn or error (default info for dev, warn otherwise)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// errUsage marks a command line problem (exit status 2).
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	level := slog.LevelWarn
	if args[0] == "dev" {
		level = slog.LevelInfo
	}
	if s := getenv("SIGNAL_LOG_LEVEL"); s != "" {
		_ = level.UnmarshalText([]byte(s))
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var err error
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "demo":
		err = demo(ctx, stdout, logger)
	case "dev":
		var o devOptions
		fs := storeFlags(args[0], &o.store, getenv)
		fs.StringVar(&o.addr, "addr", or(getenv("SIGNAL_ADDR"), "127.0.0.1:8080"), "listen address")
		fs.Var((*listFlag)(&o.allowHosts), "allow-host", "host name to answer for (repeatable)")
		fs.Var((*originsFlag)(&o.allowOrigins), "allow-origin", "origin whose pages may call the API (repeatable)")
		if err = parse(fs, args[1:], 0, stderr); err == nil {
			err = dev(ctx, o, stdout, logger)
		}
	case "events":
		var o storeOptions
		fs := storeFlags(args[0], &o, getenv)
		if err = parse(fs, args[1:], 2, stderr); err == nil {
			err = printEvents(ctx, o, fs.Arg(0), fs.Arg(1), stdout, logger)
		}
	case "rebuild":
		var o storeOptions
		fs := storeFlags(args[0], &o, getenv)
		if err = parse(fs, args[1:], 1, stderr); err == nil {
			err = rebuild(ctx, o, fs.Arg(0), stdout, logger)
		}
	case "parked":
		var o storeOptions
		if len(args) > 1 && args[1] == "replay" {
			fs := storeFlags("parked replay", &o, getenv)
			if err = parseReplay(fs, args[2:], stderr); err == nil {
				err = replayParked(ctx, o, fs.Args(), stdout, logger)
			}
			break
		}
		fs := storeFlags(args[0], &o, getenv)
		if err = parse(fs, args[1:], 0, stderr); err == nil {
			err = listParked(ctx, o, stdout, logger)
		}
	case "table":
		var o storeOptions
		fs := storeFlags("table create", &o, getenv)
		if len(args) < 2 || args[1] != "create" {
			err = fmt.Errorf("%w: signal table create [flags]", errUsage)
		} else if err = parse(fs, args[2:], 0, stderr); err == nil {
			err = createTables(ctx, o, stdout)
		}
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "signal: %v\n\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "signal %s: %v\n", args[0], err)
		return 1
	}
}

// storeFlags declares the flags that choose a store.
func storeFlags(name string, o *storeOptions, getenv func(string) string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&o.dataDir, "data", or(getenv("SIGNAL_DATA_DIR"), ".signal"), "embedded store directory")
	fs.StringVar(&o.postgres, "postgres", getenv("DATABASE_URL"), "Postgres URL")
	fs.StringVar(&o.endpoint, "dynamodb-endpoint", getenv("AWS_ENDPOINT_URL"), "DynamoDB endpoint")
	fs.StringVar(&o.eventsTable, "events-table", or(getenv("EVENTS_TABLE"), "signal-events"), "events table")
	fs.StringVar(&o.viewsTable, "views-table", or(getenv("VIEWS_TABLE"), "signal-views"), "views table")
	return fs
}

func parse(fs *flag.FlagSet, args []string, nargs int, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != nargs {
		return fmt.Errorf("%w: %s takes %d argument(s), got %d", errUsage, fs.Name(), nargs, fs.NArg())
	}
	return nil
}

// parseReplay takes either no argument (replay every parked subscriber)
// or three: subscriber, type, id.
func parseReplay(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if n := fs.NArg(); n != 0 && n != 3 {
		return fmt.Errorf("%w: signal parked replay takes no argument (all) or <subscriber> <type> <id>, got %d", errUsage, n)
	}
	return nil
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	if s == "" {
		return errors.New("empty value")
	}
	*l = append(*l, s)
	return nil
}

// originsFlag is a repeatable flag of web origins: scheme://host[:port].
type originsFlag []string

func (l *originsFlag) String() string { return strings.Join(*l, ",") }

func (l *originsFlag) Set(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an origin such as http://localhost:3000 (there is no wildcard)", s)
	}
	*l = append(*l, s)
	return nil
}
