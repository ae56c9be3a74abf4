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
	"github.com/signalforgo/signal/pkg/httpapi"
	"github.com/signalforgo/signal/pkg/signal"
)

type devOptions struct {
	store storeOptions
	addr  string
	// allowHosts and allowOrigins widen the local guard (-allow-host,
	// -allow-origin).
	allowHosts, allowOrigins []string
	// insecureDevAuth (-insecure-dev-auth) takes the caller from the
	// httpapi.InsecurePrincipalHeader of each request.
	insecureDevAuth bool
}

// dev serves the HTTP API (the router the Lambda functions use) and the
// pages (devPages), and runs the app's subscribers in-process from what
// the store appends (openedStore.project: the change feed of the embedded
// and Postgres stores, the table's stream on DynamoDB), until ctx ends.
func (k *kit) dev(ctx context.Context, o devOptions) error {
	st, err := openStore(ctx, o.store)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.prepare(ctx); err != nil {
		return err
	}
	cfg := k.app.Config(st.store, true)
	cfg.Logger = k.logger
	svc, err := signal.New(cfg)
	if err != nil {
		return err
	}
	srv, ln, err := k.devServer(svc, o)
	if err != nil {
		return err
	}
	k.greet("http://"+ln.Addr().String(), st.desc, o.insecureDevAuth)
	err = serveAndProject(ctx, srv, ln, func(ctx context.Context) error { return st.project(ctx, svc, k.logger) })
	fmt.Fprintf(k.stdout, "%s dev: stopped\n", k.o.name)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// devServer is the server dev runs, and the listener it serves on at
// o.addr: the same router as the Lambda functions, with the pages on the
// paths no API route has, behind the local guard; with
// o.insecureDevAuth, the caller is taken from the insecure dev header
// between the two (the guard still refuses other sites' pages first).
func (k *kit) devServer(svc *signal.Service, o devOptions) (*http.Server, net.Listener, error) {
	logger := k.logger
	api, err := httpapi.New(httpapi.Config{Service: svc, Routes: httpapi.AllRoutes, Logger: logger, Pages: devPages(k.o), AppName: k.app.Name})
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, nil, err
	}
	// What net/http refuses before the router runs (an invalid percent
	// escape, say) is answered with the API's JSON error too.
	ln = httpapi.Listener(ln)
	var served http.Handler = api
	if o.insecureDevAuth {
		served = httpapi.InsecureDevPrincipal(api, logger)
	}
	// Any web page the developer opens could otherwise write to the local
	// store (a cross-site form post) and read it (DNS rebinding).
	guarded := httpapi.LocalGuard(served, httpapi.LocalOptions{
		Addr: ln.Addr().String(), AllowHosts: o.allowHosts, AllowOrigins: o.allowOrigins, Logger: logger,
	})
	srv := &http.Server{Handler: guarded, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	return srv, ln, nil
}

// serveAndProject serves srv on ln and runs project beside it until ctx
// ends, the server stops or project fails; then it shuts the server down
// (waiting up to 5 s) and waits for project to return. The error is
// project's when it failed (context.Canceled aside), else Serve's
// (http.ErrServerClosed after a shutdown), else nil.
func serveAndProject(ctx context.Context, srv *http.Server, ln net.Listener, project func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	projectorErr := make(chan error, 1)
	wg.Go(func() {
		if err := project(ctx); err != nil && !errors.Is(err, context.Canceled) {
			projectorErr <- err
			cancel()
		}
	})
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	var err error
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
	return err
}

// devPages is what dev serves on the GET and HEAD paths no API route
// matches: the console under console.Prefix, and the Pages option's
// handler on every other path (without one, "/" leads to the console).
func devPages(o *options) http.Handler { return console.With(o.pages) }
