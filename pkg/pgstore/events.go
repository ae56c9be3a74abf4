package pgstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signalforgo/signal/pkg/signal"
)

// commitColumns are the columns a Commit is read from, in scanCommit's order.
const commitColumns = `version, command_id, fingerprint, correlation_id, causation_id, actor, recorded_at, final, event_ids, event_names, schema_versions, payloads`

// appendSQL writes a commit if, and only if, it continues its stream: it
// is the stream's first commit (version 1), or the commit before it ends
// at version-1 and is not final. Two writers at the same version collide
// on the primary key; ON CONFLICT DO NOTHING makes the loser wait for the
// winner's transaction and then insert nothing, without an error. Every
// value is a bound parameter.
//
// No lock is needed besides the primary key's: a commit can only be
// written after a commit that ends right before it (or at version 1),
// and every writer continuing from that commit wants the same key, so at
// most one succeeds; a final commit has no successor because the
// condition refuses one. The condition reads committed rows only, so a
// writer that could not have seen the commit before its own (it was not
// committed yet) is refused rather than let through.
const appendSQL = `
INSERT INTO signal.events (stream_type, stream_id, version, last_version, command_id, correlation_id,
	causation_id, recorded_at, final, event_ids, event_names, schema_versions, payloads, fingerprint, actor)
SELECT $1::text, $2::text, $3::bigint, $4::bigint, $5::text, $6::text,
	$7::text, $8::timestamptz, $9::boolean, $10::text[], $11::text[], $12::integer[], $13::bytea[], $14::text, $15::text
WHERE $3::bigint = 1 OR EXISTS (
	SELECT FROM (
		SELECT p.last_version, p.final FROM signal.events p
		WHERE p.stream_type = $1::text AND p.stream_id = $2::text AND p.version < $3::bigint
		ORDER BY p.version DESC LIMIT 1
	) prev
	WHERE prev.last_version = $3::bigint - 1 AND NOT prev.final)
ON CONFLICT ON CONSTRAINT events_pkey DO NOTHING`

// diagnoseSQL reads the commit at or before a version: what a refused
// append collided with, or continued from.
const diagnoseSQL = `SELECT last_version, ` + commitColumns + ` FROM signal.events
WHERE stream_type = $1 AND stream_id = $2 AND version <= $3
ORDER BY version DESC LIMIT 1`

// Append implements signal.Store. A successful append is one statement,
// its own transaction: one round trip. A refused one reads the commit it
// collided with in a second statement, so its conflict
// (signal.AppendConflict) carries the stored commit at c.Version.
//
// Besides the contract's outcomes (signal.ValidateCommit's refusals
// among them, which keep out every string PostgreSQL text cannot hold) it
// returns ErrInvalid for a commit that would leave a gap or start inside
// another commit, and for a schema version outside PostgreSQL's integer.
func (s *Store) Append(ctx context.Context, c signal.Commit) error {
	const op = "pgstore.Append"
	if err := s.checkOpen(op, ctx); err != nil {
		return err
	}
	// ValidateCommit refuses every string PostgreSQL text cannot hold
	// (ids, the fingerprint and the actor are valid UTF-8 without control
	// characters, names are ASCII), so only the schema version's range is
	// this store's own check.
	if err := signal.ValidateCommit(op, &c); err != nil {
		return err
	}
	n := len(c.Events)
	ids, names := make([]string, n), make([]string, n)
	schemas, payloads := make([]int32, n), make([][]byte, n)
	for i := range c.Events {
		e := &c.Events[i]
		if err := checkInt32(op, c.Stream, "schema version", e.SchemaVersion); err != nil {
			return err
		}
		ids[i], names[i], schemas[i], payloads[i] = e.ID, e.Name, int32(e.SchemaVersion), e.Data
	}
	last := c.LastVersion()

	// A refusal whose cause has gone by the time it is diagnosed (the
	// commit before c was committed in between) is tried again; twice is
	// plenty, as it needs a caller appending after a commit it could
	// not yet have read.
	for attempt := 0; ; attempt++ {
		tag, err := s.pool.Exec(ctx, appendSQL, c.Stream.Type, c.Stream.ID, c.Version, last,
			c.CommandID, c.CorrelationID, c.CausationID, c.Time, c.Final, ids, names, schemas, payloads, c.Fingerprint, c.Actor)
		if err != nil {
			return mapErr(op, c.Stream, err)
		}
		if tag.RowsAffected() == 1 {
			s.appended()
			return nil
		}
		err = s.refusal(ctx, op, &c)
		if err != nil || attempt == 2 {
			if err == nil {
				err = signal.Errorf(signal.KindUnavailable, op, "%s: version %d could not be appended; try again", c.Stream, c.Version)
			}
			return err
		}
	}
}

