// Package app is the wiring the three Lambda functions share: settings
// from the environment, the AWS clients (built once, at init), the
// DynamoDB store, the Service with the cart domain, JSON logs and EMF
// metrics. Each functions/<name>/main.go is a few lines on top of it.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/lambdastream"
	"github.com/signalforgo/signal/pkg/emf"
	"github.com/signalforgo/signal/pkg/signal"
)

// Settings are what a function reads from its environment.
type Settings struct {
	// Tables: EVENTS_TABLE and VIEWS_TABLE (required).
	Tables dynstore.Tables
	// LogLevel: LOG_LEVEL (debug, info, warn, error; default info).
	LogLevel slog.Level
	// CORSOrigins: CORS_ALLOW_ORIGINS, comma-separated ("*" allowed; empty: no CORS).
	CORSOrigins []string
	// Function: AWS_LAMBDA_FUNCTION_NAME, the EMF dimension.
	Function string
	// DeadLetterQueue: DEAD_LETTER_QUEUE_URL (optional), where the
	// projector reports a subscriber it parks.
	DeadLetterQueue string
}

// FromEnv reads Settings; the error names every missing variable.
func FromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{
		Tables:          dynstore.Tables{Events: getenv("EVENTS_TABLE"), Views: getenv("VIEWS_TABLE")},
		Function:        getenv("AWS_LAMBDA_FUNCTION_NAME"),
		DeadLetterQueue: getenv("DEAD_LETTER_QUEUE_URL"),
	}
	var missing []string
	if s.Tables.Events == "" {
		missing = append(missing, "EVENTS_TABLE")
	}
	if s.Tables.Views == "" {
		missing = append(missing, "VIEWS_TABLE")
	}
	if len(missing) > 0 {
		return s, fmt.Errorf("missing environment: %s", strings.Join(missing, ", "))
	}
	if lv := getenv("LOG_LEVEL"); lv != "" {
		if err := s.LogLevel.UnmarshalText([]byte(lv)); err != nil {
			return s, fmt.Errorf("LOG_LEVEL: %w", err)
		}
	}
	for _, o := range strings.Split(getenv("CORS_ALLOW_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			s.CORSOrigins = append(s.CORSOrigins, o)
		}
	}
	if s.Function == "" {
		s.Function = "signal"
	}
	return s, nil
}

// App is a function's wired parts.
type App struct {
	Settings Settings
	Logger   *slog.Logger
	Metrics  *emf.Writer
	Store    *dynstore.Store
	Service  *signal.Service
}

// New builds the App: one AWS configuration (the SDK's standard chain:
// AWS_ENDPOINT_URL works for moto and LocalStack), one DynamoDB client
// with the tuned retryer, the store and the Service. withSubscribers adds
// the cart's projections and policy (the projector needs them; the HTTP
// functions do not). Logs and metrics go to out (os.Stdout in Lambda).
func New(ctx context.Context, s Settings, withSubscribers bool, out io.Writer) (*App, error) {
	logger := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: s.LogLevel}))
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	store, err := dynstore.New(dynamodb.NewFromConfig(awsCfg, dynstore.ClientOptions(nil)), s.Tables)
	if err != nil {
		return nil, err
	}
	cfg := signal.Config{Store: store, Types: cart.Types(), Logger: logger}
	if withSubscribers {
		cfg.Subscribers = cart.Subscribers()
		if s.DeadLetterQueue != "" {
			cfg.OnPark = lambdastream.ParkedNotifier(sqs.NewFromConfig(awsCfg), s.DeadLetterQueue, logger)
		}
	}
	svc, err := signal.New(cfg)
	if err != nil {
		return nil, err
	}
	return &App{
		Settings: s,
		Logger:   logger,
		Metrics:  emf.New(out, "Signal", map[string]string{"Function": s.Function}),
		Store:    store,
		Service:  svc,
	}, nil
}

// Must ends the process with a logged error if err is set: a function
// that cannot wire itself must fail its init, visibly.
func Must(err error) {
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("init failed", "error", err)
		os.Exit(1)
	}
}

// PoolDelta turns the Service's cumulative pool counters into per-request
// metrics. A Lambda container serves one request at a time, so the
// difference between two reads belongs to the request in between.
type PoolDelta struct {
	mu   sync.Mutex
	last signal.PoolStats
}

// Metrics returns the counters' growth since the previous call.
func (d *PoolDelta) Metrics(now signal.PoolStats) []emf.Metric {
	d.mu.Lock()
	defer d.mu.Unlock()
	prev := d.last
	d.last = now
	return []emf.Metric{
		{Name: "PoolHits", Value: float64(now.Hits - prev.Hits), Unit: emf.Count},
		{Name: "PoolMisses", Value: float64(now.Misses - prev.Misses), Unit: emf.Count},
		{Name: "Conflicts", Value: float64(now.Conflicts - prev.Conflicts), Unit: emf.Count},
		{Name: "Retries", Value: float64(now.Retries - prev.Retries), Unit: emf.Count},
	}
}
