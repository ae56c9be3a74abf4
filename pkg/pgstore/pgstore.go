package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signalforgo/signal/pkg/signal"
)

// Store is a signal.Store with every optional ability, kept in a
// PostgreSQL database. It is safe for concurrent use; make one per
// process and database, and Close it when done.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool // Open made the pool, so Close closes it

	closed atomic.Bool
	// ctx ends when Close is called; it bounds the background goroutines.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards changed and listenerStarted.
	mu sync.Mutex
	// changed is closed when a commit may have been added to the feed (an
	// Append of this process, a notification from another, the listener
	// reconnecting) and on Close; nil while nobody waits.
	changed         chan struct{}
	listenerStarted bool

	// notify asks the notifier goroutine to send one NOTIFY; its buffer of
	// one coalesces a burst of appends into one notification.
	notify chan struct{}

	// listening is true while the LISTEN connection is up.
	listening atomic.Bool
}

// Open connects to the database at databaseURL, creates or updates the
// schema (Migrate) and returns the store. databaseURL is a standard
// PostgreSQL connection string, as a URL or as keyword/value pairs, the
// form of DATABASE_URL:
//
//	postgres://user:password@host:5432/dbname?sslmode=require&pool_max_conns=20
//
// Besides libpq's parameters (sslmode, connect_timeout, application_name,
// ...; a password can also come from PGPASSWORD or ~/.pgpass) it takes
// the pool's:
//
//	pool_max_conns                 most connections (default: 4 or the number of CPUs, if more)
//	pool_min_conns                 connections kept open when idle (default 0)
//	pool_max_conn_lifetime         a connection is replaced after this long (default 1h)
//	pool_max_conn_lifetime_jitter  spreads those replacements out (default 0)
//	pool_max_conn_idle_time        an idle connection is closed after this long (default 30m)
//	pool_health_check_period       how often idle connections are checked (default 1m)
//
// Behind PgBouncer in transaction mode add default_query_exec_mode=exec
// (prepared statements do not survive between transactions there);
// LISTEN does not work through it either, so WaitForChange relies on its
// polling fallback.
//
// Errors: signal.ErrInvalid when databaseURL cannot be parsed;
// signal.ErrUnavailable when the server cannot be reached; the errors of
// Migrate.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	const op = "pgstore.Open"
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// The parser's message can quote the connection string, password
		// included: it goes in Err (for logs), not in Message.
		return nil, &signal.Error{Kind: signal.KindInvalid, Op: op, Message: "the database URL cannot be parsed", Err: err}
	}
	// The statements are written for READ COMMITTED (each sees what
	// committed before it began; a writer that loses a race on a key
	// waits and is told, rather than failing with a serialization
	// error), whatever the server's or the role's default.
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, &signal.Error{Kind: signal.KindUnavailable, Op: op, Message: "cannot create the connection pool", Err: err}
	}
	s := newStore(pool, true)
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// New returns a store on a pool the caller made and keeps: Close does not
// close it. New does not touch the database; call Migrate before the
// first use (Open does both). The pool's sessions must use the READ
// COMMITTED isolation level, PostgreSQL's default (Migrate checks).
func New(pool *pgxpool.Pool) (*Store, error) {
	if pool == nil {
		return nil, signal.Errorf(signal.KindInvalid, "pgstore.New", "the pool is nil")
	}
	return newStore(pool, false), nil
}

