package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// storeFlags declares the flags that choose a store.
func storeFlags(name string, o *storeOptions, getenv func(string) string) *flag.FlagSet {
	o.getenv = getenv
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&o.dataDir, "data", or(getenv("SIGNAL_DATA_DIR"), ".signal"), "embedded store directory")
	fs.StringVar(&o.postgres, "postgres", getenv("DATABASE_URL"), "Postgres URL")
	fs.StringVar(&o.endpoint, "dynamodb-endpoint", getenv("AWS_ENDPOINT_URL"), "DynamoDB endpoint")
	fs.StringVar(&o.eventsTable, "events-table", or(getenv("EVENTS_TABLE"), "signal-events"), "events table")
	fs.StringVar(&o.viewsTable, "views-table", or(getenv("VIEWS_TABLE"), "signal-views"), "views table")
	return fs
}

// errHelp is -h or -help on a command: Run prints the usage text on
// stdout and exits 0.
var errHelp = errors.New("help requested")

// parseFlags parses args into fs. The flag package prints nothing: Run
// reports a bad flag once, with the kit's usage text (which documents
// every flag with its environment variable), and -h as that text alone.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return errHelp
	case err != nil:
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// parse parses args into fs and checks that nargs arguments remain.
func parse(fs *flag.FlagSet, args []string, nargs int) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != nargs {
		return fmt.Errorf("%w: %s takes %d argument(s), got %d", errUsage, fs.Name(), nargs, fs.NArg())
	}
	return nil
}

// parseReplay takes either no argument (replay every parked subscriber)
// or three: subscriber, type, id.
func (k *kit) parseReplay(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if n := fs.NArg(); n != 0 && n != 3 {
		return fmt.Errorf("%w: %s parked replay takes no argument (all) or <subscriber> <type> <id>, got %d", errUsage, k.o.name, n)
	}
	return nil
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	if s == "" {
		return errors.New("empty value")
	}
	*l = append(*l, s)
	return nil
}

// originsFlag is a repeatable flag of web origins: scheme://host[:port].
type originsFlag []string

func (l *originsFlag) String() string { return strings.Join(*l, ",") }

func (l *originsFlag) Set(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an origin such as http://localhost:3000 (there is no wildcard)", s)
	}
	*l = append(*l, s)
	return nil
}
