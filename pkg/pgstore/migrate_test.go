package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signalforgo/signal/internal/pgtest"
	"github.com/signalforgo/signal/pkg/pgstore"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

func migrationRows(t *testing.T, st *pgstore.Store) []int {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `SELECT version FROM signal.schema_migrations ORDER BY version`)
	must(t, err)
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		must(t, rows.Scan(&v))
		out = append(out, v)
	}
	must(t, rows.Err())
	return out
}

// TestMigrateIdempotent: opening a database again, or many times at once
// (instances of a deployment starting together), applies each migration
// exactly once and keeps the data.
func TestMigrateIdempotent(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()

	// Eight processes open a new database at the same moment.
	stores := openConcurrently(t, url, 8)
	want := pgstore.SchemaVersion()
	if want < 1 {
		t.Fatalf("SchemaVersion() = %d", want)
	}
	if got := migrationRows(t, stores[0]); len(got) != want || got[len(got)-1] != want {
		t.Fatalf("after concurrent Opens schema_migrations holds %v, want 1..%d once each", got, want)
	}

	id := signal.StreamID{Type: "cart", ID: "kept"}
	c := storetest.Commit(id, 1, 2)
	storetest.MustAppend(t, stores[3], c)
	must(t, stores[5].SaveSnapshot(ctx, signal.Snapshot{Stream: id, Version: 2, Data: []byte(`{}`)}))
	for _, s := range stores {
		s.Close()
	}

	// Open again: nothing to apply, nothing lost.
	again := openURL(t, url)
	if got := migrationRows(t, again); len(got) != want {
		t.Fatalf("after a second Open schema_migrations holds %v", got)
	}
	if got := storetest.LoadAll(t, again, id, 0); len(got) != 1 || storetest.DiffCommit(c, got[0]) != "" {
		t.Errorf("after a second Open the stream holds %+v", got)
	}
	if _, err := again.LoadSnapshot(ctx, id); err != nil {
		t.Errorf("after a second Open LoadSnapshot = %v", err)
	}
	must(t, again.Migrate(ctx))
	must(t, again.Migrate(ctx))

	// An up-to-date schema needs no DDL: a role that may only read and
	// write the tables can open it.
	if os.Getenv("DATABASE_URL") != "" {
		return // creating a role on someone else's server is not ours to do
	}
	checkOpensWithoutDDLRights(t, url, again.Pool(), id)
}

// openConcurrently opens n stores on url at the same moment, the way
// instances of a deployment start together, and fails the test if any
// Open fails. The stores are closed when the test ends (Close may also
// be called before).
func openConcurrently(t *testing.T, url string, n int) []*pgstore.Store {
	t.Helper()
	stores := make([]*pgstore.Store, n)
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = pgstore.Open(context.Background(), url) })
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			t.Cleanup(func() { s.Close() })
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
	}
	return stores
}

// checkOpensWithoutDDLRights: a role granted only USAGE on the schema and
// SELECT, INSERT, UPDATE, DELETE on its tables (created through admin,
// and dropped when the test ends) can Migrate an up-to-date schema and
// append to stream id.
func checkOpensWithoutDDLRights(t *testing.T, url string, admin *pgxpool.Pool, id signal.StreamID) {
	t.Helper()
	ctx := context.Background()
	for _, stmt := range []string{
		`CREATE ROLE pgstore_app LOGIN`,
		`GRANT USAGE ON SCHEMA signal TO pgstore_app`,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA signal TO pgstore_app`,
		`REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
	} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			if strings.Contains(err.Error(), "already exists") {
				continue
			}
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), `DROP OWNED BY pgstore_app`)
	})
	cfg, err := pgxpool.ParseConfig(url)
	must(t, err)
	cfg.ConnConfig.User = "pgstore_app"
	app, err := pgxpool.NewWithConfig(ctx, cfg)
	must(t, err)
	defer app.Close()
	st, err := pgstore.New(app)
	must(t, err)
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate by a role without DDL rights on an up-to-date schema = %v", err)
	}
	storetest.MustAppend(t, st, storetest.Commit(id, 3, 1))
}

// TestOpenErrors: what Open, New and Migrate refuse.
func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := pgstore.Open(ctx, "postgres://u:secret@[::1"); !errors.Is(err, signal.ErrInvalid) || strings.Contains(signal.PublicMessage(err), "secret") {
		t.Errorf("Open of a malformed URL = %v, want ErrInvalid without the password in its message", err)
	}
	// Nothing listens on port 1.
	start := time.Now()
	_, err := pgstore.Open(ctx, "postgres://u@127.0.0.1:1/db?connect_timeout=2")
	if !errors.Is(err, signal.ErrUnavailable) {
		t.Errorf("Open of an unreachable server = %v (kind %s), want ErrUnavailable", err, signal.KindOf(err))
	}
	t.Logf("unreachable: %v after %v", err, time.Since(start).Round(time.Millisecond))
	if _, err := pgstore.New(nil); !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("New(nil) = %v, want ErrInvalid", err)
	}

	// Before Migrate, using the store says what is missing.
	pool, err := pgxpool.New(ctx, pgtest.URL(t))
	must(t, err)
	defer pool.Close()
	st, err := pgstore.New(pool)
	must(t, err)
	defer st.Close()
	err = st.Append(ctx, storetest.Commit(signal.StreamID{Type: "cart", ID: "x"}, 1, 1))
	if !strings.Contains(fmt.Sprint(err), "Migrate") {
		t.Errorf("Append before Migrate = %v, want an error naming Migrate", err)
	}

	// A database that is not UTF8.
	latin1 := pgtest.URL(t)
	conn := connect(t, latin1)
	var db string
	must(t, conn.QueryRow(ctx, `SELECT current_database()`).Scan(&db))
	conn.Close(ctx)
	admin := connect(t, strings.Replace(latin1, "/"+db, "/postgres", 1))
	_, err = admin.Exec(ctx, `DROP DATABASE `+db+` WITH (FORCE)`)
	must(t, err)
	_, err = admin.Exec(ctx, `CREATE DATABASE `+db+` TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'`)
	must(t, err)
	if _, err := pgstore.Open(ctx, latin1); err == nil || !strings.Contains(err.Error(), "UTF8") {
		t.Errorf("Open of a LATIN1 database = %v, want an error asking for UTF8", err)
	}
}

