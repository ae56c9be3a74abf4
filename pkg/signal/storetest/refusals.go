package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// ---- commits: every id and name a store holds, and a closed stream's taken versions ----

// badMetadata are commits signal.ValidateCommit refuses, one field at a
// time: every string a store must hold besides the stream. A store that
// let one through would hold what another store cannot (PostgreSQL text
// has no NUL, DynamoDB strings are UTF-8), and the same commit would be
// fine on one store and refused by the next.
var badMetadata = []struct {
	name   string
	mutate func(c *signal.Commit)
}{
	{"empty command id", func(c *signal.Commit) { c.CommandID = "" }},
	{"command id with NUL", func(c *signal.Commit) { c.CommandID = "cmd\x00x" }},
	{"command id with a newline", func(c *signal.Commit) { c.CommandID = "cmd\nx" }},
	{"command id with DEL", func(c *signal.Commit) { c.CommandID = "cmd\x7f" }},
	{"command id with a C1 control (U+0085)", func(c *signal.Commit) { c.CommandID = "cmd\u0085x" }},
	{"command id of invalid UTF-8", func(c *signal.Commit) { c.CommandID = "cmd\xffx" }},
	{"command id with an encoded surrogate", func(c *signal.Commit) { c.CommandID = "cmd\xed\xa0\x80" }},
	{fmt.Sprintf("command id of %d bytes", signal.MaxIDBytes+1), func(c *signal.Commit) { c.CommandID = strings.Repeat("k", signal.MaxIDBytes+1) }},
	{fmt.Sprintf("command id of %d two-byte runes", signal.MaxIDBytes/2+1), func(c *signal.Commit) { c.CommandID = strings.Repeat("ü", signal.MaxIDBytes/2+1) }},

	{"correlation id with NUL", func(c *signal.Commit) { c.CorrelationID = "\x00" }},
	{"correlation id with a tab", func(c *signal.Commit) { c.CorrelationID = "corr\tx" }},
	{"correlation id of invalid UTF-8", func(c *signal.Commit) { c.CorrelationID = "\xc3\x28" }},
	{fmt.Sprintf("correlation id of %d bytes", signal.MaxIDBytes+1), func(c *signal.Commit) { c.CorrelationID = strings.Repeat("c", signal.MaxIDBytes+1) }},

	{"causation id with NUL", func(c *signal.Commit) { c.CausationID = "cause\x00" }},
	{"causation id with ESC", func(c *signal.Commit) { c.CausationID = "\x1b[31mred" }},
	{"causation id of invalid UTF-8", func(c *signal.Commit) { c.CausationID = "\xfe" }},
	{fmt.Sprintf("causation id of %d bytes", signal.MaxIDBytes+1), func(c *signal.Commit) { c.CausationID = strings.Repeat("z", signal.MaxIDBytes+1) }},

	{"fingerprint with NUL", func(c *signal.Commit) { c.Fingerprint = "f\x00" }},
	{"fingerprint with a carriage return", func(c *signal.Commit) { c.Fingerprint = "f\r" }},
	{"fingerprint of invalid UTF-8", func(c *signal.Commit) { c.Fingerprint = "\x80" }},
	{fmt.Sprintf("fingerprint of %d bytes", signal.MaxIDBytes+1), func(c *signal.Commit) { c.Fingerprint = strings.Repeat("f", signal.MaxIDBytes+1) }},

	{"actor with NUL", func(c *signal.Commit) { c.Actor = "sub\x00" }},
	{"actor with a newline", func(c *signal.Commit) { c.Actor = "sub\nforged log line" }},
	{"actor of invalid UTF-8", func(c *signal.Commit) { c.Actor = "sub\xff" }},
	{fmt.Sprintf("actor of %d bytes", signal.MaxIDBytes+1), func(c *signal.Commit) { c.Actor = strings.Repeat("a", signal.MaxIDBytes+1) }},

	{"empty event id", func(c *signal.Commit) { c.Events[0].ID = "" }},
	{"empty id of the last event", func(c *signal.Commit) { c.Events[len(c.Events)-1].ID = "" }},
	{"event id with NUL", func(c *signal.Commit) { c.Events[0].ID = "e\x00" }},
	{"event id with a newline", func(c *signal.Commit) { c.Events[len(c.Events)-1].ID = "e\n" }},
	{"event id of invalid UTF-8", func(c *signal.Commit) { c.Events[0].ID = "e\xff" }},
	{fmt.Sprintf("event id of %d bytes", signal.MaxIDBytes+1), func(c *signal.Commit) { c.Events[0].ID = strings.Repeat("e", signal.MaxIDBytes+1) }},

	{"empty event name", func(c *signal.Commit) { c.Events[0].Name = "" }},
	{"empty name of the last event", func(c *signal.Commit) { c.Events[len(c.Events)-1].Name = "" }},
	{"event name starting with a digit", func(c *signal.Commit) { c.Events[0].Name = "2Added" }},
	{"event name with a space", func(c *signal.Commit) { c.Events[0].Name = "Item Added" }},
	{"event name with '#'", func(c *signal.Commit) { c.Events[0].Name = "Item#Added" }},
	{"event name with '/'", func(c *signal.Commit) { c.Events[len(c.Events)-1].Name = "Item/Added" }},
	{"event name with a non-ASCII letter", func(c *signal.Commit) { c.Events[0].Name = "ItemÄdded" }},
	{"event name with NUL", func(c *signal.Commit) { c.Events[0].Name = "Item\x00" }},
	{"event name of invalid UTF-8", func(c *signal.Commit) { c.Events[0].Name = "\xc3\x28" }},
	{fmt.Sprintf("event name of %d bytes", signal.MaxNameBytes+1), func(c *signal.Commit) { c.Events[0].Name = "E" + strings.Repeat("x", signal.MaxNameBytes) }},
}

