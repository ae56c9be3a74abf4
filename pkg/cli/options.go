package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"

	"github.com/signalforgo/signal/pkg/signal"
)

// ErrUsage marks a command line problem. An error wrapping it, from a
// built-in command or one added with Command, makes Run print the error
// and the usage text to stderr and return 2.
var ErrUsage = errors.New("usage")

// errUsage is ErrUsage under the name the built-in commands use.
var errUsage = ErrUsage

// An Option changes what Run serves or offers. Options are checked when
// Run starts: an invalid one (an empty name, a nil handler, a command
// whose name is taken) makes Run print the problem and return 1.
type Option func(*options) error

type options struct {
	name     string
	pages    http.Handler
	commands []command
}

// command is a subcommand added with Command.
type command struct {
	name, summary string
	run           func(ctx context.Context, env Env, args []string) error
}

// Env is what a command added with Command gets to work with.
type Env struct {
	// App is the app handed to Run.
	App *signal.App
	// Name is the program's name, as in the usage text.
	Name string
	// Stdout and Stderr are Run's writers.
	Stdout, Stderr io.Writer
	// Getenv is Run's environment lookup.
	Getenv func(string) string
	// Logger logs to Stderr at the level SIGNAL_LOG_LEVEL sets (default
	// warn).
	Logger *slog.Logger
}

// builtins are the names of the kit's own commands, which Command may not
// take.
var builtins = []string{"dev", "events", "rebuild", "parked", "table", "help"}

// Name sets the program's name in the usage text and the messages
// (default the app's Name). A name signal.ValidateName refuses (empty,
// with a space or a slash) is an error.
func Name(name string) Option {
	return func(o *options) error {
		if err := signal.ValidateName(name); err != nil {
			return fmt.Errorf("cli.Name: %w", err)
		}
		o.name = name
		return nil
	}
}

// Pages makes dev serve h beside the API: h answers the GET and HEAD
// requests no API route matches (your web page and its assets; see
// httpapi.Config.Pages). Without it dev serves the API alone. A nil
// handler is an error.
func Pages(h http.Handler) Option {
	return func(o *options) error {
		if h == nil {
			return errors.New("cli.Pages: nil handler")
		}
		o.pages = h
		return nil
	}
}

// Command adds the subcommand name, listed in the usage text with
// summary. `<program> name args...` calls run with the arguments after
// the name; run parses them itself. A nil error exits 0, one wrapping
// ErrUsage exits 2 with the usage text, any other 1 with the error. An
// invalid name (see signal.ValidateName), one of the built-in commands
// (dev, events, rebuild, parked, table, help) or one added twice, or a
// nil run, is an error.
func Command(name, summary string, run func(ctx context.Context, env Env, args []string) error) Option {
	return func(o *options) error {
		switch {
		case signal.ValidateName(name) != nil:
			return fmt.Errorf("cli.Command %q: %w", name, signal.ValidateName(name))
		case slices.Contains(builtins, name) || o.command(name) != nil:
			return fmt.Errorf("cli.Command %q: the name is taken", name)
		case run == nil:
			return fmt.Errorf("cli.Command %q: nil run", name)
		}
		o.commands = append(o.commands, command{name: name, summary: summary, run: run})
		return nil
	}
}

// command returns the added command name, or nil.
func (o *options) command(name string) *command {
	for i := range o.commands {
		if o.commands[i].name == name {
			return &o.commands[i]
		}
	}
	return nil
}

// newOptions applies opts over the defaults for app.
func newOptions(app *signal.App, opts []Option) (*options, error) {
	o := &options{name: app.Name}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("cli: nil Option")
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}
