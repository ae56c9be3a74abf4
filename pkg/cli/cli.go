package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	ossignal "os/signal"
	"syscall"

	"github.com/signalforgo/signal/pkg/signal"
)

// Main runs the command line of os.Args for app and exits with Run's
// status. An interrupt or SIGTERM cancels the running command (dev then
// shuts down cleanly and exits 0).
func Main(app *signal.App, opts ...Option) {
	ctx, stop := ossignal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, app, os.Args[1:], os.Stdout, os.Stderr, os.Getenv, opts...)
	stop()
	os.Exit(code)
}

// Run runs one command line (args without the program name) for app,
// writing to stdout and stderr and reading its environment through
// getenv, and returns the exit status: 0 on success (help included), 2 on
// a command line problem (no or an unknown command, a bad flag, a wrong
// number of arguments, an unknown aggregate type or view, conflicting
// store flags), with the message and the usage text on stderr, 1 on any
// other failure (an invalid app or option, a store that cannot be
// opened, a failed replay), with the message on stderr. dev runs until
// ctx ends.
func Run(ctx context.Context, app *signal.App, args []string, stdout, stderr io.Writer, getenv func(string) string, opts ...Option) int {
	if err := app.Validate(); err != nil {
		fmt.Fprintf(stderr, "cli: %v\n", err)
		return 1
	}
	o, err := newOptions(app, opts)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", app.Name, err)
		return 1
	}
	k := &kit{app: app, o: o, stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, k.usage())
		return 2
	}
	k.logger = newLogger(args[0], stderr, getenv)
	switch err := k.run(ctx, args); {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		fmt.Fprint(stdout, k.usage())
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "%s: %v\n\n%s", o.name, err, k.usage())
		return 2
	default:
		fmt.Fprintf(stderr, "%s %s: %v\n", o.name, args[0], err)
		return 1
	}
}

// kit is one Run: the app, the options and the process's outside.
type kit struct {
	app            *signal.App
	o              *options
	stdout, stderr io.Writer
	getenv         func(string) string
	logger         *slog.Logger
}

// newLogger logs to stderr, at info for dev (it reports what it serves)
// and warn otherwise, or at SIGNAL_LOG_LEVEL.
func newLogger(cmd string, stderr io.Writer, getenv func(string) string) *slog.Logger {
	level := slog.LevelWarn
	if cmd == "dev" {
		level = slog.LevelInfo
	}
	if s := getenv("SIGNAL_LOG_LEVEL"); s != "" {
		_ = level.UnmarshalText([]byte(s))
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// run dispatches args to their command.
func (k *kit) run(ctx context.Context, args []string) error {
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(k.stdout, k.usage())
		return nil
	case "dev":
		return k.devCommand(ctx, args[1:])
	case "events":
		var o storeOptions
		fs := storeFlags(args[0], &o, k.getenv)
		if err := parse(fs, args[1:], 2); err != nil {
			return err
		}
		return k.printEvents(ctx, o, fs.Arg(0), fs.Arg(1))
	case "rebuild":
		var o storeOptions
		fs := storeFlags(args[0], &o, k.getenv)
		if err := parse(fs, args[1:], 1); err != nil {
			return err
		}
		return k.rebuild(ctx, o, fs.Arg(0))
	case "parked":
		return k.parkedCommand(ctx, args[1:])
	case "table":
		var o storeOptions
		fs := storeFlags("table create", &o, k.getenv)
		if len(args) < 2 || args[1] != "create" {
			return fmt.Errorf("%w: %s table create [flags]", errUsage, k.o.name)
		}
		if err := parse(fs, args[2:], 0); err != nil {
			return err
		}
		return createTables(ctx, o, k.stdout)
	}
	if c := k.o.command(args[0]); c != nil {
		env := Env{App: k.app, Name: k.o.name, Stdout: k.stdout, Stderr: k.stderr, Getenv: k.getenv, Logger: k.logger}
		return c.run(ctx, env, args[1:])
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

// devCommand parses dev's flags and runs it.
func (k *kit) devCommand(ctx context.Context, args []string) error {
	var o devOptions
	fs := storeFlags("dev", &o.store, k.getenv)
	fs.StringVar(&o.addr, "addr", or(k.getenv("SIGNAL_ADDR"), "127.0.0.1:8080"), "listen address")
	fs.Var((*listFlag)(&o.allowHosts), "allow-host", "host name to answer for (repeatable)")
	fs.Var((*originsFlag)(&o.allowOrigins), "allow-origin", "origin whose pages may call the API (repeatable)")
	fs.BoolVar(&o.insecureDevAuth, "insecure-dev-auth", false, "INSECURE: take the caller from the X-Signal-Insecure-Principal header")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	return k.dev(ctx, o)
}

// parkedCommand runs `parked` or `parked replay`.
func (k *kit) parkedCommand(ctx context.Context, args []string) error {
	var o storeOptions
	if len(args) > 0 && args[0] == "replay" {
		fs := storeFlags("parked replay", &o, k.getenv)
		if err := k.parseReplay(fs, args[1:]); err != nil {
			return err
		}
		return k.replayParked(ctx, o, fs.Args())
	}
	fs := storeFlags("parked", &o, k.getenv)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	return k.listParked(ctx, o)
}
