package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/signalforgo/signal/internal/scaffold"
	"github.com/signalforgo/signal/pkg/cli"
)

const newUsage = `usage: signal new DIR -module PATH [-name NAME] [-replace DIR] [-no-tidy]

Writes a new Signal service into DIR (created, or empty): a domain with one
aggregate, a projection and a policy and their tests, the three Lambda
functions, a CLI, an end-to-end test, a CDK app, a LocalStack set-up, a
Makefile and a README. Then runs go mod tidy in DIR and DIR/infra.

`

// newProject is `signal new`: it generates a project (internal/scaffold)
// and tidies its modules. A missing or extra argument or an unknown flag
// is a usage error (exit 2); an invalid module path or name, a bad
// -replace or a DIR that is not empty is an error saying so (exit 1); both
// write nothing. A failed go mod tidy is an error naming the step (exit
// 1), the files written staying. -h prints new's help and exits 0.
func newProject(_ context.Context, env cli.Env, args []string) error {
	fs := flag.NewFlagSet("signal new", flag.ContinueOnError)
	// Quiet: a flag error is returned once (the kit prints it with the
	// usage), and -h prints new's own help below.
	fs.SetOutput(io.Discard)
	var o scaffold.Options
	fs.StringVar(&o.Module, "module", "", "the module path of the new project, e.g. example.com/bank (required)")
	fs.StringVar(&o.Name, "name", "", "the service's name (default: the module path's last element)")
	fs.StringVar(&o.Replace, "replace", "", "a local checkout of "+scaffold.SignalModule+" to use instead of the published module")
	noTidy := fs.Bool("no-tidy", false, "do not run go mod tidy")
	dirs, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(env.Stdout, newUsage)
		fs.SetOutput(env.Stdout)
		fs.PrintDefaults()
		return nil
	case err != nil:
		return fmt.Errorf("%w: new: %v", cli.ErrUsage, err)
	case len(dirs) != 1:
		return fmt.Errorf("%w: new takes one directory, got %d arguments", cli.ErrUsage, len(dirs))
	}
	dir := dirs[0]
	o.Progress = env.Stdout
	if err := scaffold.Generate(dir, o); err != nil {
		return err
	}
	if !*noTidy {
		if err := scaffold.Tidy(dir, env.Stdout); err != nil {
			return fmt.Errorf("%w (the files are written: fix the cause and run go mod tidy in %s and %s/infra)", err, dir, dir)
		}
	}
	printNext(env.Stdout, dir, *noTidy)
	return nil
}

// parseInterspersed parses flags before and after the positional
// arguments (`new DIR -module M` as well as `new -module M DIR`), which
// the flag package alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func printNext(w io.Writer, dir string, noTidy bool) {
	fmt.Fprintf(w, "\nDone. Next:\n\n  cd %s\n", dir)
	if noTidy {
		fmt.Fprintf(w, "  go mod tidy && (cd infra && go mod tidy)\n")
	}
	fmt.Fprintf(w, "  make test    # the domain's tests, the bootstraps, the stack, Lambda under RIE\n")
	fmt.Fprintf(w, "  make dev     # the API and the console at http://127.0.0.1:8080\n")
	fmt.Fprintf(w, "  make help    # the rest: build, synth, deploy\n")
}
