package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/examples/cart/web"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/httpapi"
	"github.com/signalforgo/signal/pkg/signal"
)

type devOptions struct {
	store storeOptions
	addr  string
	// allowHosts and allowOrigins widen the local guard (-allow-host,
	// -allow-origin).
	allowHosts, allowOrigins []string
}

// dev serves the HTTP API (the router the Lambda functions use) and the
// cart page, and runs the projector and the order policy in-process from
// the store's change feed (the embedded store) or from the table's stream
// (DynamoDB), until ctx ends.
func dev(ctx context.Context, o devOptions, out io.Writer, logger *slog.Logger) error {
	st, err := openStore(ctx, o.store)
	if err != nil {
		return err
	}
	defer st.Close()
	if st.dyn != nil {
		if err := dynstore.CreateTables(ctx, st.client, st.dyn.Tables()); err != nil {
			return err
		}
	}
	svc, err := signal.New(signal.Config{Store: st.store, Types: cart.Types(), Subscribers: cart.Subscribers(), Logger: logger})
	if err != nil {
		return err
	}
	// The same router as the Lambda functions, with the cart page on the
	// paths no API route has.
	api, err := httpapi.New(httpapi.Config{Service: svc, Routes: httpapi.AllRoutes, Logger: logger, Pages: web.Handler()})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	// What net/http refuses before the router runs (an invalid percent
	// escape, say) is answered with the API's JSON error too.
	ln = httpapi.Listener(ln)
	// Any web page the developer opens could otherwise write to the local
	// store (a cross-site form post) and read it (DNS rebinding).
	guarded := httpapi.LocalGuard(api, httpapi.LocalOptions{
		Addr: ln.Addr().String(), AllowHosts: o.allowHosts, AllowOrigins: o.allowOrigins, Logger: logger,
	})
	srv := &http.Server{Handler: guarded, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "signal dev: serving %s (the cart page at /, the API at /aggregates and /views)\n", url)
	fmt.Fprintf(out, "signal dev: store: %s; projector and order policy running in-process\n", st.desc)
	fmt.Fprintf(out, "signal dev: try  curl -X POST %s/aggregates/cart/c1/AddItem -H 'Content-Type: application/json' -d '{\"sku\":\"apple\",\"quantity\":1,\"price\":50}'\n", url)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	projectorErr := make(chan error, 1)
	wg.Go(func() {
		var err error
		if st.dyn != nil {
			err = projectFromStream(ctx, st, svc, logger)
		} else {
			err = projectFromFeed(ctx, st.feed, positionFile(o.store), svc, logger)
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			projectorErr <- err
			cancel()
		}
	})
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shutdown)
	cancel()
	wg.Wait()
	select {
	case err = <-projectorErr:
	default:
	}
	fmt.Fprintln(out, "signal dev: stopped")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// projectFromFeed feeds the dispatcher from the embedded store's change
// feed, remembering its position in a file so a restart resumes there.
// Delivery is at least once: a batch is retried until the dispatcher takes
// it, and checkpoints make repeats harmless.
func projectFromFeed(ctx context.Context, feed signal.ChangeFeed, posFile string, svc *signal.Service, logger *slog.Logger) error {
	if err := os.MkdirAll(filepath.Dir(posFile), 0o755); err != nil {
		return err
	}
	pos := readPosition(posFile)
	backoff := 100 * time.Millisecond
	for {
		last, n, err := svc.DispatchChanges(ctx, feed, pos, 200)
		if last != pos {
			pos = last
			if werr := os.WriteFile(posFile, []byte(strconv.FormatUint(pos, 10)), 0o644); werr != nil {
				return werr
			}
		}
		var de *signal.DispatchError
		switch {
		case errors.As(err, &de):
			logger.WarnContext(ctx, "projector: batch failed; retrying", "error", err)
			select {
			case <-time.After(backoff):
				backoff = min(2*backoff, 5*time.Second)
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		case err != nil:
			return err
		}
		if n > 0 {
			backoff = 100 * time.Millisecond
		}
		if err := feed.WaitForChange(ctx, pos); err != nil {
			return err
		}
	}
}

// positionFile is where the projector remembers its change-feed position:
// in the data directory, named after the store so that switching stores
// does not resume at a position of another.
func positionFile(o storeOptions) string {
	name := "projector.position"
	if o.postgres != "" {
		sum := sha256.Sum256([]byte(o.postgres))
		name = fmt.Sprintf("projector-postgres-%x.position", sum[:6])
	}
	return filepath.Join(o.dataDir, name)
}

func readPosition(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pos, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return pos
}

// projectFromStream feeds the dispatcher from the events table's
// DynamoDB stream with the Poller.
func projectFromStream(ctx context.Context, st *openedStore, svc *signal.Service, logger *slog.Logger) error {
	arn, err := dynstore.StreamARN(ctx, st.client, st.dyn.Tables().Events)
	if err != nil {
		return err
	}
	p := dynstore.NewPoller(st.streams, dynstore.PollerConfig{StreamARN: arn, Logger: logger})
	return p.Run(ctx, svc.Dispatch)
}