// TestRestoredIntoAnotherCluster: an events table holding transaction ids
// the server has not reached (a logical copy from another cluster) is
// refused, since new commits would get positions below the old ones.
func TestRestoredIntoAnotherCluster(t *testing.T) {
	url := pgtest.URL(t)
	st := openURL(t, url)
	ctx := context.Background()
	storetest.MustAppend(t, st, storetest.Commit(signal.StreamID{Type: "cart", ID: "old"}, 1, 1))
	_, err := st.Pool().Exec(ctx, `UPDATE signal.events SET xid = '99999999999'::xid8`)
	must(t, err)
	_, err = pgstore.Open(ctx, url)
	if err == nil || !strings.Contains(err.Error(), "another cluster") {
		t.Fatalf("Open of a table with xids from the future = %v, want a refusal explaining it", err)
	}
	t.Logf("refused: %v", err)
}

// TestClose: Close wakes WaitForChange, and every later call fails with
// ErrUnavailable (storetest.RunAfterClose), Migrate included.
func TestClose(t *testing.T) {
	var st *pgstore.Store
	storetest.RunAfterClose(t, func(t *testing.T) signal.Store { st = open(t); return st },
		func(s signal.Store) error { return s.(*pgstore.Store).Close() })
	ctx := context.Background()
	if err := st.Migrate(ctx); !errors.Is(err, signal.ErrUnavailable) {
		t.Errorf("Migrate after Close = %v, want ErrUnavailable", err)
	}

	// A store made with New leaves the caller's pool open.
	url := pgtest.URL(t)
	pool, err := pgxpool.New(ctx, url)
	must(t, err)
	defer pool.Close()
	s2, err := pgstore.New(pool)
	must(t, err)
	s2.Close()
	must(t, pool.Ping(ctx))
}

// TestServerGone: when the server ends the store's connections, calls
// fail with ErrUnavailable rather than an internal error, and the store
// recovers once connections can be made again.
func TestServerGone(t *testing.T) {
	url := pgtest.URL(t)
	st := openURL(t, url)
	ctx := context.Background()
	id := signal.StreamID{Type: "cart", ID: "gone"}
	storetest.MustAppend(t, st, storetest.Commit(id, 1, 1))
	var db string
	must(t, st.Pool().QueryRow(ctx, `SELECT current_database()`).Scan(&db))
	admin := connect(t, strings.Replace(url, "/"+db, "/postgres", 1))
	// Keep new connections out, then end the existing ones.
	_, err := admin.Exec(ctx, `ALTER DATABASE `+db+` ALLOW_CONNECTIONS false`)
	must(t, err)
	_, err = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, db)
	must(t, err)

	err = st.Append(ctx, storetest.Commit(id, 2, 1))
	if !errors.Is(err, signal.ErrUnavailable) {
		t.Errorf("Append with the server refusing connections = %v (kind %s), want ErrUnavailable", err, signal.KindOf(err))
	}
	var loadErr error
	for _, err := range st.Load(ctx, id, 0) {
		loadErr = err
	}
	if !errors.Is(loadErr, signal.ErrUnavailable) {
		t.Errorf("Load with the server refusing connections = %v, want ErrUnavailable", loadErr)
	}
	t.Logf("while refused: %v", err)

	// Let connections in again.
	_, err = admin.Exec(ctx, `ALTER DATABASE `+db+` ALLOW_CONNECTIONS true`)
	must(t, err)
	storetest.MustAppend(t, st, storetest.Commit(id, 2, 1))
	if got := storetest.LoadAll(t, st, id, 0); len(got) != 2 {
		t.Errorf("after recovery the stream has %d commits, want 2", len(got))
	}
}

// TestIsolationLevel: on a database whose sessions default to
// SERIALIZABLE, Open's pool still works in READ COMMITTED (racing
// appenders get conflicts, not serialization errors), and a pool made
// by the caller that keeps the default is refused by Migrate.
func TestIsolationLevel(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	conn := connect(t, url)
	var db string
	must(t, conn.QueryRow(ctx, `SELECT current_database()`).Scan(&db))
	_, err := conn.Exec(ctx, `ALTER DATABASE `+db+` SET default_transaction_isolation = 'serializable'`)
	must(t, err)

	st := openURL(t, url)
	id := signal.StreamID{Type: "cart", ID: "iso"}
	storetest.MustAppend(t, st, storetest.Commit(id, 1, 1))
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = st.Append(ctx, storetest.Commit(id, 2, 1)) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, signal.ErrConflict):
			t.Errorf("racing Append = %v, want nil or a conflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d racing appends at version 2 succeeded, want 1", won)
	}

	pool, err := pgxpool.New(ctx, url)
	must(t, err)
	defer pool.Close()
	raw, err := pgstore.New(pool)
	must(t, err)
	defer raw.Close()
	if err := raw.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "read committed") {
		t.Errorf("Migrate on a pool defaulting to serializable = %v, want a refusal naming read committed", err)
	}
}
