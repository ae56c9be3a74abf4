// Query function: GET /aggregates/..., /views/... and /healthz behind API
// Gateway (HTTP API or REST API) or a function URL. Its pool keeps
// aggregates warm; reads catch up with one Query of only the newer commits.
package main

import (
	"github.com/signalforgo/signal/internal/app"
	"github.com/signalforgo/signal/pkg/httpapi"
)

func main() { app.RunHTTP(httpapi.QueryRoutes) }
