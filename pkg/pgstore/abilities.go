package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/signalforgo/signal/pkg/signal"
)

// ---- snapshots ----

// LoadSnapshot implements signal.SnapshotStore.
func (s *Store) LoadSnapshot(ctx context.Context, id signal.StreamID) (signal.Snapshot, error) {
	const op = "pgstore.LoadSnapshot"
	if err := s.checkOpen(op, ctx); err != nil {
		return signal.Snapshot{}, err
	}
	notFound := signal.SnapshotNotFound(op, id)
	if !signal.Readable(id) {
		return signal.Snapshot{}, notFound
	}
	snap := signal.Snapshot{Stream: id}
	var schema int32
	var at time.Time
	err := s.pool.QueryRow(ctx, `SELECT version, schema_version, data, recorded_at FROM signal.snapshots
		WHERE stream_type = $1 AND stream_id = $2`, id.Type, id.ID).Scan(&snap.Version, &schema, &snap.Data, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return signal.Snapshot{}, notFound
	}
	if err != nil {
		return signal.Snapshot{}, mapErr(op, id, err)
	}
	snap.SchemaVersion, snap.Time = int(schema), at.UTC()
	return snap, nil
}

// SaveSnapshot implements signal.SnapshotStore with one upsert whose
// update is conditional (WHERE excluded.version > stored version): the
// row lock ON CONFLICT takes makes racing saves apply one after the
// other, each compared with the latest stored version, so an older
// snapshot never replaces a newer one.
func (s *Store) SaveSnapshot(ctx context.Context, snap signal.Snapshot) error {
	const op = "pgstore.SaveSnapshot"
	if err := s.checkOpen(op, ctx); err != nil {
		return err
	}
	if err := signal.ValidateSnapshot(op, &snap); err != nil {
		return err
	}
	if err := checkInt32(op, snap.Stream, "schema version", snap.SchemaVersion); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO signal.snapshots AS s (stream_type, stream_id, version, schema_version, data, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT ON CONSTRAINT snapshots_pkey DO UPDATE
		SET version = excluded.version, schema_version = excluded.schema_version, data = excluded.data, recorded_at = excluded.recorded_at
		WHERE excluded.version > s.version`,
		snap.Stream.Type, snap.Stream.ID, snap.Version, int32(snap.SchemaVersion), snap.Data, snap.Time)
	return mapErr(op, snap.Stream, err)
}

// ---- checkpoints ----

// LoadCheckpoint implements signal.CheckpointStore.
func (s *Store) LoadCheckpoint(ctx context.Context, subscriber string, id signal.StreamID) (signal.Checkpoint, error) {
	const op = "pgstore.LoadCheckpoint"
	if err := s.checkOpen(op, ctx); err != nil {
		return signal.Checkpoint{}, err
	}
	if err := signal.ValidateCheckpoint(op, subscriber, id); err != nil {
		return signal.Checkpoint{}, err
	}
	var cp signal.Checkpoint
	var failure []byte
	err := s.pool.QueryRow(ctx, `SELECT version, failure FROM signal.checkpoints
		WHERE subscriber = $1 AND stream_type = $2 AND stream_id = $3`, subscriber, id.Type, id.ID).Scan(&cp.Version, &failure)
	if errors.Is(err, pgx.ErrNoRows) {
		return signal.Checkpoint{}, nil
	}
	if err != nil {
		return signal.Checkpoint{}, mapErr(op, id, err)
	}
	if failure != nil {
		cp.Failure = new(signal.Failure)
		if err := json.Unmarshal(failure, cp.Failure); err != nil {
			return signal.Checkpoint{}, &signal.Error{Kind: signal.KindInternal, Op: op, Stream: id, Message: "malformed checkpoint failure", Err: err}
		}
	}
	return cp, nil
}

// The compare-and-set of a checkpoint. From 0 (no row) it is an upsert
// that only updates a row still at 0; otherwise an update of the row at
// `from`. Either changes one row or none (someone else moved it); racing
// movers queue on the row's lock and each compares with the latest value.
// Moving the checkpoint clears its failure.
const (
	checkpointFromZeroSQL = `INSERT INTO signal.checkpoints AS c (subscriber, stream_type, stream_id, version)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT ON CONSTRAINT checkpoints_pkey DO UPDATE SET version = excluded.version, failure = NULL WHERE c.version = 0`
	checkpointMoveSQL = `UPDATE signal.checkpoints SET version = $5, failure = NULL
		WHERE subscriber = $1 AND stream_type = $2 AND stream_id = $3 AND version = $4`
)

// checkpointStatement returns the statement and arguments that move a checkpoint.
func checkpointStatement(subscriber string, id signal.StreamID, from, to int64) (string, []any) {
	if from == 0 {
		return checkpointFromZeroSQL, []any{subscriber, id.Type, id.ID, to}
	}
	return checkpointMoveSQL, []any{subscriber, id.Type, id.ID, from, to}
}

// SaveCheckpoint implements signal.CheckpointStore in one statement.
func (s *Store) SaveCheckpoint(ctx context.Context, subscriber string, id signal.StreamID, from, to int64) error {
	const op = "pgstore.SaveCheckpoint"
	if err := s.checkOpen(op, ctx); err != nil {
		return err
	}
	if err := signal.ValidateCheckpointMove(op, subscriber, id, from, to); err != nil {
		return err
	}
	sql, args := checkpointStatement(subscriber, id, from, to)
	return s.execOne(ctx, op, id, sql, args...)
}

// The failure writes: on a checkpoint still at 0 (which may have no row
// yet), or on the row at the failure's version - 1.
const (
	failureAtZeroSQL = `INSERT INTO signal.checkpoints AS c (subscriber, stream_type, stream_id, version, failure)
		VALUES ($1, $2, $3, 0, $4)
		ON CONFLICT ON CONSTRAINT checkpoints_pkey DO UPDATE SET failure = excluded.failure WHERE c.version = 0`
	failureSQL = `UPDATE signal.checkpoints SET failure = $4
		WHERE subscriber = $1 AND stream_type = $2 AND stream_id = $3 AND version = $5`
)

// RecordFailure implements signal.CheckpointStore in one statement.
func (s *Store) RecordFailure(ctx context.Context, f signal.Failure) error {
	const op = "pgstore.RecordFailure"
	if err := s.checkOpen(op, ctx); err != nil {
		return err
	}
	if err := signal.ValidateFailure(op, &f); err != nil {
		return err
	}
	doc, err := json.Marshal(f)
	if err != nil {
		return &signal.Error{Kind: signal.KindInternal, Op: op, Stream: f.Stream, Err: err}
	}
	if f.Version == 1 {
		return s.execOne(ctx, op, f.Stream, failureAtZeroSQL, f.Subscriber, f.Stream.Type, f.Stream.ID, doc)
	}
	return s.execOne(ctx, op, f.Stream, failureSQL, f.Subscriber, f.Stream.Type, f.Stream.ID, doc, f.Version-1)
}

// execOne runs a compare-and-set statement: ErrConflict unless it
// changed exactly one row.
func (s *Store) execOne(ctx context.Context, op string, id signal.StreamID, sql string, args ...any) error {
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return mapErr(op, id, err)
	}
	if tag.RowsAffected() != 1 {
		return signal.CheckpointMoved(op, id)
	}
	return nil
}

// Failures implements signal.CheckpointStore.
func (s *Store) Failures(ctx context.Context) ([]signal.Failure, error) {
	const op = "pgstore.Failures"
	if err := s.checkOpen(op, ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT failure FROM signal.checkpoints WHERE failure IS NOT NULL
		ORDER BY subscriber, stream_type, stream_id`)
	if err != nil {
		return nil, mapErr(op, signal.StreamID{}, err)
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, mapErr(op, signal.StreamID{}, err)
	}
	out := make([]signal.Failure, len(docs))
	for i, doc := range docs {
		if err := json.Unmarshal(doc, &out[i]); err != nil {
			return nil, &signal.Error{Kind: signal.KindInternal, Op: op, Message: "malformed checkpoint failure", Err: err}
		}
	}
	return out, nil
}

