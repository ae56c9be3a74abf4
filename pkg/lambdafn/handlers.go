package lambdafn

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/signalforgo/signal/pkg/console"
	"github.com/signalforgo/signal/pkg/dynstore/lambdastream"
	"github.com/signalforgo/signal/pkg/emf"
	"github.com/signalforgo/signal/pkg/httpapi"
	"github.com/signalforgo/signal/pkg/signal"
)

// HTTPHandler returns the HTTP adapter of a command or query Function:
// its role's routes (GET /app describing the App), the Pages and Console
// options on the query side, CORS from the
// settings (none when CORSOrigins is empty), the claims of the caller's
// tenant and groups from the settings (Auth), the JSON request log, EMF
// metrics per request, then the HTTPConfig options. Its Lambda method is
// what Command and Query start. It fails for ProjectorRole, or with
// httpapi.New's error for a configuration HTTPConfig made invalid. Call
// it once: each Handler counts its own cold start and pool deltas.
func (f *Function) HTTPHandler() (*httpapi.Handler, error) {
	cfg := httpapi.Config{Service: f.Service, Logger: f.Logger, OnRequest: f.requestMetrics(),
		AppName: f.App.Name, Views: httpapi.ProjectionNames(f.App.Subscribers), Auth: f.Settings.Auth}
	switch f.Role {
	case CommandRole:
		cfg.Routes = httpapi.CommandRoutes
	case QueryRole:
		cfg.Routes, cfg.Pages = httpapi.QueryRoutes, f.opts.pages
		if f.opts.console {
			cfg.Pages = console.With(f.opts.pages)
		}
	default:
		return nil, fmt.Errorf("lambdafn: the %v function has no HTTP handler", f.Role)
	}
	if len(f.Settings.CORSOrigins) > 0 {
		cfg.CORS = &httpapi.CORS{AllowOrigins: f.Settings.CORSOrigins, MaxAge: 10 * time.Minute}
	}
	for _, fn := range f.opts.http {
		fn(&cfg)
	}
	return httpapi.New(cfg)
}

// requestMetrics emits one EMF line per request, with the request id,
// route, status and cold start as searchable properties.
func (f *Function) requestMetrics() func(context.Context, httpapi.RequestInfo) {
	var stats statsDelta
	return func(ctx context.Context, info httpapi.RequestInfo) {
		metrics := append(stats.metrics(f.Service.Stats()),
			emf.Metric{Name: "Requests", Value: 1, Unit: emf.Count},
			emf.Metric{Name: "Latency", Value: float64(info.Duration.Microseconds()) / 1000, Unit: emf.Milliseconds},
		)
		if info.Method == "POST" || info.Method == "DELETE" {
			metrics = append(metrics, emf.Metric{Name: "Commands", Value: 1, Unit: emf.Count})
		}
		if info.Status >= 500 {
			metrics = append(metrics, emf.Metric{Name: "ServerErrors", Value: 1, Unit: emf.Count})
		}
		_ = f.Metrics.Emit(metrics, map[string]any{"request_id": info.RequestID, "route": info.Route, "status": info.Status, "cold_start": info.ColdStart})
	}
}

// StreamHandler returns the stream adapter of a projector Function, with
// one EMF line per batch (records, commits, failures, lag, duration; the
// request id and cold start as properties). Its Handle method is what
// Projector starts. It fails for the other roles, whose Service runs no
// subscribers. Call it once: each Handler counts its own cold start.
func (f *Function) StreamHandler() (*lambdastream.Handler, error) {
	if f.Role != ProjectorRole {
		return nil, fmt.Errorf("lambdafn: the %v function has no stream handler", f.Role)
	}
	var served atomic.Bool
	return lambdastream.New(lambdastream.Config{
		Service: f.Service,
		Logger:  f.Logger,
		OnBatch: func(ctx context.Context, b lambdastream.BatchInfo) {
			props := map[string]any{"cold_start": !served.Swap(true)}
			if lc, ok := lambdacontext.FromContext(ctx); ok {
				props["request_id"] = lc.AwsRequestID
			}
			_ = f.Metrics.Emit([]emf.Metric{
				{Name: "Records", Value: float64(b.Records), Unit: emf.Count},
				{Name: "Commits", Value: float64(b.Commits), Unit: emf.Count},
				{Name: "FailedRecords", Value: float64(b.Failures), Unit: emf.Count},
				{Name: "ProjectorLag", Value: float64(b.Lag.Milliseconds()), Unit: emf.Milliseconds},
				{Name: "BatchDuration", Value: float64(b.Duration.Microseconds()) / 1000, Unit: emf.Milliseconds},
			}, props)
		},
	}), nil
}

// statsDelta turns the Service's cumulative counters (Service.Stats) into
// per-request metrics. A Lambda container serves one request at a time, so the
// difference between two reads belongs to the request in between.
type statsDelta struct {
	mu   sync.Mutex
	last signal.Stats
}

// metrics returns the counters' growth since the previous call.
func (d *statsDelta) metrics(now signal.Stats) []emf.Metric {
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
