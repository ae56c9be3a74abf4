package pgstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signalforgo/signal/internal/pgtest"
	"github.com/signalforgo/signal/pkg/pgstore"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// sqlRecorder records the text of every statement the pool sends.
type sqlRecorder struct {
	mu   sync.Mutex
	sqls []string
}

func (r *sqlRecorder) add(sql string) {
	r.mu.Lock()
	r.sqls = append(r.sqls, sql)
	r.mu.Unlock()
}

func (r *sqlRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.add(d.SQL)
	return ctx
}
func (r *sqlRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *sqlRecorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (r *sqlRecorder) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.add(d.SQL)
}
func (r *sqlRecorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
func (r *sqlRecorder) TracePrepareStart(ctx context.Context, _ *pgx.Conn, d pgx.TracePrepareStartData) context.Context {
	r.add(d.SQL)
	return ctx
}
func (r *sqlRecorder) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// hostile strings: SQL metacharacters, comment and statement terminators,
// placeholders and format verbs. All are valid ids (no control
// characters, '#' or '/').
var hostile = []string{
	`'; DROP TABLE events; --`,
	`'; DROP TABLE signal.events; --`,
	`"; DROP SCHEMA signal CASCADE; --`,
	`Robert'); DELETE FROM signal.events WHERE ('1'='1`,
	`' OR '1'='1`,
	`\'; SELECT pg_sleep(10); --`,
	`back\slash \\ \x00 \u0000 E'\n'`,
	`$1 $2::text ?`,
	`%s %d %v %%`,
	`$$; COMMIT; DROP TABLE signal.views; $$`,
	`* SELECT 1; -- *`,
	`ünïcødé 購物車 🛒 ' " ; --`,
}

// TestHostileInput: ids, names, metadata and payloads full of SQL are
// stored and returned as they are, the tables survive, and none of it
// ever appears in the text of a statement: every value is a bound
// parameter.
func TestHostileInput(t *testing.T) {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	must(t, err)
	rec := &sqlRecorder{}
	cfg.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	must(t, err)
	defer pool.Close()
	st, err := pgstore.New(pool)
	must(t, err)
	defer st.Close()
	must(t, st.Migrate(ctx))

	appended := writeHostile(t, st)
	checkHostileReadBack(t, st, appended)
	checkTablesSurvive(t, pool)
	checkNoInputInStatements(t, rec)
}

// writeHostile appends a commit to a stream named after each hostile
// string, with the string in its metadata and payloads, and saves a
// snapshot, a checkpoint and a view document for it (dropping every
// second view); it returns the commits appended, in hostile's order.
func writeHostile(t *testing.T, st *pgstore.Store) []signal.Commit {
	t.Helper()
	ctx := context.Background()
	var appended []signal.Commit
	for i, h := range hostile {
		id := signal.StreamID{Type: "cart", ID: h}
		if err := signal.ValidateID(h); err != nil {
			t.Fatalf("fixture %q: %v", h, err)
		}
		c := storetest.Commit(id, 1, 2)
		c.CommandID, c.CorrelationID, c.CausationID = h, h+"-corr", h+"-cause"
		// Event names are plain names (signal.ValidateName), refused
		// before any SQL; the event id carries the hostile text.
		c.Events[0].ID = h
		c.Events[0].Data = []byte(h)
		c.Events[1].Data = []byte(`{"sku":"` + strings.ReplaceAll(h, `"`, `\"`) + `"}`)
		storetest.MustAppend(t, st, c)
		appended = append(appended, c)
		// Conflicts read the stored commit back through the same values.
		if err := st.Append(ctx, storetest.Commit(id, 1, 1)); !storetest.ConflictHolds(err, c) {
			t.Errorf("conflicting Append on %q = %v, want a conflict with the stored commit", h, err)
		}
		must(t, st.SaveSnapshot(ctx, signal.Snapshot{Stream: id, Version: 2, SchemaVersion: 1, Data: []byte(h)}))
		// Subscriber and view names are plain names (signal.ValidateName);
		// the stream ids and view keys carry the hostile text.
		must(t, st.SaveCheckpoint(ctx, "policy", id, 0, 2))
		must(t, st.CommitViews(ctx, signal.ViewCommit{Subscriber: fmt.Sprint("proj-", i), Stream: id, From: 0, To: 2,
			Writes: []signal.ViewWrite{{Name: fmt.Sprint("view-", i), Key: h, Data: []byte(h)}}}))
		if i%2 == 0 {
			must(t, st.DropView(ctx, fmt.Sprint("view-", i), fmt.Sprint("proj-", i)))
		}
	}
	return appended
}

// checkHostileReadBack: everything writeHostile wrote reads back as it
// was written, the dropped views are gone, and the feed holds one commit
// per hostile string.
func checkHostileReadBack(t *testing.T, st *pgstore.Store, appended []signal.Commit) {
	t.Helper()
	ctx := context.Background()
	for i, h := range hostile {
		id := signal.StreamID{Type: "cart", ID: h}
		got := storetest.LoadAll(t, st, id, 0)
		if len(got) != 1 || storetest.DiffCommit(appended[i], got[0]) != "" {
			t.Errorf("Load(%q) = %+v, want the commit appended", h, got)
		}
		snap, err := st.LoadSnapshot(ctx, id)
		if err != nil || string(snap.Data) != h {
			t.Errorf("LoadSnapshot(%q) = %q, %v", h, snap.Data, err)
		}
		if cp, err := st.LoadCheckpoint(ctx, "policy", id); err != nil || cp.Version != 2 {
			t.Errorf("LoadCheckpoint(%q) = %d, %v; want 2", h, cp.Version, err)
		}
		v, err := st.LoadView(ctx, fmt.Sprint("view-", i), h)
		if i%2 == 0 {
			if !errors.Is(err, signal.ErrNotFound) {
				t.Errorf("LoadView(%q) after DropView = %v, want ErrNotFound", h, err)
			}
		} else if err != nil || string(v.Data) != h {
			t.Errorf("LoadView(%q) = %q, %v", h, v.Data, err)
		}
	}
	changes, err := st.Changes(ctx, 0, 1000)
	must(t, err)
	if len(changes) != len(hostile) {
		t.Errorf("the feed has %d commits, want %d", len(changes), len(hostile))
	}
}

// checkTablesSurvive: every table is still there, with what was written.
func checkTablesSurvive(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	var n int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM signal.events`).Scan(&n))
	if n != len(hostile) {
		t.Errorf("signal.events has %d rows, want %d", n, len(hostile))
	}
	for _, table := range []string{"signal.events", "signal.snapshots", "signal.checkpoints", "signal.views", "signal.schema_migrations"} {
		var ok bool
		must(t, pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok))
		if !ok {
			t.Errorf("table %s is gone", table)
		}
	}
}

// checkNoInputInStatements: the tracer saw statements, and no statement's
// text holds a hostile string.
func checkNoInputInStatements(t *testing.T, rec *sqlRecorder) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.sqls) < 10 {
		t.Fatalf("recorded only %d statements: is the tracer wired?", len(rec.sqls))
	}
	for _, sql := range rec.sqls {
		for _, h := range hostile {
			if strings.Contains(sql, h) {
				t.Errorf("a statement's text holds input %q; values must be bound parameters:\n%s", h, sql)
			}
		}
	}
	distinct := map[string]bool{}
	for _, sql := range rec.sqls {
		distinct[sql] = true
	}
	t.Logf("%d statements (%d distinct texts), none holding input", len(rec.sqls), len(distinct))
}

// TestBadInput: what the store refuses, and that a refusal writes nothing.
func TestBadInput(t *testing.T) {
	url := pgtest.URL(t)
	st := openURL(t, url)
	ctx := context.Background()
	id := signal.StreamID{Type: "cart", ID: "bad-input"}
	first := storetest.Commit(id, 1, 1)
	storetest.MustAppend(t, st, first)
	feed, err := st.Changes(ctx, 0, 100)
	must(t, err)

	count := func() int {
		var n int
		must(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM signal.events`).Scan(&n))
		return n
	}

	t.Run("10 MB payload", func(t *testing.T) { testTooLarge(t, st, id, count) })
	t.Run("invalid UTF-8 payloads are kept byte for byte", func(t *testing.T) { testBinaryPayloads(t, st) })
	t.Run("strings text cannot hold", func(t *testing.T) {
		before := count()
		testUnstorableAppends(t, st, id)
		if n := count(); n != before {
			t.Errorf("refused appends wrote %d rows", n-before)
		}
		testUnstorableReads(t, st, id)
		testUnstorableViews(t, st, id)
	})

	after, err := st.Changes(ctx, feed[len(feed)-1].Position, 100)
	must(t, err)
	if len(after) != 1 || after[0].Commit.Stream.ID != "binary" {
		t.Errorf("the feed holds %d commits besides the first, want only the binary one", len(after))
	}
}

