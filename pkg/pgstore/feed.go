package pgstore

import (
	"context"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signalforgo/signal/pkg/signal"
)

// notifyChannel is the LISTEN/NOTIFY channel appends are announced on.
// Notifications are per database, so stores of different databases on
// one server do not wake each other.
const notifyChannel = "signal_events"

// Timing of the change feed.
const (
	// settleTimeout bounds how long Changes waits for transactions that
	// began before commits it can see, so that it returns those commits
	// rather than stopping short of them (see the package documentation).
	settleTimeout = 2 * time.Second
	// pollListening is how often WaitForChange polls while the LISTEN
	// connection is up: a safety net only, as notifications wake it.
	pollListening = time.Second
	// pollFallback is how often it polls while LISTEN is down.
	pollFallback = 100 * time.Millisecond
	// pollSettleMin and pollSettleMax bound the backoff while a commit is
	// held back by an older transaction that has not ended yet.
	pollSettleMin = 2 * time.Millisecond
	pollSettleMax = 50 * time.Millisecond
	// notifyInterval is the least time between two NOTIFYs of a store:
	// how late, at most, another process hears of a burst of appends.
	notifyInterval = 2 * time.Millisecond
	// reconnectMax caps the wait between attempts to reconnect LISTEN.
	reconnectMax = 5 * time.Second
)

// feedSQL reads the feed after a position, up to the watermark: only
// commits of transactions older than the oldest transaction still running
// (pg_snapshot_xmin of the statement's own snapshot). The second
// statement, run in the same round trip, finds the newest commit the
// reader can see at all, which tells whether the watermark held any back.
const (
	feedSQL = `SELECT xid, stream_type, stream_id, ` + commitColumns + ` FROM signal.events
WHERE xid > $1::xid8 AND xid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY xid LIMIT $2`
	newestSQL = `SELECT COALESCE(max(xid), '0'::xid8) FROM signal.events WHERE xid > $1::xid8`
	// pendingSQL: is a commit after the position in the feed yet, and is
	// there one the watermark still holds back?
	pendingSQL = `SELECT
	EXISTS (SELECT FROM signal.events WHERE xid > $1::xid8 AND xid < pg_snapshot_xmin(pg_current_snapshot())),
	EXISTS (SELECT FROM signal.events WHERE xid > $1::xid8)`
)

