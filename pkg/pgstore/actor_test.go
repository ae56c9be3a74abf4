package pgstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signalforgo/signal/internal/pgtest"
	"github.com/signalforgo/signal/pkg/pgstore"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// migrateLike applies the first n migration files to the database at url
// and records them, as a build that held only those left it.
func migrateLike(t *testing.T, url string, n int) {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql") // sorted, so in NNNN order
	must(t, err)
	if len(files) < n {
		t.Fatalf("%d migration files, want at least %d", len(files), n)
	}
	ctx := context.Background()
	conn := connect(t, url)
	_, err = conn.Exec(ctx, `CREATE SCHEMA signal;
		CREATE TABLE signal.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
	must(t, err)
	for i, f := range files[:n] {
		sql, err := os.ReadFile(f)
		must(t, err)
		_, err = conn.Exec(ctx, string(sql))
		must(t, err)
		_, err = conn.Exec(ctx, `INSERT INTO signal.schema_migrations (version, name) VALUES ($1, $2)`, i+1, filepath.Base(f))
		must(t, err)
	}
}

// TestMigrateAddsActor: a database an older build migrated to 0003,
// holding a commit, is brought up to date by Open (once, however often it
// is opened); the old commit reads back with an empty Actor, through Load
// and the feed, and new commits keep theirs.
func TestMigrateAddsActor(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	migrateLike(t, url, 3)
	old := signal.StreamID{Type: "cart", ID: "old"}
	at := time.UnixMilli(1_700_000_000_123).UTC()
	_, err := connect(t, url).Exec(ctx, `INSERT INTO signal.events (stream_type, stream_id, version, last_version,
		command_id, correlation_id, causation_id, recorded_at, final, event_ids, event_names, schema_versions, payloads, fingerprint)
		VALUES ('cart', 'old', 1, 1, 'key-1', 'corr-1', '', $1, false, '{e1}', '{ItemAdded}', '{1}', ARRAY['{}'::bytea], 'fp-1')`, at)
	must(t, err)
	want := signal.Commit{Stream: old, Version: 1, CommandID: "key-1", CorrelationID: "corr-1", Fingerprint: "fp-1", Time: at,
		Events: []signal.RawEvent{{ID: "e1", Name: "ItemAdded", SchemaVersion: 1, Data: []byte(`{}`)}}}

	st := openURL(t, url)
	must(t, openURL(t, url).Migrate(ctx))
	if got := migrationRows(t, st); len(got) != pgstore.SchemaVersion() || got[len(got)-1] < 4 {
		t.Fatalf("schema_migrations after Open: %v, want 1..%d once each", got, pgstore.SchemaVersion())
	}
	c := storetest.Commit(old, 2, 1)
	c.Actor = "auth0|5f7c8ec7c33c6c004bbafe82"
	storetest.MustAppend(t, st, c)

	got := storetest.LoadAll(t, st, old, 0)
	if len(got) != 2 {
		t.Fatalf("Load returned %d commits, want 2", len(got))
	}
	for i, w := range []signal.Commit{want, c} {
		if d := storetest.DiffCommit(w, got[i]); d != "" {
			t.Errorf("Load: commit %d:\n%s", i+1, d)
		}
	}
	changes, err := st.Changes(ctx, 0, 10)
	must(t, err)
	if len(changes) != 2 || changes[0].Commit.Actor != "" || changes[1].Commit.Actor != c.Actor {
		t.Errorf("Changes returned %+v, want the old commit without an actor, then %q", changes, c.Actor)
	}
}