func newStore(pool *pgxpool.Pool, own bool) *Store {
	s := &Store{pool: pool, ownPool: own, notify: make(chan struct{}, 1)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.notifier()
	return s
}

// Pool returns the connection pool the store uses.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close stops the store's background work (the LISTEN connection and the
// notifier) and, if Open made the pool, closes it, waiting for the
// queries in progress. Calls waiting in WaitForChange return
// signal.ErrUnavailable, and so do later calls of any method. Closing
// twice is fine. The error is always nil (pgxpool reports none); Close
// returns one so a Store is an io.Closer, as the other stores are.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.cancel()
	s.mu.Lock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	s.mu.Unlock()
	s.wg.Wait()
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

// ---- errors ----

// checkOpen is the error of a call made after Close, or with a context
// that has already ended.
func (s *Store) checkOpen(op string, ctx context.Context) error {
	if s.closed.Load() {
		return &signal.Error{Kind: signal.KindUnavailable, Op: op, Message: "the store is closed"}
	}
	if err := ctx.Err(); err != nil {
		return &signal.Error{Kind: signal.KindUnavailable, Op: op, Message: "the context ended", Err: err}
	}
	return nil
}

// mapErr gives an error from pgx a signal Kind. Errors that are already
// typed come back as they are. The server's and the driver's text goes in
// Err only: it is for logs, never for API clients.
func mapErr(op string, stream signal.StreamID, err error) error {
	if err == nil {
		return nil
	}
	var se *signal.Error
	if errors.As(err, &se) {
		return err
	}
	e := &signal.Error{Kind: signal.KindUnavailable, Op: op, Stream: stream, Err: err}
	var pe *pgconn.PgError
	var ce2 *pgconn.ConnectError
	var scanErr pgx.ScanArgError
	switch {
	case errors.As(err, &scanErr):
		e.Kind, e.Message = signal.KindInternal, "a stored record is malformed"
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		e.Message = "the context ended"
	case errors.As(err, &ce2):
		// Whatever the server said (too many connections, starting up,
		// not accepting connections, authentication), no connection.
		e.Message = "cannot connect to the database"
	case errors.As(err, &pe):
		e.Kind, e.Message = pgKind(pe)
	case pgconn.Timeout(err):
		e.Message = "the database timed out"
	default:
		// Not the server's answer: the connection could not be made or
		// broke (network, closed pool, server gone). Whether a write in
		// flight landed is unknown.
		e.Message = "the database is unavailable"
	}
	return e
}

// pgKind classifies a server error by its SQLSTATE.
func pgKind(pe *pgconn.PgError) (signal.Kind, string) {
	switch code := pe.Code; {
	case code == "22021" || code == "22P05": // character_not_in_repertoire, untranslatable_character
		return signal.KindInvalid, "a string is not valid UTF-8 or holds a NUL character"
	case code == "54000": // program_limit_exceeded: an index row too large
		return signal.KindInvalid, "a name or key is too long"
	case code == "42P01" || code == "3F000": // undefined_table, invalid_schema_name
		return signal.KindInternal, "the pgstore schema is missing: call Migrate (Open does)"
	case code == "57014": // query_canceled (statement_timeout)
		return signal.KindUnavailable, "the database timed out"
	case code == "40001" || code == "40P01" || code == "55P03": // serialization_failure, deadlock_detected, lock_not_available
		return signal.KindUnavailable, "the database aborted the transaction; try again"
	case strings.HasPrefix(code, "08"), // connection_exception
		strings.HasPrefix(code, "53"), // insufficient_resources (too many connections, disk full)
		strings.HasPrefix(code, "57"), // operator_intervention (shutdown, crash recovery)
		strings.HasPrefix(code, "58"), // system_error (I/O)
		code == "25006":               // read_only_sql_transaction: a standby, e.g. during a failover
		return signal.KindUnavailable, "the database is unavailable"
	default:
		return signal.KindInternal, "database error"
	}
}

func corrupt(op string, stream signal.StreamID, err error) error {
	return &signal.Error{Kind: signal.KindInternal, Op: op, Stream: stream, Message: "a stored record is malformed", Err: err}
}

// storable reports whether s can be kept in a text column: PostgreSQL
// text holds valid UTF-8 without NUL characters. Writes never meet one
// that is not (the signal.Validate checks refuse them first); a read or
// DropView naming one matches nothing, so it skips the query.
func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

func checkInt32(op string, stream signal.StreamID, what string, v int) error {
	if v < -1<<31 || v > 1<<31-1 {
		return &signal.Error{Kind: signal.KindInvalid, Op: op, Stream: stream, Message: fmt.Sprintf("%s %d is out of range", what, v)}
	}
	return nil
}

var (
	_ signal.Store           = (*Store)(nil)
	_ signal.SnapshotStore   = (*Store)(nil)
	_ signal.CheckpointStore = (*Store)(nil)
	_ signal.ViewStore       = (*Store)(nil)
	_ signal.ChangeFeed      = (*Store)(nil)
)