// testTooLarge: 10 MB events (to stream id, holding one commit, and to a
// new stream), snapshots and view documents are refused as ErrTooLarge,
// and write nothing: count still says one row, no checkpoint moved.
func testTooLarge(t *testing.T, st *pgstore.Store, id signal.StreamID, count func() int) {
	ctx := context.Background()
	for _, stream := range []signal.StreamID{id, {Type: "cart", ID: "bad-input-new"}} {
		v := int64(2)
		if stream != id {
			v = 1
		}
		c := storetest.Commit(stream, v, 1)
		c.Events[0].Data = bytes.Repeat([]byte("x"), 10<<20)
		err := st.Append(ctx, c)
		if !errors.Is(err, signal.ErrTooLarge) {
			t.Errorf("Append of a 10 MB event to %s = %v, want ErrTooLarge", stream, err)
		}
	}
	if n := count(); n != 1 {
		t.Errorf("after refused appends signal.events has %d rows, want 1", n)
	}
	err := st.SaveSnapshot(ctx, signal.Snapshot{Stream: id, Version: 1, Data: bytes.Repeat([]byte("x"), 10<<20)})
	if !errors.Is(err, signal.ErrTooLarge) {
		t.Errorf("SaveSnapshot of 10 MB = %v, want ErrTooLarge", err)
	}
	err = st.CommitViews(ctx, signal.ViewCommit{Subscriber: "p", Stream: id, From: 0, To: 1,
		Writes: []signal.ViewWrite{{Name: "v", Key: "k", Data: bytes.Repeat([]byte("x"), 10<<20)}}})
	if !errors.Is(err, signal.ErrTooLarge) {
		t.Errorf("CommitViews of a 10 MB document = %v, want ErrTooLarge", err)
	}
	if cp, _ := st.LoadCheckpoint(ctx, "p", id); cp.Version != 0 {
		t.Errorf("a refused CommitViews moved the checkpoint to %d", cp.Version)
	}
}