// testInvalidMetadata: a commit with any one id or name a store could not
// hold, or that another store would refuse, fails with ErrInvalid and
// writes nothing: on a new stream, on a stream with history, and as a
// final commit (which DynamoDB writes in a transaction with a
// tombstone). Load, the change feed and the versions still free show it.
func (s *suite) testInvalidMetadata(t *testing.T) {
	st := s.store(t)
	feed, _ := st.(signal.ChangeFeed)
	for i, tc := range badMetadata {
		t.Run(tc.name, func(t *testing.T) {
			fresh := signal.StreamID{Type: "cart", ID: fmt.Sprintf("invalid-%02d-new", i)}
			used := signal.StreamID{Type: "cart", ID: fmt.Sprintf("invalid-%02d-used", i)}
			closing := signal.StreamID{Type: "cart", ID: fmt.Sprintf("invalid-%02d-final", i)}
			usedHistory := appendHistory(t, st, used, 1, 2) // versions 1-3
			closingHistory := appendHistory(t, st, closing, 1)
			var end uint64
			if feed != nil {
				end = feedEnd(t, feed)
			}

			final := Commit(closing, 2, 3) // its tombstone would be at 5
			final.Final = true
			for _, v := range []struct {
				what string
				c    signal.Commit
			}{
				{"on a new stream", Commit(fresh, 1, 3)},
				{"after history", Commit(used, 4, 3)},
				{"as a final commit", final},
			} {
				c := v.c
				tc.mutate(&c)
				err := st.Append(t.Context(), c)
				wantErr(t, err, signal.ErrInvalid, "Append(%s, version %d) %s with %s", sname(c.Stream), c.Version, v.what, tc.name)
				if errors.Is(err, signal.ErrConflict) || errors.Is(err, signal.ErrClosed) {
					t.Errorf("Append %s with %s = %v: a refused commit is not a conflict or a closure", v.what, tc.name, err)
				}
			}
			assertHistory(t, st, fresh, nil)
			assertHistory(t, st, used, usedHistory)
			assertHistory(t, st, closing, closingHistory)
			if feed != nil {
				assertFeed(t, fmt.Sprintf("Changes(after %d, the end before refusing commits with %s)", end, tc.name), changes(t, feed, end, 100), nil)
			}
			// Nothing was written at any version a refused commit
			// covered, a tombstone's included: the streams take
			// commits there.
			MustAppend(t, st, Commit(fresh, 1, 1))
			MustAppend(t, st, Commit(used, 4, 1))
			appendAt(t, st, closing, 2, 1, 1, 1, 1) // versions 2-5
		})
	}
}

// appendAt appends contiguous commits of the given sizes from version.
func appendAt(t *testing.T, s signal.Store, stream signal.StreamID, version int64, sizes ...int) {
	t.Helper()
	for _, n := range sizes {
		MustAppend(t, s, Commit(stream, version, n))
		version += int64(n)
	}
}

// feedEnd pages through the change feed and returns its last position.
func feedEnd(t *testing.T, f signal.ChangeFeed) uint64 {
	t.Helper()
	var end uint64
	for {
		ch := changes(t, f, end, 100)
		if len(ch) == 0 {
			return end
		}
		end = ch[len(ch)-1].Position
	}
}