// ---- views ----

// LoadView implements signal.ViewStore.
func (s *Store) LoadView(ctx context.Context, name, key string) (signal.View, error) {
	const op = "pgstore.LoadView"
	if err := s.checkOpen(op, ctx); err != nil {
		return signal.View{}, err
	}
	notFound := signal.ViewNotFound(op, name, key)
	if signal.ValidateViewKey(op, name, key) != nil {
		return signal.View{}, notFound
	}
	v := signal.View{Name: name, Key: key}
	err := s.pool.QueryRow(ctx, `SELECT version, data FROM signal.views WHERE name = $1 AND key = $2`, name, key).Scan(&v.Version, &v.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return signal.View{}, notFound
	}
	if err != nil {
		return signal.View{}, mapErr(op, signal.StreamID{}, err)
	}
	if v.Data == nil {
		v.Data = []byte{}
	}
	return v, nil
}

// The conditional document writes of CommitViews; each changes one row
// when the document is at the version the projection read, none otherwise.
const (
	viewCreateSQL = `INSERT INTO signal.views (name, key, version, data) VALUES ($1, $2, 1, $3)
		ON CONFLICT ON CONSTRAINT views_pkey DO NOTHING`
	viewUpdateSQL = `UPDATE signal.views SET data = $3, version = version + 1
		WHERE name = $1 AND key = $2 AND version = $4`
	viewDeleteSQL = `DELETE FROM signal.views WHERE name = $1 AND key = $2 AND version = $3`
	// Deleting a document read as missing changes nothing; it only
	// checks the document is still missing. A row means someone made it.
	viewAbsentSQL = `SELECT FROM signal.views WHERE name = $1 AND key = $2 FOR SHARE`
)