// testBinaryPayloads: payloads that are not valid UTF-8 (or empty, or
// nil) come back byte for byte from events, snapshots and views. It
// appends the stream cart/binary.
func testBinaryPayloads(t *testing.T, st *pgstore.Store) {
	ctx := context.Background()
	payloads := [][]byte{
		{0xff, 0xfe, 0xfd},
		{0xc3, 0x28, 0xa0, 0xa1},
		{0x00, 0x00, 0x01, '\'', '\\', 0x00},
		[]byte("{\"a\":\"\xed\xa0\x80\"}"), // an encoded surrogate
		{},
		nil,
	}
	s2 := signal.StreamID{Type: "cart", ID: "binary"}
	c := storetest.Commit(s2, 1, len(payloads))
	for i := range payloads {
		c.Events[i].Data = payloads[i]
	}
	storetest.MustAppend(t, st, c)
	got := storetest.LoadAll(t, st, s2, 0)
	if len(got) != 1 || storetest.DiffCommit(c, got[0]) != "" {
		t.Fatalf("Load of binary payloads = %+v", got)
	}
	for i, p := range payloads {
		if !bytes.Equal(got[0].Events[i].Data, p) {
			t.Errorf("payload %d = %q, want %q", i, got[0].Events[i].Data, p)
		}
	}
	bin := []byte{0xff, 0x00, 0xfe, '\''}
	must(t, st.SaveSnapshot(ctx, signal.Snapshot{Stream: s2, Version: 6, Data: bin}))
	snap, err := st.LoadSnapshot(ctx, s2)
	if err != nil || !bytes.Equal(snap.Data, bin) {
		t.Errorf("LoadSnapshot of binary data = %q, %v", snap.Data, err)
	}
	must(t, st.CommitViews(ctx, signal.ViewCommit{Subscriber: "bin", Stream: s2, From: 0, To: 6,
		Writes: []signal.ViewWrite{{Name: "bin", Key: "k", Data: bin}}}))
	v, err := st.LoadView(ctx, "bin", "k")
	if err != nil || !bytes.Equal(v.Data, bin) {
		t.Errorf("LoadView of binary data = %q, %v", v.Data, err)
	}
}

