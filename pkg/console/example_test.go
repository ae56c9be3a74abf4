package console_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/signalforgo/signal/pkg/console"
	"github.com/signalforgo/signal/pkg/httpapi"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// The console mounted beside the API of an app, as a local server does.
func ExampleHandler() {
	quiet := slog.New(slog.DiscardHandler)
	cfg := bankApp.Config(memstore.New(), true)
	cfg.InlineDispatch, cfg.Logger = true, quiet
	svc, _ := signal.New(cfg)
	api, _ := httpapi.New(httpapi.Config{Service: svc, AppName: bankApp.Name, Logger: quiet})
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, console.Handler())
	mux.Handle("/", api)

	for _, path := range []string{"/console/", "/console/console.js", "/app", "/aggregates/account/a1"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(path, rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// /console/ 200 text/html; charset=utf-8
	// /console/console.js 200 text/javascript; charset=utf-8
	// /app 200 application/json
	// /aggregates/account/a1 404 application/json
}

// The console as the API's pages: every transport (API Gateway, function
// URLs, net/http) serves it for the GET paths the API does not have.
func ExampleHandler_pages() {
	quiet := slog.New(slog.DiscardHandler)
	svc, _ := signal.New(signal.Config{Store: memstore.New(), Types: bankApp.Types, Logger: quiet})
	api, _ := httpapi.New(httpapi.Config{Service: svc, Routes: httpapi.QueryRoutes, AppName: bankApp.Name,
		Views: httpapi.ProjectionNames(bankApp.Subscribers), Pages: console.Handler(), Logger: quiet})

	for _, path := range []string{"/console/", "/console/console.css", "/console/nothing", "/app"} {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(path, rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// /console/ 200 text/html; charset=utf-8
	// /console/console.css 200 text/css; charset=utf-8
	// /console/nothing 404 text/plain; charset=utf-8
	// /app 200 application/json
}