// Changes implements signal.ChangeFeed. A commit's position is the id
// of the transaction that wrote it (an xid8, unique because each Append
// is one transaction writing one row). Positions increase strictly along
// the feed but are not dense. See the package documentation for why the
// feed never skips a commit.
//
// A commit appears once every transaction that began writing before it
// has ended. When the commits it can return stop short of ones it can see
// that are held back that way, Changes waits (up to two seconds) for
// those older transactions and reads again, so that a commit whose Append
// has returned is in the result, as the contract asks. In practice the
// older transactions are other appends a millisecond from committing; a
// long-running write transaction elsewhere on the server holds the feed
// back until it ends (the feed is then late, never missing a commit).
func (s *Store) Changes(ctx context.Context, after uint64, limit int) ([]signal.Change, error) {
	const op = "pgstore.Changes"
	if err := s.checkOpen(op, ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	if after == math.MaxUint64 {
		return nil, nil
	}
	deadline := time.Now().Add(settleTimeout)
	wait := pollSettleMin
	var target uint64 // the newest commit seen on the first read
	for first := true; ; first = false {
		out, newest, err := s.readFeed(ctx, after, limit)
		if err != nil {
			return nil, mapErr(op, signal.StreamID{}, err)
		}
		if first {
			target = newest
		}
		reached := after
		if len(out) > 0 {
			reached = out[len(out)-1].Position
		}
		if len(out) == limit || target <= reached || time.Now().After(deadline) {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, mapErr(op, signal.StreamID{}, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(wait*2, pollSettleMax)
	}
}

// readFeed reads one page of the feed and the newest position visible.
func (s *Store) readFeed(ctx context.Context, after uint64, limit int) ([]signal.Change, uint64, error) {
	b := &pgx.Batch{}
	b.Queue(feedSQL, after, limit)
	b.Queue(newestSQL, after)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, 0, err
	}
	var out []signal.Change
	for rows.Next() {
		var ch signal.Change
		if err := scanCommit(rows, &ch.Commit, &ch.Position, &ch.Commit.Stream.Type, &ch.Commit.Stream.ID); err != nil {
			rows.Close()
			return nil, 0, err
		}
		out = append(out, ch)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var newest uint64
	if err := br.QueryRow().Scan(&newest); err != nil {
		return nil, 0, err
	}
	return out, newest, br.Close()
}

// WaitForChange implements signal.ChangeFeed: it returns nil once
// Changes(after) has something to return. It is woken by this process's
// appends at once, by other processes' through LISTEN/NOTIFY (a
// dedicated connection, opened on the first call), and it polls as a
// fallback: every second while LISTEN is up, every 100ms while it is
// down (it reconnects with backoff), and every few milliseconds while a
// commit is held back by an older transaction. After Close it returns
// signal.ErrUnavailable; when ctx ends, ctx.Err().
func (s *Store) WaitForChange(ctx context.Context, after uint64) error {
	const op = "pgstore.WaitForChange"
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return &signal.Error{Kind: signal.KindUnavailable, Op: op, Message: "the store is closed"}
	}
	s.startListener()
	settle := pollSettleMin
	for {
		// Take the wake channel before looking, so a wake-up between the
		// look and the wait is not lost.
		ch := s.wakeChannel()
		if ch == nil {
			return &signal.Error{Kind: signal.KindUnavailable, Op: op, Message: "the store is closed"}
		}
		var ready, visible bool
		err := s.pool.QueryRow(ctx, pendingSQL, after).Scan(&ready, &visible)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return mapErr(op, signal.StreamID{}, err)
		}
		if ready {
			return nil
		}
		poll := pollFallback
		switch {
		case visible:
			poll, settle = settle, min(settle*2, pollSettleMax)
		case s.listening.Load():
			poll = pollListening
		}
		timer := time.NewTimer(poll)
		select {
		case <-ch:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
		timer.Stop()
	}
}

// startListener starts the LISTEN goroutine, once. Under mu, and never
// after Close has taken mu, so it cannot race Close's wait for the
// goroutines.
func (s *Store) startListener() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listenerStarted || s.closed.Load() {
		return
	}
	s.listenerStarted = true
	s.wg.Add(1)
	go s.listen()
}

// wakeChannel returns the channel the next wake-up closes; nil after Close.
func (s *Store) wakeChannel() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil
	}
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

// wake wakes every WaitForChange of this process.
func (s *Store) wake() {
	s.mu.Lock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	s.mu.Unlock()
}

// appended is called after each successful Append: wake this process's
// waiters and have the notifier tell the other processes.
func (s *Store) appended() {
	s.wake()
	select {
	case s.notify <- struct{}{}:
	default: // a notification is already due; it covers this commit too
	}
}

// notifier sends one NOTIFY for each burst of appends, after they have
// committed, on a pool connection, and then rests notifyInterval, so a
// steady stream of appends costs one notification per interval, not one
// statement more per append. The NOTIFY is deliberately not part of the
// append's transaction: PostgreSQL serialises the commits of all
// transactions that notify (they take a global lock), which would make
// appends of unrelated streams wait for each other. A notification lost
// (a crash between commit and NOTIFY) costs the other processes a poll
// interval, nothing more.
func (s *Store) notifier() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.notify:
		}
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		_, _ = s.pool.Exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel)
		cancel()
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(notifyInterval):
		}
	}
}

// listen keeps a connection LISTENing on notifyChannel and wakes the
// waiters on every notification, reconnecting with backoff when the
// connection fails. Every (re)connection wakes the waiters too, as
// notifications sent while it was down are lost.
func (s *Store) listen() {
	defer s.wg.Done()
	backoff := 100 * time.Millisecond
	for s.ctx.Err() == nil {
		if s.listenConn() {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, reconnectMax)
	}
}

// listenConn runs one LISTEN connection until it fails or the store
// closes; it reports whether the connection was made.
func (s *Store) listenConn() bool {
	cfg := s.pool.Config().ConnConfig
	conn, err := pgx.ConnectConfig(s.ctx, cfg)
	if err != nil {
		return false
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(s.ctx, "LISTEN "+notifyChannel); err != nil {
		return false
	}
	s.listening.Store(true)
	defer s.listening.Store(false)
	s.wake()
	for {
		if _, err := conn.WaitForNotification(s.ctx); err != nil {
			return true
		}
		s.wake()
	}
}
