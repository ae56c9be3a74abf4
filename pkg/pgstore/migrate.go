package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/signalforgo/signal/pkg/signal"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLockKey is the pg_advisory_xact_lock key that serialises
// migrations of one database ("pgstore" in ASCII). Another program
// using the same key would only wait for, or be waited for by, a
// migration.
const migrateLockKey int64 = 0x70_67_73_74_6f_72_65

// migration is one file of migrations/: NNNN_name.sql, applied in the
// order of NNNN.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", name)
		}
		b, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: rest, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("two migrations numbered %d", out[i].version)
		}
	}
	return out, nil
}

// SchemaVersion is the number of the latest migration this package
// holds: the version Migrate brings a database to.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// Migrate creates the schema "signal" and its tables, or brings them up
// to date, and checks that the database suits the store. Open calls it;
// call it yourself after New.
//
// The migrations are the SQL files of migrations/, embedded in the
// binary. Each applied one is recorded in signal.schema_migrations. All
// pending ones are applied in one transaction that first takes
// pg_advisory_xact_lock(migrateLockKey), so processes starting together
// (a deployment of many instances) apply each migration exactly once and
// the others wait and then find nothing to do; a migration that fails
// leaves the database as it was. When the schema is already up to date
// Migrate only reads (no lock, no DDL), so a role without the CREATE
// privilege can run the store once an administrator has migrated it.
//
// A database that a newer version of this package migrated further is
// accepted: migrations only add.
//
// Checks: the database encoding must be UTF8 (or SQL_ASCII), sessions
// must default to READ COMMITTED, and the transaction ids of the events
// table must be below the server's current one; see the package
// documentation, "Restoring into another cluster".
func (s *Store) Migrate(ctx context.Context) error {
	const op = "pgstore.Migrate"
	if err := s.checkOpen(op, ctx); err != nil {
		return err
	}
	ms, err := migrations()
	if err != nil {
		return &signal.Error{Kind: signal.KindInternal, Op: op, Message: "the embedded migrations are malformed", Err: err}
	}
	pending, err := s.pendingMigrations(ctx, ms)
	if err != nil {
		return mapErr(op, signal.StreamID{}, err)
	}
	if len(pending) > 0 {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey); err != nil {
				return err
			}
			if err := checkEncoding(ctx, tx); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS signal`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS signal.schema_migrations (
				version    integer     PRIMARY KEY,
				name       text        NOT NULL,
				applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				return err
			}
			// Under the lock: another process may have applied them
			// while this one waited.
			applied, err := appliedMigrations(ctx, tx)
			if err != nil {
				return err
			}
			for _, m := range ms {
				if applied[m.version] {
					continue
				}
				if _, err := tx.Exec(ctx, m.sql); err != nil {
					return &signal.Error{Kind: signal.KindInternal, Op: op,
						Message: fmt.Sprintf("migration %04d_%s failed", m.version, m.name), Err: err}
				}
				if _, err := tx.Exec(ctx, `INSERT INTO signal.schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return mapErr(op, signal.StreamID{}, err)
		}
	} else if err := checkEncoding(ctx, s.pool); err != nil {
		return mapErr(op, signal.StreamID{}, err)
	}
	return mapErr(op, signal.StreamID{}, s.checkXids(ctx))
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// pendingMigrations returns the migrations not yet recorded, all of them
// when the schema does not exist yet.
func (s *Store) pendingMigrations(ctx context.Context, ms []migration) ([]migration, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('signal.schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return ms, nil
	}
	applied, err := appliedMigrations(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	var pending []migration
	for _, m := range ms {
		if !applied[m.version] {
			pending = append(pending, m)
		}
	}
	return pending, nil
}

func appliedMigrations(ctx context.Context, q querier) (map[int]bool, error) {
	rows, err := q.Query(ctx, `SELECT version FROM signal.schema_migrations`)
	if err != nil {
		return nil, err
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	applied := make(map[int]bool, len(versions))
	for _, v := range versions {
		applied[int(v)] = true
	}
	return applied, nil
}

// checkEncoding refuses databases whose encoding cannot hold every
// Unicode id (ids would fail to convert, or compare differently), and
// sessions whose default isolation level is not READ COMMITTED, which
// the statements are written for.
func checkEncoding(ctx context.Context, q querier) error {
	var enc, iso string
	if err := q.QueryRow(ctx, `SELECT pg_encoding_to_char(encoding), current_setting('default_transaction_isolation')
		FROM pg_database WHERE datname = current_database()`).Scan(&enc, &iso); err != nil {
		return err
	}
	if enc != "UTF8" && enc != "SQL_ASCII" {
		return signal.Errorf(signal.KindInternal, "pgstore.Migrate",
			"the database has encoding %s; pgstore needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)", enc)
	}
	if iso != "read committed" {
		return signal.Errorf(signal.KindInternal, "pgstore.Migrate",
			"the sessions' default isolation level is %s; pgstore needs read committed (set default_transaction_isolation in the pool's RuntimeParams; Open does)", iso)
	}
	return nil
}

// checkXids refuses an events table whose transaction ids are not below
// the server's next one: it was restored into another cluster, whose new
// commits would get positions below the old ones (and could collide).
func (s *Store) checkXids(ctx context.Context) error {
	var maxXid, cur uint64
	var has bool
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(max(xid), '0'::xid8), max(xid) IS NOT NULL, pg_snapshot_xmax(pg_current_snapshot()) FROM signal.events`).
		Scan(&maxXid, &has, &cur)
	if err != nil {
		return err
	}
	if has && maxXid >= cur {
		return signal.Errorf(signal.KindInternal, "pgstore.Migrate",
			"signal.events holds transaction id %d, but this server is only at %d: the table was copied from another cluster; "+
				"advance this cluster's transaction ids past it first (see the pgstore documentation)", maxXid, cur)
	}
	return nil
}
