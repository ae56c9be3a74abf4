package lambdafn

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/lambdastream"
	"github.com/signalforgo/signal/pkg/emf"
	"github.com/signalforgo/signal/pkg/signal"
)

// Role is which of the three functions a Function is.
type Role uint8

const (
	// CommandRole serves httpapi.CommandRoutes (POST and DELETE).
	CommandRole Role = iota + 1
	// QueryRole serves httpapi.QueryRoutes (GET) and the Pages option.
	QueryRole
	// ProjectorRole handles the events table's stream and is the only
	// role whose Service runs the App's subscribers.
	ProjectorRole
)

// String returns "command", "query", "projector", or "Role(n)" for
// another value.
func (r Role) String() string {
	switch r {
	case CommandRole:
		return "command"
	case QueryRole:
		return "query"
	case ProjectorRole:
		return "projector"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Function is one function's wired parts, built once per container by
// New. Its fields are for reading (tests, an advanced main adding its own
// routes or metrics); changing them after New changes nothing already built.
type Function struct {
	Role Role
	// Settings are New's, with Function defaulted to the App's name.
	Settings Settings
	App      *signal.App
	// Logger is the Logger option's logger, else the JSON logger on the
	// output at Settings.LogLevel; the projector's adds request_id.
	Logger *slog.Logger
	// Metrics writes the EMF lines: the namespace of MetricNamespace, the
	// dimension Function.
	Metrics *emf.Writer
	// AWS is the configuration every client was built from.
	AWS     aws.Config
	Store   *dynstore.Store
	Service *signal.Service
	opts    options
}

// New wires app as the function role on s, with opts. It checks the App
// (app.Validate), the role and the options; loads the AWS configuration
// (the SDK's standard chain unless AWSConfig is given); builds the
// DynamoDB client with dynstore.ClientOptions, the store and the Service
// (with the app's subscribers and, given a DeadLetterQueue, an SQS
// notifier on park, only for ProjectorRole). An App with Tenancy needs
// s.Auth.TenantClaim for the command and query roles. It makes no
// network call.
// The error names what failed; on error the Function is nil.
func New(ctx context.Context, app *signal.App, s Settings, role Role, opts ...Option) (*Function, error) {
	if err := app.Validate(); err != nil {
		return nil, err
	}
	if role < CommandRole || role > ProjectorRole {
		return nil, fmt.Errorf("lambdafn.New: unknown %v", role)
	}
	if app.Tenancy && role != ProjectorRole && s.Auth.TenantClaim == "" {
		// Every caller would be refused (no tenant); say so at init.
		return nil, fmt.Errorf("lambdafn.New: App %s has Tenancy but no tenant claim is configured (AUTH_TENANT_CLAIM)", app.Name)
	}
	o, err := collect(opts)
	if err != nil {
		return nil, err
	}
	if o.out == nil {
		o.out = os.Stdout
	}
	f := &Function{Role: role, Settings: s, App: app, opts: o, Logger: o.logger}
	if f.Settings.Function == "" {
		f.Settings.Function = app.Name
	}
	if f.Logger == nil {
		f.Logger = slog.New(slog.NewJSONHandler(o.out, &slog.HandlerOptions{Level: s.LogLevel}))
	}
	if role == ProjectorRole {
		// httpapi logs request_id on its own line; the stream adapter and
		// the subscribers have no such line, so their records get it here.
		f.Logger = slog.New(requestIDHandler{f.Logger.Handler()})
	}
	f.Metrics = emf.New(o.out, o.namespace, map[string]string{"Function": f.Settings.Function})
	if o.aws != nil {
		f.AWS = *o.aws
	} else if f.AWS, err = config.LoadDefaultConfig(ctx); err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if f.Store, err = dynstore.New(dynamodb.NewFromConfig(f.AWS, dynstore.ClientOptions(nil)), s.Tables); err != nil {
		return nil, err
	}
	cfg := app.Config(f.Store, role == ProjectorRole)
	cfg.Logger = f.Logger
	if role == ProjectorRole && s.DeadLetterQueue != "" {
		cfg.OnPark = lambdastream.ParkedNotifier(sqs.NewFromConfig(f.AWS), s.DeadLetterQueue, f.Logger)
	}
	for _, fn := range o.service {
		fn(&cfg)
	}
	if f.Service, err = signal.New(cfg); err != nil {
		return nil, err
	}
	return f, nil
}

// collect applies opts over the defaults; the first invalid one is the error.
func collect(opts []Option) (options, error) {
	o := options{namespace: DefaultNamespace}
	for _, opt := range opts {
		if opt == nil {
			return o, fmt.Errorf("lambdafn: nil Option")
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}