// refusal explains why appendSQL wrote nothing with
// signal.DecideAppend, from the commit at or before c.Version: versions
// are contiguous, so its end stands for the stream's as far as c is
// concerned. nil means no cause is left: try again.
func (s *Store) refusal(ctx context.Context, op string, c *signal.Commit) error {
	var at signal.AppendPoint
	var found signal.Commit
	row := s.pool.QueryRow(ctx, diagnoseSQL, c.Stream.Type, c.Stream.ID, c.Version)
	err := scanCommit(row, &found, &at.Last)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// No commit at or before c.Version: the stream is empty to c.
	case err != nil:
		return mapErr(op, c.Stream, err)
	default:
		found.Stream = c.Stream
		at.Closed = found.Final
		if found.Version == c.Version {
			at.Existing = &found
		}
	}
	return signal.DecideAppend(op, c, at)
}

// Load pages: the first page holds up to loadPageFirst commits; a page
// that came back full and small doubles the next, up to loadPageMax, and
// one over loadPageBytes halves it, so a page holds about a megabyte or
// less whatever the commits' sizes.
const (
	loadPageFirst = 128
	loadPageMin   = 8
	loadPageMax   = 4096
	loadPageBytes = 1 << 20
)

const loadSQL = `SELECT ` + commitColumns + ` FROM signal.events
WHERE stream_type = $1 AND stream_id = $2 AND version > $3
ORDER BY version LIMIT $4`

// Load implements signal.Store. It reads in pages, each one query whose
// rows are all read, and its connection returned to the pool, before any
// commit is yielded: the caller may append (or do anything else) inside
// its loop, and breaking out of it holds nothing. Commits never change
// once written, so the pages join up into a consistent history; commits
// appended while the loop runs may be yielded too.
//
// A stream whose type or id PostgreSQL text cannot hold has no commits,
// and yields nothing.
func (s *Store) Load(ctx context.Context, id signal.StreamID, after int64) iter.Seq2[signal.Commit, error] {
	return func(yield func(signal.Commit, error) bool) {
		const op = "pgstore.Load"
		if err := s.checkOpen(op, ctx); err != nil {
			yield(signal.Commit{}, err)
			return
		}
		if !signal.Readable(id) || after == math.MaxInt64 {
			return
		}
		// A local cursor: the sequence may be ranged over more than once.
		from, limit := after, loadPageFirst
		for {
			page, size, err := s.loadPage(ctx, id, from, limit)
			if err != nil {
				yield(signal.Commit{}, mapErr(op, id, err))
				return
			}
			for _, c := range page {
				if !yield(c, nil) {
					return
				}
			}
			if len(page) < limit {
				return
			}
			from = page[len(page)-1].Version
			switch {
			case size > loadPageBytes:
				limit = max(limit/2, loadPageMin)
			case size < loadPageBytes/2:
				limit = min(limit*2, loadPageMax)
			}
		}
	}
}

// loadPage reads up to limit commits after version `after` and the
// number of payload bytes they hold.
func (s *Store) loadPage(ctx context.Context, id signal.StreamID, after int64, limit int) ([]signal.Commit, int, error) {
	rows, err := s.pool.Query(ctx, loadSQL, id.Type, id.ID, after, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var page []signal.Commit
	size := 0
	for rows.Next() {
		var c signal.Commit
		if err := scanCommit(rows, &c); err != nil {
			return nil, 0, err
		}
		c.Stream = id
		for i := range c.Events {
			size += len(c.Events[i].Data) + 64
		}
		page = append(page, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return page, size, nil
}

// scanCommit reads a row of (extra columns..., commitColumns...) into c;
// extra receives the leading columns. c.Stream is the caller's to set (or
// one of the extras). A row that does not make a commit is a corrupt record.
func scanCommit(row pgx.Row, c *signal.Commit, extra ...any) error {
	var (
		at       time.Time
		ids      []string
		names    []string
		schemas  []int32
		payloads [][]byte
	)
	dest := append(extra, &c.Version, &c.CommandID, &c.Fingerprint, &c.CorrelationID, &c.CausationID, &c.Actor, &at, &c.Final,
		&ids, &names, &schemas, &payloads)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	if len(names) != len(ids) || len(schemas) != len(ids) || len(payloads) != len(ids) || len(ids) == 0 {
		return corrupt("pgstore.Read", c.Stream, fmt.Errorf("commit at version %d has %d ids, %d names, %d schema versions and %d payloads",
			c.Version, len(ids), len(names), len(schemas), len(payloads)))
	}
	c.Time = at.UTC()
	c.Events = make([]signal.RawEvent, len(ids))
	for i := range ids {
		c.Events[i] = signal.RawEvent{ID: ids[i], Name: names[i], SchemaVersion: int(schemas[i]), Data: payloads[i]}
	}
	return nil
}
