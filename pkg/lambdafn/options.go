package lambdafn

import (
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/signalforgo/signal/pkg/httpapi"
	"github.com/signalforgo/signal/pkg/signal"
)

// DefaultNamespace is the CloudWatch namespace of the metrics when no
// MetricNamespace option is given.
const DefaultNamespace = "Signal"

// An Option changes what a function wires. Options are checked by New:
// an invalid one (an empty namespace, a nil value) is an init failure.
// One list of options may be shared by the three functions; each takes
// what applies to it.
type Option func(*options) error

type options struct {
	namespace string
	pages     http.Handler
	console   bool
	logger    *slog.Logger
	out       io.Writer
	aws       *aws.Config
	service   []func(*signal.Config)
	http      []func(*httpapi.Config)
}

// MetricNamespace sets the CloudWatch namespace of the EMF metrics
// (default DefaultNamespace). An empty namespace is an error.
func MetricNamespace(ns string) Option {
	return func(o *options) error {
		if ns == "" {
			return errors.New("lambdafn.MetricNamespace: empty namespace")
		}
		o.namespace = ns
		return nil
	}
}

// Pages adds h to the query function: it answers the GET and HEAD
// requests no API route matches (a web page and its assets; see
// httpapi.Config.Pages). The command and projector functions ignore it.
// A nil handler is an error.
func Pages(h http.Handler) Option {
	return func(o *options) error {
		if h == nil {
			return errors.New("lambdafn.Pages: nil handler")
		}
		o.pages = h
		return nil
	}
}

// Console serves the console (package console) from the query function,
// under console.Prefix beside the Pages option's handler (without one, "/"
// leads to the console), as `dev` of pkg/cli does. It is off by default:
// the console sends commands to the API the query function answers for,
// so turn it on where the API's authorization fits who may open it. The
// command and projector functions ignore it.
func Console() Option {
	return func(o *options) error {
		o.console = true
		return nil
	}
}

// Logger makes every log line (the Service's, the adapters', an init
// failure) go to l instead of the JSON logger on the output; LOG_LEVEL
// then does not apply (l's handler decides). A nil logger is an error.
func Logger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("lambdafn.Logger: nil logger")
		}
		o.logger = l
		return nil
	}
}

// Output sets where the JSON logs and the EMF metric lines go (default
// os.Stdout, which Lambda sends to CloudWatch Logs). A nil writer is an
// error.
func Output(w io.Writer) Option {
	return func(o *options) error {
		if w == nil {
			return errors.New("lambdafn.Output: nil writer")
		}
		o.out = w
		return nil
	}
}

// AWSConfig makes the function use cfg (its region, credentials,
// endpoint, middleware) instead of loading the SDK's standard chain.
func AWSConfig(cfg aws.Config) Option {
	return func(o *options) error {
		o.aws = &cfg
		return nil
	}
}

// ServiceConfig adds fn, called on the Service's signal.Config after
// lambdafn has filled it (Store, Types, Subscribers for the projector,
// Logger, OnPark with a dead-letter queue) and before signal.New: set
// Pool, ParkAfter, MaxRetries and the like there. What fn sets wins.
// Several are called in order. A nil fn is an error.
func ServiceConfig(fn func(*signal.Config)) Option {
	return func(o *options) error {
		if fn == nil {
			return errors.New("lambdafn.ServiceConfig: nil func")
		}
		o.service = append(o.service, fn)
		return nil
	}
}

// HTTPConfig adds fn, called on the command and query functions'
// httpapi.Config after lambdafn has filled it (Service, Routes, Pages,
// CORS from CORS_ALLOW_ORIGINS with a 10-minute MaxAge, Auth from
// AUTH_TENANT_CLAIM and AUTH_GROUPS_CLAIM, Logger, OnRequest emitting the
// metrics) and before httpapi.New: set MaxBodyBytes or
// CORS.AllowHeaders there. What fn sets wins (replacing OnRequest drops
// the request metrics). The projector ignores it. A nil fn is an error.
func HTTPConfig(fn func(*httpapi.Config)) Option {
	return func(o *options) error {
		if fn == nil {
			return errors.New("lambdafn.HTTPConfig: nil func")
		}
		o.http = append(o.http, fn)
		return nil
	}
}