// testUnstorableAppends: an Append whose strings a text column cannot
// hold (NUL, invalid UTF-8) or whose schema version is out of range is
// refused as ErrInvalid.
func testUnstorableAppends(t *testing.T, st *pgstore.Store, id signal.StreamID) {
	ctx := context.Background()
	for name, mutate := range map[string]func(c *signal.Commit){
		"NUL in the command id":        func(c *signal.Commit) { c.CommandID = "a\x00b" },
		"NUL in the fingerprint":       func(c *signal.Commit) { c.Fingerprint = "f\x00" },
		"invalid UTF-8 in correlation": func(c *signal.Commit) { c.CorrelationID = "a\xffb" },
		"NUL in the causation id":      func(c *signal.Commit) { c.CausationID = "\x00" },
		"NUL in an event id":           func(c *signal.Commit) { c.Events[0].ID = "e\x00" },
		"invalid UTF-8 in a name":      func(c *signal.Commit) { c.Events[0].Name = "\xc3\x28" },
		"schema version out of range":  func(c *signal.Commit) { c.Events[0].SchemaVersion = 1 << 40 },
		"NUL in the stream id":         func(c *signal.Commit) { c.Stream.ID = "x\x00" },
	} {
		c := storetest.Commit(id, 2, 1)
		mutate(&c)
		if err := st.Append(ctx, c); !errors.Is(err, signal.ErrInvalid) {
			t.Errorf("Append with %s = %v, want ErrInvalid", name, err)
		}
	}
}

// testUnstorableReads: reads of what cannot be stored find nothing,
// without an error; names that cannot be stored are refused as invalid.
func testUnstorableReads(t *testing.T, st *pgstore.Store, id signal.StreamID) {
	ctx := context.Background()
	if got := storetest.LoadAll(t, st, signal.StreamID{Type: "cart", ID: "x\x00"}, 0); len(got) != 0 {
		t.Errorf("Load of an id with NUL found %d commits", len(got))
	}
	if _, err := st.LoadSnapshot(ctx, signal.StreamID{Type: "cart", ID: "\xff"}); !errors.Is(err, signal.ErrNotFound) {
		t.Errorf("LoadSnapshot of invalid UTF-8 = %v, want ErrNotFound", err)
	}
	if _, err := st.LoadCheckpoint(ctx, "p\x00", id); !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("LoadCheckpoint of a subscriber with NUL = %v, want ErrInvalid (every store refuses invalid names)", err)
	}
	if _, err := st.LoadView(ctx, "v", "k\x00"); !errors.Is(err, signal.ErrNotFound) {
		t.Errorf("LoadView of a key with NUL = %v, want ErrNotFound", err)
	}
	if err := st.SaveCheckpoint(ctx, "p\x00", id, 0, 1); !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("SaveCheckpoint of a subscriber with NUL = %v, want ErrInvalid", err)
	}
}

// testUnstorableViews: view keys with NUL, and keys too long for the
// index, are refused as ErrInvalid without moving the checkpoint;
// dropping a view by names that cannot be stored succeeds.
func testUnstorableViews(t *testing.T, st *pgstore.Store, id signal.StreamID) {
	ctx := context.Background()
	err := st.CommitViews(ctx, signal.ViewCommit{Subscriber: "p", Stream: id, From: 0, To: 1,
		Writes: []signal.ViewWrite{{Name: "v", Key: "k\x00", Data: []byte(`{}`)}}})
	if !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("CommitViews of a key with NUL = %v, want ErrInvalid", err)
	}
	must(t, st.DropView(ctx, "v\x00", "p\xff"))
	// A key too long for the index (and not compressible) is
	// refused, not an internal error.
	long := make([]byte, 20_000)
	for i := range long {
		long[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rand.IntN(36)]
	}
	err = st.CommitViews(ctx, signal.ViewCommit{Subscriber: "p", Stream: id, From: 0, To: 1,
		Writes: []signal.ViewWrite{{Name: "v", Key: string(long), Data: []byte(`{}`)}}})
	if !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("CommitViews of a 20 KB key = %v (kind %s), want ErrInvalid", err, signal.KindOf(err))
	}
	if cp, _ := st.LoadCheckpoint(ctx, "p", id); cp.Version != 0 {
		t.Errorf("a refused CommitViews moved the checkpoint to %d", cp.Version)
	}
}

