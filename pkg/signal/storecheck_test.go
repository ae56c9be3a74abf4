package signal_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// TestDecideAppend is the decision table of Store.Append, row by row.
func TestDecideAppend(t *testing.T) {
	stream := signal.StreamID{Type: "cart", ID: "c"}
	existing := &signal.Commit{Stream: stream, Version: 3}
	cases := []struct {
		name    string
		version int64
		at      signal.AppendPoint
		want    error // nil: write it
		text    string
	}{
		{"new stream", 1, signal.AppendPoint{}, nil, ""},
		{"continues", 4, signal.AppendPoint{Last: 3}, nil, ""},
		{"taken, commit known", 3, signal.AppendPoint{Last: 5, Existing: existing}, signal.ErrConflict, "already taken"},
		{"taken at 1 is ErrExists", 1, signal.AppendPoint{Last: 2, Taken: true}, signal.ErrExists, "already taken"},
		{"taken in a closed stream is a conflict", 3, signal.AppendPoint{Last: 5, Closed: true, Existing: existing}, signal.ErrConflict, "already taken"},
		{"inside a commit", 4, signal.AppendPoint{Last: 5}, signal.ErrInvalid, "version 4 is inside a commit"},
		{"inside a closed stream's commit", 4, signal.AppendPoint{Last: 5, Closed: true}, signal.ErrInvalid, "inside a commit"},
		{"closed", 6, signal.AppendPoint{Last: 5, Closed: true}, signal.ErrClosed, "stream is closed"},
		{"closed past a gap", 9, signal.AppendPoint{Last: 5, Closed: true}, signal.ErrClosed, "stream is closed"},
		{"gap", 7, signal.AppendPoint{Last: 5}, signal.ErrInvalid, "version 7 would leave a gap after 5"},
		{"gap in a new stream", 2, signal.AppendPoint{}, signal.ErrInvalid, "would leave a gap after 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &signal.Commit{Stream: stream, Version: tc.version}
			err := signal.DecideAppend("test.append", c, tc.at)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("DecideAppend = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("DecideAppend = %v, want %v saying %q", err, tc.want, tc.text)
			}
			if ce, ok := signal.ConflictOf(err); ok {
				if ce.Existing != tc.at.Existing || ce.Version != tc.version {
					t.Errorf("conflict = %+v, want version %d with Existing %p", ce, tc.version, tc.at.Existing)
				}
			}
			if !strings.Contains(err.Error(), "test.append") || !strings.Contains(err.Error(), stream.String()) {
				t.Errorf("DecideAppend = %q, want it attributed to the op and naming the stream", err)
			}
		})
	}
}

// TestStoreInputChecks: the input checks every store calls.
func TestStoreInputChecks(t *testing.T) {
	good := signal.StreamID{Type: "cart", ID: "c"}
	bad := signal.StreamID{Type: "cart", ID: "a\xffb"}
	cases := []struct {
		name string
		err  error
		want error // nil: passes
	}{
		{"snapshot", signal.ValidateSnapshot("op", &signal.Snapshot{Stream: good, Data: make([]byte, signal.MaxCommitBytes)}), nil},
		{"snapshot too large", signal.ValidateSnapshot("op", &signal.Snapshot{Stream: good, Data: make([]byte, signal.MaxCommitBytes+1)}), signal.ErrTooLarge},
		{"snapshot of an invalid stream", signal.ValidateSnapshot("op", &signal.Snapshot{Stream: bad}), signal.ErrInvalid},
		{"checkpoint move", signal.ValidateCheckpointMove("op", "p", good, 0, 1), nil},
		{"checkpoint standing still", signal.ValidateCheckpointMove("op", "p", good, 2, 2), signal.ErrInvalid},
		{"checkpoint going back", signal.ValidateCheckpointMove("op", "p", good, 2, 1), signal.ErrInvalid},
		{"checkpoint of an invalid subscriber", signal.ValidateCheckpointMove("op", "p q", good, 0, 1), signal.ErrInvalid},
		{"checkpoint of an invalid stream", signal.ValidateCheckpointMove("op", "p", bad, 0, 1), signal.ErrInvalid},
		{"view key", signal.ValidateViewKey("op", "cart-summary", "c 1-ü"), nil},
		{"view name with a space", signal.ValidateViewKey("op", "cart summary", "c"), signal.ErrInvalid},
		{"view key empty", signal.ValidateViewKey("op", "cart-summary", ""), signal.ErrInvalid},
		{"view key of invalid UTF-8", signal.ValidateViewKey("op", "cart-summary", "\xff"), signal.ErrInvalid},
		{"checkpoint moved", signal.CheckpointMoved("op", good), signal.ErrConflict},
		{"view changed", signal.ViewChanged("op", good, "v", "k"), signal.ErrConflict},
		{"no snapshot", signal.SnapshotNotFound("op", good), signal.ErrNotFound},
		{"no view", signal.ViewNotFound("op", "v", "k"), signal.ErrNotFound},
	}
	for _, tc := range cases {
		if tc.want == nil && tc.err != nil || tc.want != nil && !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
		if tc.err != nil && !strings.HasPrefix(tc.err.Error(), "op: ") {
			t.Errorf("%s: %q is not attributed to its op", tc.name, tc.err)
		}
	}
	if !signal.Readable(good) || signal.Readable(bad) || signal.Readable(signal.StreamID{}) {
		t.Error("Readable disagrees with ValidateStream")
	}
}
