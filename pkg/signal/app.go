package signal

import (
	"errors"
	"fmt"
)

// App describes a service built on Signal: its name, its aggregate types
// and its subscribers. It is the one value a user hands to every entry
// point (the Lambda functions, the CLI and its local runtime, the
// console, the test kit), so they all serve the same domain.
type App struct {
	// Name names the service in logs, metrics and the console ("shop").
	// It is a stable name (ValidateName).
	Name string
	// Types are the aggregate types.
	Types []AggregateType
	// Subscribers are the projections, policies and observers. The
	// command and query functions do not run them; the projector, the
	// local runtime and tests do.
	Subscribers []Subscriber
	// Authorize is the app's authorization rule: who may send which
	// command, read which aggregate, history and view (Authorizer). Nil
	// allows every caller the gateway let through.
	Authorize Authorizer
	// Tenancy keeps each tenant's aggregates and views apart (see
	// Config.Tenancy); the transports then take each caller's tenant from
	// the claim they are configured with.
	Tenancy bool
}

// Validate checks what the App itself must hold: a valid name and at
// least one type. New checks the types and subscribers further.
func (a *App) Validate() error {
	if a == nil {
		return errors.New("signal: no App")
	}
	if err := ValidateName(a.Name); err != nil {
		return fmt.Errorf("signal.App: name: %w", err)
	}
	if len(a.Types) == 0 {
		return fmt.Errorf("signal.App %s: no aggregate types", a.Name)
	}
	return nil
}

// Config returns a Config for a Service of the app on store: its types,
// and its subscribers when withSubscribers is set. Set the other fields
// (Logger, InlineDispatch, Pool...) on the result.
func (a *App) Config(store Store, withSubscribers bool) Config {
	cfg := Config{Store: store, Types: a.Types, Authorize: a.Authorize, Tenancy: a.Tenancy}
	if withSubscribers {
		cfg.Subscribers = a.Subscribers
	}
	return cfg
}