// CommitViews implements signal.ViewStore: one transaction holding the
// checkpoint's compare-and-set and every document's conditional write,
// sent together in one round trip; if any of them changes no row (the
// checkpoint moved, a document changed) the transaction is rolled back
// and the result is ErrConflict, nothing written.
//
// The checkpoint goes first, so commits of the same subscriber and
// stream queue on its row; the documents follow in (name, key) order, so
// commits of different streams writing shared documents (sku-sales)
// lock them in the same order and cannot deadlock.
func (s *Store) CommitViews(ctx context.Context, c signal.ViewCommit) error {
	const op = "pgstore.CommitViews"
	if err := s.checkOpen(op, ctx); err != nil {
		return err
	}
	if _, err := signal.ValidateViewCommit(op, &c); err != nil {
		return err
	}
	writes := slices.Clone(c.Writes)
	slices.SortFunc(writes, func(a, b signal.ViewWrite) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Key, b.Key))
	})

	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		br := tx.SendBatch(ctx, viewCommitBatch(c, writes))
		failed, err := viewCommitResults(op, br, c, writes)
		if err != nil {
			br.Close()
			return err
		}
		if err := br.Close(); err != nil {
			return err
		}
		return failed // non-nil rolls back
	})
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "40P01" {
			// A deadlock with some other writer of these rows: nothing
			// was written, and another attempt can succeed.
			return &signal.Error{Kind: signal.KindConflict, Op: op, Stream: c.Stream, Message: "views changed concurrently", Err: err}
		}
		return mapErr(op, c.Stream, err)
	}
	return nil
}

// viewCommitBatch queues c's statements: the checkpoint's
// compare-and-set first, then one conditional statement per write, in
// the order of writes (sorted by the caller).
func viewCommitBatch(c signal.ViewCommit, writes []signal.ViewWrite) *pgx.Batch {
	b := &pgx.Batch{}
	sql, args := checkpointStatement(c.Subscriber, c.Stream, c.From, c.To)
	b.Queue(sql, args...)
	for _, w := range writes {
		switch {
		case w.Data == nil && w.ExpectedVersion == 0:
			b.Queue(viewAbsentSQL, w.Name, w.Key)
		case w.Data == nil:
			b.Queue(viewDeleteSQL, w.Name, w.Key, w.ExpectedVersion)
		case w.ExpectedVersion == 0:
			b.Queue(viewCreateSQL, w.Name, w.Key, w.Data)
		default:
			b.Queue(viewUpdateSQL, w.Name, w.Key, w.Data, w.ExpectedVersion)
		}
	}
	return b
}

// viewCommitResults reads the result of every statement viewCommitBatch
// queued. err is the first statement's error (the caller closes br and
// returns it); otherwise failed is the conflict of the first statement
// that changed no row where it should (or, checking a document missing,
// found one): the checkpoint moved or a document changed. Both are nil
// when every statement did what it should.
func viewCommitResults(op string, br pgx.BatchResults, c signal.ViewCommit, writes []signal.ViewWrite) (failed, err error) {
	for i := -1; i < len(writes); i++ {
		tag, err := br.Exec()
		if err != nil {
			return nil, err
		}
		if failed != nil {
			continue
		}
		switch {
		case i < 0 && tag.RowsAffected() != 1:
			failed = signal.CheckpointMoved(op, c.Stream)
		case i >= 0 && writes[i].Data == nil && writes[i].ExpectedVersion == 0:
			if tag.RowsAffected() != 0 {
				failed = signal.ViewChanged(op, c.Stream, writes[i].Name, writes[i].Key)
			}
		case i >= 0 && tag.RowsAffected() != 1:
			failed = signal.ViewChanged(op, c.Stream, writes[i].Name, writes[i].Key)
		}
	}
	return failed, nil
}

// DropView implements signal.ViewStore: both deletes in one transaction.
func (s *Store) DropView(ctx context.Context, name, subscriber string) error {
	const op = "pgstore.DropView"
	if err := s.checkOpen(op, ctx); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if storable(name) {
			if _, err := tx.Exec(ctx, `DELETE FROM signal.views WHERE name = $1`, name); err != nil {
				return err
			}
		}
		if storable(subscriber) {
			if _, err := tx.Exec(ctx, `DELETE FROM signal.checkpoints WHERE subscriber = $1`, subscriber); err != nil {
				return err
			}
		}
		return nil
	})
	return mapErr(op, signal.StreamID{}, err)
}
