package storetest

import (
	"fmt"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// ---- commits: a closed stream's taken versions ----

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
			final := commit(stream, v, tc.history[len(tc.history)-1])
			final.Final = true
			mustAppend(t, st, final)
			history = append(history, final)
			var end uint64
			feed, _ := st.(signal.ChangeFeed)
			if feed != nil {
				end = feedEnd(t, feed)
			}

			winner := history[tc.at]
			loser := commit(stream, winner.Version, tc.loser)
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
			next := commit(stream, final.LastVersion()+1, 1)
			err := st.Append(t.Context(), next)
			wantErr(t, err, signal.ErrClosed, "Append(%s, version %d) after the final commit", sname(stream), next.Version)
		})
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
