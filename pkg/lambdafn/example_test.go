package lambdafn_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/signalforgo/signal/pkg/lambdafn"
	"github.com/signalforgo/signal/pkg/signal"
)

// A query function that also serves its HTTP API on a local port when
// LOCAL_ADDR is set, built from the same parts lambdafn.Query starts.
func ExampleNew() {
	var app *signal.App // your App, e.g. shop.App()
	settings, err := lambdafn.FromEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	f, err := lambdafn.New(context.Background(), app, settings, lambdafn.QueryRole, lambdafn.MetricNamespace("Shop"))
	if err != nil {
		log.Fatal(err)
	}
	h, err := f.HTTPHandler()
	if err != nil {
		log.Fatal(err)
	}
	if addr := os.Getenv("LOCAL_ADDR"); addr != "" {
		log.Fatal(http.ListenAndServe(addr, h))
	}
	lambda.Start(h.Lambda)
}
