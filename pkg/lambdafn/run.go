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
func Command(app *signal.App, opts ...Option) { runHTTP(app, CommandRole, opts) }

// Query runs app's query function (GET /aggregates/..., /views/...,
// /healthz and the Pages option) under the Lambda runtime, as Command
// does. It does not return.
func Query(app *signal.App, opts ...Option) { runHTTP(app, QueryRole, opts) }

// Projector runs app's stream projector (the events table's stream, with
// partial batch failures) under the Lambda runtime, as Command does, with
// the app's subscribers. It does not return.
func Projector(app *signal.App, opts ...Option) { runStream(app, opts) }

// runHTTP and runStream start only the adapter their role serves, so
// the other's code is not linked into the binary.
func runHTTP(app *signal.App, role Role, opts []Option) {
	h, err := wire(app, role, opts).HTTPHandler()
	if err != nil {
		initFailed(role, err, opts)
	}
	lambda.Start(h.Lambda)
}

func runStream(app *signal.App, opts []Option) {
	h, err := wire(app, ProjectorRole, opts).StreamHandler()
	if err != nil {
		initFailed(ProjectorRole, err, opts)
	}
	lambda.Start(h.Handle)
}

// wire builds the Function from the environment, or ends the process.
func wire(app *signal.App, role Role, opts []Option) *Function {
	s, err := FromEnv(os.Getenv)
	if err == nil {
		var f *Function
		if f, err = New(context.Background(), app, s, role, opts...); err == nil {
			return f
		}
	}
	initFailed(role, err, opts)
	return nil // not reached: initFailed exits
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
