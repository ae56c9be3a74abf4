// Package pgstore is the PostgreSQL signal.Store of Signal for Go, on
// jackc/pgx/v5 and its pool. It implements signal.Store and every
// optional ability: signal.SnapshotStore, signal.CheckpointStore,
// signal.ViewStore and signal.ChangeFeed, and passes signal/storetest.
//
//	st, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"))
//	if err != nil { ... }
//	defer st.Close()
//	svc, err := signal.New(signal.Config{Store: st, Types: ...})
//
// Open parses a standard connection string (pool settings such as
// pool_max_conns go in it; see Open), connects and runs Migrate. New
// wraps a *pgxpool.Pool the caller already has. Every statement runs in
// READ COMMITTED, PostgreSQL's default isolation level: Open sets it on
// its sessions, and Migrate refuses a pool whose sessions default to
// another.
//
// PostgreSQL 13 or later is required (xid8, pg_current_xact_id); the
// tests run against 15.
//
// # Schema
//
// Everything lives in the schema "signal", created by Migrate from the
// versioned SQL files in migrations/ (embedded in the binary; applied
// once each, in one transaction under an advisory lock, recorded in
// signal.schema_migrations):
//
//	signal.events       one row per commit: PRIMARY KEY (stream_type, stream_id, version),
//	                    last_version, xid (xid8, UNIQUE: the feed position), command_id,
//	                    fingerprint ('' when none), correlation_id, causation_id,
//	                    actor ('' when none), recorded_at (timestamptz), final, and
//	                    the events as parallel arrays: event_ids text[], event_names
//	                    text[], schema_versions integer[], payloads bytea[]
//	signal.snapshots    PRIMARY KEY (stream_type, stream_id): version, schema_version,
//	                    data bytea, recorded_at
//	signal.checkpoints  PRIMARY KEY (subscriber, stream_type, stream_id): version
//	signal.views        PRIMARY KEY (name, key): version, data bytea
//
// Payloads are bytea, so they come back byte for byte (never parsed as
// JSON, invalid UTF-8 kept). Ids and names are text: PostgreSQL text
// holds any valid UTF-8 except NUL, which covers every id valid for
// signal.ValidateID; a command, correlation or causation id, actor, event
// id or name, subscriber or view name or key that is not valid UTF-8 or holds
// a NUL is refused with signal.ErrInvalid. The database's encoding must
// be UTF8 (Migrate checks). Times are timestamptz: kept to the
// microsecond and returned in UTC. Every value in every statement is a
// bound parameter; no input is ever part of SQL text.
//
// # Append
//
// An append is one INSERT ... SELECT ... WHERE ... ON CONFLICT DO
// NOTHING, its own transaction: one round trip. It writes the commit only
// if it is the stream's first (version 1) or the commit before it ends at
// Version-1 and is not final. Two writers at the same version want the
// same primary key: the second waits for the first's transaction and then
// writes nothing. A refused append reads the commit at or before its
// version in a second statement and reports why: a signal.AppendConflict
// with that commit in Existing, signal.ErrClosed after a final commit,
// signal.ErrInvalid for a version inside a commit or past a gap. This is
// race-free without locks besides the key's: every writer that continues
// a stream from a given commit wants the same key, so at most one
// succeeds, and a final commit has no successor because the condition
// refuses one.
//
// # The change feed never skips a commit
//
// A sequence (bigserial) would not do as the feed position: sequence
// values are handed out when a transaction inserts, not when it commits,
// so a reader can see position 11 committed while 10 is still in flight,
// move past 11, and never return 10 when it commits. The position of a
// commit here is instead the id of the transaction that wrote it
// (pg_current_xact_id(), a 64-bit xid8 that never wraps; one row per
// transaction, so it is unique), and Changes returns only commits whose
// xid is below pg_snapshot_xmin(pg_current_snapshot()): the oldest
// transaction still running when the reading statement took its
// snapshot (pg_current_snapshot returns the statement's own snapshot, the
// one its rows are read with). Every transaction below that bound has
// ended, and its commit is visible to the statement, so the set of
// commits below it is final; any commit yet to come belongs to a
// transaction that is running now (its xid is at or above the bound) or
// has not started writing (it will get a higher xid). So a reader that
// resumes after the last position it got finds every later commit.
// (Filtering rows by their own xid but ordering them by a sequence would
// not be enough: a transaction can take its xid before another and its
// sequence value after it.)
//
// The price is that a commit enters the feed only once every transaction
// that began writing before it has ended. Those are normally other
// appends, a millisecond or so from committing, and Changes waits for
// them (up to two seconds) when they hold back commits it can see, so a
// commit whose Append has returned is in the next Changes. A long-running
// write transaction anywhere on the server (xids are server-wide) delays
// the feed until it ends, and so does a prepared transaction (two-phase
// commit) left open: the feed is late then, never incomplete.
// Positions strictly increase along the feed but are not dense. The feed
// is in the order transactions began writing, which keeps each stream's
// commits in version order: a commit can only be written once the one
// before it has committed, so its transaction's id is higher.
//
// WaitForChange is woken at once by this process's appends and by
// LISTEN/NOTIFY from other processes (one dedicated connection per store,
// opened on first use, reconnecting with backoff), and polls as a
// fallback (every second while LISTEN works, every 100ms while it does
// not, every few milliseconds while a visible commit is held back). The
// NOTIFY is sent after the append commits, not inside the append's
// transaction (PostgreSQL serialises the commits of notifying
// transactions on a global lock), and at most one every 2ms per store,
// so a busy writer sends one notification per burst rather than one
// statement more per append.
//
// # Restoring into another cluster
//
// Positions are transaction ids of the server that wrote the commits.
// A physical copy (a replica, a base backup, pg_upgrade) keeps the
// server's transaction counter and needs nothing. A logical copy
// (pg_dump and restore, logical replication) into a new cluster does not:
// its counter starts low, so new commits would get positions below the
// old ones. Migrate (and so Open) refuses such a database with an error
// saying so. Before using it, advance the new cluster's counter past the
// highest xid in signal.events, e.g. with pg_resetwal -x on the stopped
// cluster, and restart the feed's readers from 0 (their checkpoints make
// the redelivery harmless).
//
// # Other operations
//
// Load reads a stream in pages (growing from 128 commits while pages are
// small), each page one query whose rows are read before any commit is
// yielded, so no connection is held while the caller's loop runs.
// SaveSnapshot is an upsert whose update applies only WHERE
// excluded.version > the stored version. SaveCheckpoint is one
// compare-and-set statement. CommitViews is one transaction (checkpoint
// compare-and-set, then each document's conditional insert, update or
// delete, sent in one batch) rolled back with signal.ErrConflict if any
// of them changes no row. DropView deletes in one transaction.
//
// # Errors
//
// Server and driver errors become *signal.Error: connection failures,
// timeouts, shutdowns and aborted transactions are signal.ErrUnavailable
// (an Append's outcome is then unknown, as the contract says); other
// server errors are signal.ErrInternal. The server's text is kept in Err,
// for logs, never in Message.
package pgstore
