package lambdafn

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/signalforgo/signal/pkg/signal"
)

// Command runs app's command function (POST and DELETE
// /aggregates/...) under the Lambda runtime, wired from the environment
// (FromEnv) with opts. It does not return: it serves until the runtime
// stops the process, and on an init failure it logs one JSON error line
// ("init failed") and exits with status 1.
func Command(app *signal.App, opts ...Option) { run(app, CommandRole, opts) }

// Query runs app's query function (GET /aggregates/..., /views/...,
// /healthz and the Pages option) under the Lambda runtime, as Command
// does. It does not return.
func Query(app *signal.App, opts ...Option) { run(app, QueryRole, opts) }

// Projector runs app's stream projector (the events table's stream, with
// partial batch failures) under the Lambda runtime, as Command does, with
// the app's subscribers. It does not return.
func Projector(app *signal.App, opts ...Option) { run(app, ProjectorRole, opts) }

func run(app *signal.App, role Role, opts []Option) {
	handler, err := build(context.Background(), app, role, os.Getenv, opts)
	if err != nil {
		initFailed(role, err, opts)
	}
	lambda.Start(handler)
}

// build wires the function and returns the handler lambda.Start takes.
func build(ctx context.Context, app *signal.App, role Role, getenv func(string) string, opts []Option) (any, error) {
	s, err := FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	f, err := New(ctx, app, s, role, opts...)
	if err != nil {
		return nil, err
	}
	if role == ProjectorRole {
		h, err := f.StreamHandler()
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	}
	h, err := f.HTTPHandler()
	if err != nil {
		return nil, err
	}
	return h.Lambda, nil
}

// initFailed logs err and ends the process: a function that cannot wire
// itself must fail its init, visibly, not answer wrongly. The line goes
// to the Logger option's logger when one was given, else as JSON to the
// Output option's writer, else to stderr.
func initFailed(role Role, err error, opts []Option) {
	o, _ := collect(opts) // the valid options before a bad one still apply
	logger := o.logger
	if logger == nil {
		out := o.out
		if out == nil {
			out = os.Stderr
		}
		logger = slog.New(slog.NewJSONHandler(out, nil))
	}
	logger.Error("init failed", "function", role.String(), "error", err.Error())
	os.Exit(1)
}
