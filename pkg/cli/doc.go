// Package cli is the command line of a Signal service: a local runtime
// and the tools around a deployment, for any signal.App. A service's
// cmd/<name>/main.go is one line:
//
//	package main
//
//	import (
//		"github.com/you/shop"
//		"github.com/signalforgo/signal/pkg/cli"
//	)
//
//	func main() { cli.Main(shop.App()) }
//
// and `go run ./cmd/shop help` lists the commands, the app's aggregate
// types, views and subscribers, the flags and the environment:
//
//	dev                   serve the HTTP API (the router the Lambda functions use,
//	                      package httpapi) on 127.0.0.1:8080 (-addr, SIGNAL_ADDR),
//	                      with the app's subscribers running in-process, fed from
//	                      the store's change feed or the DynamoDB table's stream,
//	                      and the console (package console) at /console/
//	events <type> <id>    print an aggregate's events as JSON lines
//	rebuild <view>        drop a view and rebuild it from the full event log
//	parked                list the subscribers failing or parked on a stream
//	parked replay [...]   replay one parked subscriber, or every one
//	table create          create the DynamoDB tables on a local endpoint
//	help                  the usage text
//
// Every command but help works on one store: the embedded bbolt store in
// ./.signal (-data, SIGNAL_DATA_DIR) by default, Postgres with -postgres
// (DATABASE_URL), or DynamoDB with -dynamodb-endpoint (AWS_ENDPOINT_URL)
// and -events-table, -views-table (EVENTS_TABLE, VIEWS_TABLE). dev serves
// through httpapi.LocalGuard: only loopback host names, the -addr host and
// -allow-host names are answered, only the server's own origin and
// -allow-origin ones may send commands, and commands need
// Content-Type: application/json, so no web page the developer opens can
// write to the local store. dev -insecure-dev-auth takes the caller from
// the X-Signal-Insecure-Principal header (httpapi.InsecureDevPrincipal),
// so that the App's Authorize rule and Tenancy run locally as they do in
// Lambda; off, every request is anonymous. Never expose it.
//
// Options add what differs per service: Name (the program's name in the
// usage text), Pages (your web page, served by dev at / beside the API
// and the console; without it "/" leads to the console) and
// Command (a subcommand of your own). A fuller main:
//
//	func main() {
//		cli.Main(shop.App(),
//			cli.Pages(web.Handler()),
//			cli.Command("seed", "send a few sample orders to a running dev", seed))
//	}
//
//	func seed(ctx context.Context, env cli.Env, args []string) error {
//		if len(args) != 1 {
//			return fmt.Errorf("%w: seed <url>", cli.ErrUsage)
//		}
//		// ... POST to args[0]/aggregates/order/..., print to env.Stdout
//		return nil
//	}
//
// Run is Main without the process (its arguments, writers, environment and
// exit status are parameters), for tests of a service's command line.
package cli
