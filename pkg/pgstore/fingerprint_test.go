package pgstore_test

import (
	"context"
	"os"
	"testing"

	"github.com/signalforgo/signal/internal/pgtest"
	"github.com/signalforgo/signal/pkg/pgstore"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// TestMigrateAddsFingerprint: a database an older build migrated to 0001
// only, holding commits, is brought up to date by Open; its commits read
// back without a fingerprint (which the Service treats as "cannot tell"),
// and new commits keep theirs.
func TestMigrateAddsFingerprint(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	init, err := os.ReadFile("migrations/0001_init.sql")
	must(t, err)
	conn := connect(t, url)
	for _, stmt := range []string{
		`CREATE SCHEMA signal`,
		`CREATE TABLE signal.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
		string(init),
		`INSERT INTO signal.schema_migrations (version, name) VALUES (1, 'init')`,
		// A commit as the 0001 schema holds it.
		`INSERT INTO signal.events (stream_type, stream_id, version, last_version, command_id, correlation_id, causation_id,
			recorded_at, final, event_ids, event_names, schema_versions, payloads)
		VALUES ('cart', 'old', 1, 1, 'key-1', '', '', now(), false, '{e1}', '{ItemAdded}', '{1}', ARRAY['{}'::bytea])`,
	} {
		_, err := conn.Exec(ctx, stmt)
		must(t, err)
	}
	st := openURL(t, url)
	if got := migrationRows(t, st); len(got) != pgstore.SchemaVersion() || got[len(got)-1] < 2 {
		t.Fatalf("schema_migrations after Open: %v", got)
	}
	old := signal.StreamID{Type: "cart", ID: "old"}
	got := storetest.LoadAll(t, st, old, 0)
	if len(got) != 1 || got[0].CommandID != "key-1" || got[0].Fingerprint != "" {
		t.Fatalf("the old commit reads back as %+v", got)
	}
	c := storetest.Commit(old, 2, 1)
	c.Fingerprint = "q1Zb0yJ4dXvWk3-_8aQy7w"
	storetest.MustAppend(t, st, c)
	if got := storetest.LoadAll(t, st, old, 1); len(got) != 1 || got[0].Fingerprint != c.Fingerprint {
		t.Fatalf("a new commit reads back as %+v", got)
	}
}
