package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/signalforgo/signal/pkg/console"
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
// pages (devPages), and runs the app's subscribers in-process from the
// store's change feed (the embedded and Postgres stores) or from the
// table's stream (DynamoDB), until ctx ends.
func (k *kit) dev(ctx context.Context, o devOptions) error {
	out, logger := k.stdout, k.logger
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
	cfg := k.app.Config(st.store, true)
	cfg.Logger = logger
	svc, err := signal.New(cfg)
	if err != nil {
		return err
	}
	// The same router as the Lambda functions, with the pages on the paths
	// no API route has.
	api, err := httpapi.New(httpapi.Config{Service: svc, Routes: httpapi.AllRoutes, Logger: logger, Pages: devPages(k.o), AppName: k.app.Name})
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
	k.greet(url, st.desc)

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
	fmt.Fprintf(out, "%s dev: stopped\n", k.o.name)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// devPages is what dev serves on the GET and HEAD paths no API route
// matches: the console under console.Prefix, and the Pages option's
// handler on every other path (without one, "/" leads to the console).
func devPages(o *options) http.Handler { return console.With(o.pages) }