// TestTimes: times keep their microsecond (at least the millisecond the
// contract asks) and come back in UTC, whatever their location, including
// the zero time and times before 1970.
func TestTimes(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	times := []time.Time{
		{},
		time.Date(1969, 12, 31, 23, 59, 59, 999_400_000, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 1_200_000, time.UTC),
		time.Date(2026, 3, 14, 15, 9, 26, 535_123_456, time.FixedZone("X", 3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
	}
	id := signal.StreamID{Type: "cart", ID: "times"}
	for i, tm := range times {
		c := storetest.Commit(id, int64(i+1), 1)
		c.Time = tm
		storetest.MustAppend(t, st, c)
		must(t, st.SaveSnapshot(ctx, signal.Snapshot{Stream: id, Version: int64(i + 1), Data: []byte(`{}`), Time: tm}))
		snap, err := st.LoadSnapshot(ctx, id)
		must(t, err)
		if want := tm.Truncate(time.Microsecond); !snap.Time.Equal(want) || snap.Time.Location() != time.UTC {
			t.Errorf("snapshot time %v came back as %v, want %v in UTC", tm, snap.Time, want)
		}
	}
	for i, c := range storetest.LoadAll(t, st, id, 0) {
		want := times[i].Truncate(time.Microsecond)
		if !c.Time.Equal(want) || c.Time.Location() != time.UTC {
			t.Errorf("commit time %v came back as %v, want %v in UTC", times[i], c.Time, want)
		}
	}
}

// withParam adds a connection parameter to a URL or keyword/value string.
func withParam(url, kv string) string {
	switch {
	case !strings.Contains(url, "://"):
		return url + " " + kv
	case strings.Contains(url, "?"):
		return url + "&" + kv
	default:
		return url + "?" + kv
	}
}

// TestLoadPages: a history of many pages, small and large commits mixed,
// loads whole and in order from anywhere; the sequence can be ranged
// twice; and with a pool of one connection the caller can append inside
// its loop, because no page holds a connection while commits are yielded.
func TestLoadPages(t *testing.T) {
	st := openURL(t, withParam(pgtest.URL(t), "pool_max_conns=1"))
	ctx := context.Background()
	id := signal.StreamID{Type: "cart", ID: "pages"}
	other := signal.StreamID{Type: "cart", ID: "pages-other"}
	var want []signal.Commit
	v := int64(1)
	for i := range 700 {
		c := storetest.Commit(id, v, 1+i%3)
		if i%50 == 7 {
			c.Events[0].Data = bytes.Repeat([]byte{'a' + byte(i%26)}, 300*1024)
		}
		storetest.MustAppend(t, st, c)
		want = append(want, c)
		v = c.LastVersion() + 1
	}
	seq := st.Load(ctx, id, 0)
	for round := range 2 {
		var got []signal.Commit
		for c, err := range seq {
			must(t, err)
			got = append(got, c)
		}
		checkSameCommits(t, fmt.Sprintf("range %d over one Load", round+1), got, want)
	}
	for _, k := range []int{1, 127, 128, 129, 383, 650, 699} {
		checkSameCommits(t, fmt.Sprintf("Load(after %d)", want[k-1].LastVersion()), storetest.LoadAll(t, st, id, want[k-1].LastVersion()), want[k:])
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		appendInsideLoad(t, st, id, other, want)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("appending inside a Load loop with a one-connection pool deadlocked")
	}
}

// checkSameCommits fails the test, naming what was loaded, unless got
// holds the commits of want, in order.
func checkSameCommits(t *testing.T, what string, got, want []signal.Commit) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d commits, want %d", what, len(got), len(want))
	}
	for i := range want {
		if storetest.DiffCommit(want[i], got[i]) != "" {
			t.Fatalf("%s: commit %d (version %d) differs", what, i, want[i].Version)
		}
	}
}

// appendInsideLoad ranges over all of id's commits (want) and appends to
// other every hundredth one, inside the loop; it reports with t.Error a
// failed Load or Append, a version out of order, or a short history.
// With a one-connection pool it deadlocks if a page holds the connection.
func appendInsideLoad(t *testing.T, st *pgstore.Store, id, other signal.StreamID, want []signal.Commit) {
	ctx := context.Background()
	ov := int64(1)
	n := 0
	for c, err := range st.Load(ctx, id, 0) {
		if err != nil {
			t.Errorf("Load: %v", err)
			return
		}
		if c.Version != want[n].Version {
			t.Errorf("Load yielded version %d, want %d", c.Version, want[n].Version)
			return
		}
		n++
		if n%100 == 1 {
			if err := st.Append(ctx, storetest.Commit(other, ov, 1)); err != nil {
				t.Errorf("Append inside the Load loop: %v", err)
				return
			}
			ov++
		}
	}
	if n != len(want) {
		t.Errorf("Load yielded %d commits, want %d", n, len(want))
	}
}
