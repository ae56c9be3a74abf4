package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signalforgo/signal/internal/pgtest"
	"github.com/signalforgo/signal/pkg/pgstore"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// connect opens a plain connection to the test database, for what the
// store does not do: holding a transaction open, installing a trigger.
func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// insertRaw inserts a commit the way Append does, on conn, inside
// whatever transaction conn has open.
func insertRaw(t testing.TB, conn *pgx.Conn, c signal.Commit) {
	t.Helper()
	var ids, names []string
	var schemas []int32
	var payloads [][]byte
	for _, e := range c.Events {
		ids, names, schemas, payloads = append(ids, e.ID), append(names, e.Name), append(schemas, int32(e.SchemaVersion)), append(payloads, e.Data)
	}
	_, err := conn.Exec(context.Background(), `INSERT INTO signal.events (stream_type, stream_id, version, last_version,
		command_id, correlation_id, causation_id, recorded_at, final, event_ids, event_names, schema_versions, payloads)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		c.Stream.Type, c.Stream.ID, c.Version, c.LastVersion(), c.CommandID, c.CorrelationID, c.CausationID, c.Time, c.Final,
		ids, names, schemas, payloads)
	must(t, err)
}

// TestFeedOutOfOrderCommit: the case a sequence-ordered feed gets wrong,
// made deterministic. Transaction A writes a commit and stays open;
// then B appends and commits. A took its position first, so a reader that
// returned B's commit now and moved past it would never see A's. The
// feed holds B back while A is open, and returns A then B once A commits.
func TestFeedOutOfOrderCommit(t *testing.T) {
	url := pgtest.URL(t)
	st := openURL(t, url)
	ctx := context.Background()
	a := signal.StreamID{Type: "cart", ID: "a"}
	b := signal.StreamID{Type: "cart", ID: "b"}

	conn := connect(t, url)
	tx, err := conn.Begin(ctx)
	must(t, err)
	defer tx.Rollback(ctx)
	ca := storetest.Commit(a, 1, 1)
	insertRaw(t, tx.Conn(), ca) // A's position is taken here, A still open

	cb := storetest.Commit(b, 1, 2)
	storetest.MustAppend(t, st, cb) // B commits after A took its position

	checkOnlyBVisible(t, st)
	checkBHeldBack(t, st)

	// Changes waits for A when A ends while it is waiting.
	done := make(chan []signal.Change, 1)
	go func() {
		ch, err := st.Changes(ctx, 0, 100)
		if err != nil {
			t.Error(err)
		}
		done <- ch
	}()
	time.Sleep(100 * time.Millisecond)
	must(t, tx.Commit(ctx))
	var ch []signal.Change
	select {
	case ch = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Changes did not return after A committed")
	}
	if len(ch) != 2 || storetest.DiffCommit(ca, ch[0].Commit) != "" || storetest.DiffCommit(cb, ch[1].Commit) != "" || ch[0].Position >= ch[1].Position {
		t.Fatalf("Changes after A committed = %v, want A's commit then B's", ch)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	must(t, st.WaitForChange(wctx, 0))
	must(t, st.WaitForChange(wctx, ch[0].Position))
}

// checkOnlyBVisible: a reader ordering by position alone sees B's commit,
// and not A's: had it been handed out, A's commit would be skipped.
func checkOnlyBVisible(t *testing.T, st *pgstore.Store) {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `SELECT stream_id FROM signal.events ORDER BY xid`)
	must(t, err)
	visible, err := pgx.CollectRows(rows, pgx.RowTo[string])
	must(t, err)
	if len(visible) != 1 || visible[0] != "b" {
		t.Fatalf("other sessions see the commits of streams %v, want only b's", visible)
	}
}

// checkBHeldBack: while A is open, Changes returns nothing and
// WaitForChange blocks, since the only visible commit is held back.
func checkBHeldBack(t *testing.T, st *pgstore.Store) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	got, err := st.Changes(ctx, 0, 100)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("Changes while an older transaction is open returned %d commits (%s@%d): B would be delivered before A and A skipped", len(got), got[0].Commit.Stream, got[0].Commit.Version)
	}
	t.Logf("Changes held B back for %v while A was open", time.Since(start).Round(time.Millisecond))

	// WaitForChange blocks while only held-back commits exist.
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	err = st.WaitForChange(wctx, 0)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForChange(0) while the only commit is held back = %v, want it to block", err)
	}
}

// TestFeedConcurrentWriters: 8 writers append while a reader follows the
// feed; every commit is delivered exactly once, each stream's in version
// order. A trigger sleeps a random few milliseconds inside every append's
// transaction, after its position is taken and before it commits, so
// transactions commit in a different order than they took positions all
// the time. A reader that skipped such a commit would miss it and fail
// the test; a second reader that ignores the watermark (position order
// alone) runs alongside to show how many it would have missed.
func TestFeedConcurrentWriters(t *testing.T) {
	const writers, perWriter, streamsPerWriter = 8, 60, 3
	url := pgtest.URL(t)
	st := openURL(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	conn := connect(t, url)
	_, err := conn.Exec(ctx, `
		CREATE FUNCTION public.test_delay() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_sleep(random() * 0.006); RETURN NULL; END $$;
		CREATE TRIGGER test_delay AFTER INSERT ON signal.events FOR EACH ROW EXECUTE FUNCTION public.test_delay();`)
	must(t, err)

	appended := &appendedCommits{byCommand: map[string]signal.Commit{}}
	var writing sync.WaitGroup
	for w := range writers {
		writing.Go(func() { writeCommits(ctx, t, st, appended, w, perWriter, streamsPerWriter) })
	}
	var writersDone atomic.Bool
	go func() { writing.Wait(); writersDone.Store(true) }()

	naiveSeen := map[uint64]bool{}
	naiveDone := make(chan struct{})
	go func() {
		defer close(naiveDone)
		followWithoutWatermark(ctx, t, url, &writersDone, naiveSeen)
	}()

	got, polls, waits := followFeed(ctx, t, st, &writersDone, appended)
	<-naiveDone
	if t.Failed() {
		return
	}

	total := writers * perWriter
	if len(appended.byCommand) != total {
		t.Fatalf("%d commits appended, want %d", len(appended.byCommand), total)
	}
	checkDeliveredOnceInOrder(t, got, appended.byCommand)
	naiveMissed := 0
	for _, c := range got {
		if !naiveSeen[c.Position] {
			naiveMissed++
		}
	}
	if naiveMissed == 0 {
		t.Errorf("a reader without the watermark missed nothing: the test made no out-of-order commits, so it proves nothing")
	}
	t.Logf("%d commits by %d writers, all delivered once and in order (%d Changes calls, %d waits); a reader without the watermark missed %d",
		len(got), writers, polls, waits, naiveMissed)
}

// appendedCommits records the commits the writers appended, by command
// id; the writers add to it concurrently.
type appendedCommits struct {
	mu        sync.Mutex
	byCommand map[string]signal.Commit
}

func (a *appendedCommits) add(c signal.Commit) {
	a.mu.Lock()
	a.byCommand[c.CommandID] = c
	a.mu.Unlock()
}

func (a *appendedCommits) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.byCommand)
}

// writeCommits is writer w: perWriter commits of 1 to 3 events, spread
// round-robin over its own streamsPerWriter streams, with a short random
// pause after each. It reports a failed Append and stops.
func writeCommits(ctx context.Context, t *testing.T, st *pgstore.Store, appended *appendedCommits, w, perWriter, streamsPerWriter int) {
	versions := make([]int64, streamsPerWriter)
	for i := range perWriter {
		k := i % streamsPerWriter
		c := storetest.Commit(signal.StreamID{Type: "cart", ID: fmt.Sprintf("w%d-s%d", w, k)}, versions[k]+1, 1+rand.IntN(3))
		if err := st.Append(ctx, c); err != nil {
			t.Errorf("writer %d: Append: %v", w, err)
			return
		}
		versions[k] = c.LastVersion()
		appended.add(c)
		time.Sleep(time.Duration(rand.IntN(1500)) * time.Microsecond)
	}
}

// followWithoutWatermark is the naive reader: position order, no
// watermark. It marks each position it sees in seen, until it finds no
// more once the writers are done; errors are reported with t.Error.
func followWithoutWatermark(ctx context.Context, t *testing.T, url string, writersDone *atomic.Bool, seen map[uint64]bool) {
	nconn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Error(err)
		return
	}
	defer nconn.Close(context.Background())
	var after uint64
	for {
		rows, err := nconn.Query(ctx, `SELECT xid FROM signal.events WHERE xid > $1::xid8 ORDER BY xid LIMIT 7`, after)
		if err != nil {
			t.Error(err)
			return
		}
		xs, err := pgx.CollectRows(rows, pgx.RowTo[uint64])
		if err != nil {
			t.Error(err)
			return
		}
		for _, x := range xs {
			seen[x] = true
			after = x
		}
		if len(xs) == 0 {
			if writersDone.Load() {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// followFeed is the reader under test: it pages through Changes and
// waits with WaitForChange until the writers are done and it has as many
// changes as were appended. It returns the changes and how many Changes
// calls and waits it took; it fails the test on an error or the deadline.
func followFeed(ctx context.Context, t *testing.T, st *pgstore.Store, writersDone *atomic.Bool, appended *appendedCommits) (got []signal.Change, polls, waits int) {
	var after uint64
	for {
		ch, err := st.Changes(ctx, after, 7)
		if err != nil {
			t.Fatalf("Changes(after %d): %v", after, err)
		}
		polls++
		got = append(got, ch...)
		if len(ch) > 0 {
			after = ch[len(ch)-1].Position
			continue
		}
		if writersDone.Load() && len(got) >= appended.count() {
			return got, polls, waits
		}
		waits++
		wctx, wcancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err = st.WaitForChange(wctx, after)
		wcancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitForChange(%d): %v", after, err)
		}
		if ctx.Err() != nil {
			t.Fatalf("the reader got %d commits before the deadline", len(got))
		}
	}
}

// checkDeliveredOnceInOrder: got is in position order, holds every
// appended commit exactly once and as appended, and each stream's
// versions follow one another.
func checkDeliveredOnceInOrder(t *testing.T, got []signal.Change, appended map[string]signal.Commit) {
	t.Helper()
	seen := map[string]bool{}
	next := map[signal.StreamID]int64{}
	var prev uint64
	for i, c := range got {
		if c.Position <= prev {
			t.Errorf("change %d at position %d, not after %d", i, c.Position, prev)
		}
		prev = c.Position
		want, ok := appended[c.Commit.CommandID]
		switch {
		case !ok:
			t.Errorf("change %d (%s@%d) was never appended", i, c.Commit.Stream, c.Commit.Version)
		case seen[c.Commit.CommandID]:
			t.Errorf("change %d (%s@%d) delivered twice", i, c.Commit.Stream, c.Commit.Version)
		case storetest.DiffCommit(want, c.Commit) != "":
			t.Errorf("change %d (%s@%d) differs from the commit appended", i, c.Commit.Stream, c.Commit.Version)
		}
		seen[c.Commit.CommandID] = true
		if n := next[c.Commit.Stream]; c.Commit.Version != n+1 {
			t.Errorf("%s: version %d delivered after version %d", c.Commit.Stream, c.Commit.Version, n)
		}
		next[c.Commit.Stream] = c.Commit.LastVersion()
	}
	missing := 0
	for id, c := range appended {
		if !seen[id] {
			missing++
			if missing <= 5 {
				t.Errorf("commit %s@%d was never delivered", c.Stream, c.Version)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d commits were skipped", missing, len(appended))
	}
}

// TestNotifyAcrossStores: a store's WaitForChange is woken by another
// store's (another process's) append through LISTEN/NOTIFY, well before
// its one-second safety poll. Polling alone would wake within 200ms of
// an append in about one round of five, so most rounds being that quick
// shows the notifications work.
func TestNotifyAcrossStores(t *testing.T) {
	const rounds = 10
	url := pgtest.URL(t)
	writer, reader := openURL(t, url), openURL(t, url)
	ctx := context.Background()
	id := signal.StreamID{Type: "cart", ID: "n"}
	storetest.MustAppend(t, writer, storetest.Commit(id, 1, 1))
	ch, err := reader.Changes(ctx, 0, 10)
	must(t, err)
	if len(ch) != 1 {
		t.Fatalf("Changes = %d commits, want 1", len(ch))
	}
	after := ch[0].Position
	// The first wait opens the LISTEN connection; give it time to be up.
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_ = reader.WaitForChange(wctx, after)
	cancel()

	var lat []time.Duration
	for v := int64(2); v < 2+rounds; v++ {
		done := make(chan time.Time, 1)
		go func() {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := reader.WaitForChange(wctx, after); err != nil {
				t.Error(err)
			}
			done <- time.Now()
		}()
		time.Sleep(30 * time.Millisecond)
		start := time.Now()
		storetest.MustAppend(t, writer, storetest.Commit(id, v, 1))
		lat = append(lat, (<-done).Sub(start))
		ch, err := reader.Changes(ctx, after, 10)
		must(t, err)
		if len(ch) != 1 || ch[0].Commit.Version != v {
			t.Fatalf("Changes after the wake-up = %v, want version %d", ch, v)
		}
		after = ch[0].Position
	}
	quick := 0
	for _, d := range lat {
		if d < 200*time.Millisecond {
			quick++
		}
	}
	if quick < rounds*6/10 {
		t.Errorf("only %d of %d wake-ups by another store's append came within 200ms (%v): LISTEN/NOTIFY does not seem to work", quick, rounds, lat)
	}
	t.Logf("wake-ups across stores: %v", lat)
}

// TestWaitPollsWithoutNotify: a commit written by something that sends
// no notification (here a plain INSERT) is still found, by polling.
func TestWaitPollsWithoutNotify(t *testing.T) {
	url := pgtest.URL(t)
	st := openURL(t, url)
	conn := connect(t, url)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- st.WaitForChange(ctx, 0)
	}()
	time.Sleep(100 * time.Millisecond)
	insertRaw(t, conn, storetest.Commit(signal.StreamID{Type: "cart", ID: "silent"}, 1, 1))
	start := time.Now()
	must(t, <-done)
	t.Logf("found by polling after %v", time.Since(start).Round(time.Millisecond))
}
