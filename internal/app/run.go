package app

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/signalforgo/signal/examples/cart/web"
	"github.com/signalforgo/signal/pkg/dynstore/lambdastream"
	"github.com/signalforgo/signal/pkg/emf"
	"github.com/signalforgo/signal/pkg/httpapi"
)

// RunHTTP wires an HTTP function serving routes and hands it to the Lambda
// runtime. It does not return.
func RunHTTP(routes httpapi.Routes) {
	settings, err := FromEnv(os.Getenv)
	Must(err)
	a, err := New(context.Background(), settings, false, os.Stdout)
	Must(err)
	h, err := a.HTTPHandler(routes)
	Must(err)
	lambda.Start(h.Lambda)
}

// RunProjector wires the stream projector and hands it to the Lambda
// runtime. It does not return.
func RunProjector() {
	settings, err := FromEnv(os.Getenv)
	Must(err)
	a, err := New(context.Background(), settings, true, os.Stdout)
	Must(err)
	lambda.Start(a.StreamHandler().Handle)
}

// HTTPHandler returns the HTTP adapter for routes, with CORS from the
// settings, JSON request logs and EMF metrics per request.
func (a *App) HTTPHandler(routes httpapi.Routes) (*httpapi.Handler, error) {
	var cors *httpapi.CORS
	if len(a.Settings.CORSOrigins) > 0 {
		cors = &httpapi.CORS{AllowOrigins: a.Settings.CORSOrigins, MaxAge: 10 * time.Minute}
	}
	var pool PoolDelta
	var pages http.Handler
	if routes&httpapi.QueryRoutes != 0 {
		pages = web.Handler() // the cart page, served by the query side
	}
	return httpapi.New(httpapi.Config{
		Service: a.Service,
		Routes:  routes,
		Pages:   pages,
		CORS:    cors,
		Logger:  a.Logger,
		OnRequest: func(ctx context.Context, info httpapi.RequestInfo) {
			metrics := append(pool.Metrics(a.Service.PoolStats()),
				emf.Metric{Name: "Requests", Value: 1, Unit: emf.Count},
				emf.Metric{Name: "Latency", Value: float64(info.Duration.Microseconds()) / 1000, Unit: emf.Milliseconds},
			)
			if info.Method == "POST" || info.Method == "DELETE" {
				metrics = append(metrics, emf.Metric{Name: "Commands", Value: 1, Unit: emf.Count})
			}
			if info.Status >= 500 {
				metrics = append(metrics, emf.Metric{Name: "ServerErrors", Value: 1, Unit: emf.Count})
			}
			_ = a.Metrics.Emit(metrics, map[string]any{"request_id": info.RequestID, "route": info.Route, "status": info.Status, "cold_start": info.ColdStart})
		},
	})
}

// StreamHandler returns the projector's stream adapter, with EMF metrics
// per batch (records, failures, lag).
func (a *App) StreamHandler() *lambdastream.Handler {
	return lambdastream.New(lambdastream.Config{
		Service: a.Service,
		Logger:  a.Logger,
		OnBatch: func(ctx context.Context, b lambdastream.BatchInfo) {
			_ = a.Metrics.Emit([]emf.Metric{
				{Name: "Records", Value: float64(b.Records), Unit: emf.Count},
				{Name: "Commits", Value: float64(b.Commits), Unit: emf.Count},
				{Name: "FailedRecords", Value: float64(b.Failures), Unit: emf.Count},
				{Name: "ProjectorLag", Value: float64(b.Lag.Milliseconds()), Unit: emf.Milliseconds},
				{Name: "BatchDuration", Value: float64(b.Duration.Microseconds()) / 1000, Unit: emf.Milliseconds},
			}, nil)
		},
	})
}