// testMetadataLimits: ids and names at the limits, and characters that
// stream ids may not hold but recorded ids may ('#', '/', "." and ".."
// matter only in keys and paths), are kept as they are, also in a final
// commit: the rules refuse only what some store cannot hold. Event ids
// stay unique, as the Service makes them (DynamoDB's transaction of a
// final commit is idempotent on its first event id).
func (s *suite) testMetadataLimits(t *testing.T) {
	stream := signal.StreamID{Type: "cart", ID: "metadata-limits"}
	// fill pads a fresh id with r to exactly MaxIDBytes bytes.
	fill := func(id, r string) string {
		return id + strings.Repeat(r, (signal.MaxIDBytes-len(id))/len(r))
	}
	longest := strings.Repeat("k", signal.MaxIDBytes)
	runes := strings.Repeat("ü", signal.MaxIDBytes/2)
	cases := []struct {
		name   string
		mutate func(c *signal.Commit)
	}{
		{fmt.Sprintf("every id of %d bytes", signal.MaxIDBytes), func(c *signal.Commit) {
			c.CommandID, c.CorrelationID, c.CausationID, c.Fingerprint, c.Actor = longest, longest, longest, longest, longest
			for i := range c.Events {
				c.Events[i].ID = fill(c.Events[i].ID, "k")
			}
		}},
		{fmt.Sprintf("every id of %d bytes in two-byte runes", signal.MaxIDBytes), func(c *signal.Commit) {
			c.CommandID, c.CorrelationID, c.CausationID, c.Fingerprint, c.Actor = runes, runes, runes, runes, runes
			for i := range c.Events {
				c.Events[i].ID = fill(c.Events[i].ID, "ü")
			}
		}},
		{"separators and dot segments", func(c *signal.Commit) {
			c.CommandID, c.CorrelationID, c.CausationID, c.Fingerprint, c.Actor = "a#b/c", "..", ".", "/#/", "#"
			c.Events[0].ID, c.Events[1].ID = "#"+c.Events[0].ID+"/", "../"+c.Events[1].ID
		}},
		{"unicode without controls", func(c *signal.Commit) {
			c.CommandID = "key ünïcødé 購物車 🛒 \u2028 \u00a0 end"
			c.CorrelationID = "\u200b zero width"
			c.Events[0].ID = "ev 🛒 " + c.Events[0].ID
		}},
		{fmt.Sprintf("event names of 1 and %d bytes", signal.MaxNameBytes), func(c *signal.Commit) {
			c.Events[0].Name, c.Events[1].Name = "E", "E"+strings.Repeat("x", signal.MaxNameBytes-1)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			first, final := Commit(stream, 1, 2), Commit(stream, 3, 2)
			tc.mutate(&first)
			tc.mutate(&final)
			final.Final = true
			MustAppend(t, st, first)
			MustAppend(t, st, final)
			assertHistory(t, st, stream, []signal.Commit{first, final})
		})
	}
}

// testClosedAndTaken: an Append at a version that holds a commit is a
// conflict carrying that commit, also when the stream was closed after it
// (or by it): the version is taken, which is the answer a single
// conditional write can give (DynamoDB's ALL_OLD is the item at the
// commit's own key, and the tombstone sits after the final commit). The
// Service folds the commit and learns the stream is closed from it,
// unless the commit is the command's own (a retry), which must be
// answered as the success it was. ErrClosed is for the versions after
// the final commit.
func (s *suite) testClosedAndTaken(t *testing.T) {
	cases := []struct {
		name    string
		history []int // event counts; the last commit is the final one
		at      int   // index of the commit the loser collides with
		loser   int   // events in the losing commit
		final   bool  // the loser is a final commit too
		retry   bool  // the loser is the very commit at `at`, sent again
	}{
		{"first commit of a closed stream", []int{1, 2, 1}, 0, 1, false, false},
		{"middle commit of a closed stream", []int{1, 2, 1}, 1, 2, false, false},
		{"the final commit itself", []int{1, 2, 1}, 2, 1, false, false},
		{"the final multi-event commit", []int{2, 3}, 1, 1, false, false},
		{"a final loser on a taken version", []int{1, 2, 1}, 1, 1, true, false},
		{"a final loser on the final commit", []int{1, 1}, 1, 2, true, false},
		{"a stream closed by its first commit", []int{2}, 0, 1, false, false},
		{"the final commit retried", []int{1, 2, 1}, 2, 0, true, true},
		{"the final first commit retried", []int{1}, 0, 0, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			stream := signal.StreamID{Type: "cart", ID: "closed-and-taken"}
			history := appendHistory(t, st, stream, tc.history[:len(tc.history)-1]...)
			v := int64(1)
			if n := len(history); n > 0 {
				v = history[n-1].LastVersion() + 1
			}
			final := Commit(stream, v, tc.history[len(tc.history)-1])
			final.Final = true
			MustAppend(t, st, final)
			history = append(history, final)
			var end uint64
			feed, _ := st.(signal.ChangeFeed)
			if feed != nil {
				end = feedEnd(t, feed)
			}

			winner := history[tc.at]
			loser := Commit(stream, winner.Version, tc.loser)
			loser.Final = tc.final
			if tc.retry {
				loser = winner
				loser.Events = append([]signal.RawEvent(nil), winner.Events...)
			}
			checkConflictOn(t, st.Append(t.Context(), loser), loser, winner, true)
			assertHistory(t, st, stream, history)
			if feed != nil {
				assertFeed(t, fmt.Sprintf("Changes(after %d, the end before the refused append)", end), changes(t, feed, end, 100), nil)
			}
			// Still closed: the version after the final commit is refused as closed.
			next := Commit(stream, final.LastVersion()+1, 1)
			err := st.Append(t.Context(), next)
			wantErr(t, err, signal.ErrClosed, "Append(%s, version %d) after the final commit", sname(stream), next.Version)
		})
	}
}
