package cli

import (
	"fmt"
	"strings"

	"github.com/signalforgo/signal/pkg/signal"
)

// usage is the help text for the app: its types, views and subscribers,
// the commands (the kit's and those added with Command), the flags and
// the environment.
func (k *kit) usage() string {
	var b strings.Builder
	n := k.o.name
	fmt.Fprintf(&b, "%s — the %s service's command line (Signal for Go: event sourcing on AWS Lambda and DynamoDB)\n\n", n, k.app.Name)
	fmt.Fprintf(&b, "Aggregate types: %s\n", list(typeNames(k.app)))
	fmt.Fprintf(&b, "Views:           %s\n", list(viewNames(k.app)))
	fmt.Fprintf(&b, "Subscribers:     %s\n\n", list(subscriberNames(k.app)))
	b.WriteString("Usage:\n")
	line := func(cmd, summary string) {
		left := "  " + n + " " + cmd
		if len(left) > 36 {
			fmt.Fprintf(&b, "%s\n%37s", left, "")
		} else {
			fmt.Fprintf(&b, "%-37s", left)
		}
		b.WriteString(strings.ReplaceAll(summary, "\n", "\n"+strings.Repeat(" ", 37)) + "\n")
	}
	pages := ""
	if k.o.pages != nil {
		pages = " and the pages"
	}
	line("dev [flags]", "serve the HTTP API"+pages+" locally, with the\nsubscribers running in-process")
	line("events [flags] <type> <id>", "print an aggregate's events, one JSON object a line (as stored: no rule applies; under Tenancy the id is tenant|id)")
	line("rebuild [flags] <view>", "drop a view and rebuild it from the full event log")
	line("parked [flags]", "list subscribers that keep failing on a stream, and\nthose parked (skipped until replayed)")
	line("parked replay [flags] [<subscriber> <type> <id>]", "replay one parked subscriber, or every one, once the\ncause is fixed")
	line("table create [flags]", "create the DynamoDB tables (local endpoints)")
	for _, c := range k.o.commands {
		line(c.name, c.summary)
	}
	line("help", "this text")
	b.WriteString(flagsUsage)
	return b.String()
}

const flagsUsage = `
Store flags (dev, events, rebuild, parked, table):
  -data DIR              embedded store directory (default ./.signal; env SIGNAL_DATA_DIR)
  -postgres URL          use Postgres instead (env DATABASE_URL; pool settings such as
                         pool_max_conns go in the URL); the schema is created on start
  -dynamodb-endpoint URL use DynamoDB at URL instead (moto_server, LocalStack);
                         env AWS_ENDPOINT_URL. Credentials and region come from the
                         AWS SDK's usual chain (defaults: test/test, us-east-1)
  -events-table NAME     events table (default signal-events; env EVENTS_TABLE)
  -views-table NAME      views table (default signal-views; env VIEWS_TABLE)

dev flags:
  -addr HOST:PORT        listen address (default 127.0.0.1:8080; env SIGNAL_ADDR)
  -allow-host NAME       also answer requests for this host name (repeatable); by
                         default only loopback names and the -addr host are served
  -allow-origin ORIGIN   also accept requests from pages of this origin, e.g.
                         http://localhost:3000 (repeatable); by default only the
                         server's own origin. Commands need
                         Content-Type: application/json
  -insecure-dev-auth     INSECURE, local only: take the caller of each request
                         from its header X-Signal-Insecure-Principal, e.g.
                         "sub=alice; tenant=acme; groups=admin,ops" (also iss,
                         scope), so the app's Authorize rule runs as in Lambda.
                         Off by default: then the header is ignored and every
                         request is anonymous

Environment:
  SIGNAL_LOG_LEVEL       debug, info, warn or error (default info for dev, warn otherwise)
`

// list joins names for the usage text; "none" when there are none.
func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func typeNames(app *signal.App) []string {
	var names []string
	for _, t := range app.Types {
		names = append(names, t.Name())
	}
	return names
}

// viewNames are the app's projections, by the name rebuild takes.
func viewNames(app *signal.App) []string {
	var names []string
	for _, s := range app.Subscribers {
		if p, ok := s.(*signal.Projection); ok {
			names = append(names, p.Name)
		}
	}
	return names
}

func subscriberNames(app *signal.App) []string {
	var names []string
	for _, s := range app.Subscribers {
		names = append(names, s.SubscriberName())
	}
	return names
}

// knownType checks that typ is one of the app's aggregate types; the
// usage error names them.
func knownType(app *signal.App, typ string) error {
	for _, t := range app.Types {
		if t.Name() == typ {
			return nil
		}
	}
	return fmt.Errorf("%w: unknown aggregate type %q (types: %s)", errUsage, typ, list(typeNames(app)))
}
