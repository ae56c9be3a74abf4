package signal_test

import (
	"context"
	"encoding/hex"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// uuid7 is the form of a generated id.
var uuid7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// idMillis returns the Unix milliseconds a generated id is stamped with.
func idMillis(t *testing.T, id string) int64 {
	t.Helper()
	b, err := hex.DecodeString(id[0:8] + id[9:13])
	if err != nil {
		t.Fatal(err)
	}
	var ms int64
	for _, x := range b {
		ms = ms<<8 | int64(x)
	}
	return ms
}

// countingClock is a Config.Now that counts its readings; each reading
// is a millisecond after the last.
type countingClock struct{ reads atomic.Int64 }

func (c *countingClock) now() time.Time {
	n := c.reads.Add(1)
	return time.UnixMilli(1_780_000_000_000 + n).Add(123 * time.Microsecond)
}

// TestWarmCommandReadsTheClockOnce: a warm command reads the clock once,
// and that reading stamps the pool's use, the commit and its ids.
func TestWarmCommandReadsTheClockOnce(t *testing.T) {
	clock := &countingClock{}
	f := newFixture(t, func(_ *signal.Spec[Account], c *signal.Config) { c.Now = clock.now })
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	before := clock.reads.Load()
	r := mustHandle(t, f, "a1", Deposit{Amount: 5})
	if n := clock.reads.Load() - before; n != 1 {
		t.Fatalf("a warm command read the clock %d times, want 1", n)
	}
	want := time.UnixMilli(1_780_000_000_000 + before + 1).UTC()
	commits := f.commits(t)
	c := commits[len(commits)-1]
	if !c.Time.Equal(want) || !r.Events[0].Time.Equal(want) {
		t.Fatalf("commit time %v, answer's %v, want %v", c.Time, r.Events[0].Time, want)
	}
	for _, id := range []string{c.CommandID, c.Events[0].ID} {
		if got := idMillis(t, id); got != want.UnixMilli() {
			t.Fatalf("id %s is stamped %d, want %d", id, got, want.UnixMilli())
		}
	}
}

// TestGeneratedIDs: the ids the Service makes for a command are UUIDs,
// all different, the same in the answer as in the store; a caller's
// command id is kept as given.
func TestGeneratedIDs(t *testing.T) {
	f := newFixture(t, func(s *signal.Spec[Account], _ *signal.Config) {
		s.Commands[cmdNoop] = signal.Decide("Noop", func(Account, Noop) ([]any, error) {
			return []any{Deposited{Amount: 1}, Deposited{Amount: 2}, Deposited{Amount: 3}}, nil
		})
	})
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	answers := []signal.Result{
		mustHandle(t, f, "a1", Deposit{Amount: 5}),
		mustHandle(t, f, "a1", Noop{}),
		mustHandle(t, f, "a1", Deposit{Amount: 5}, signal.WithCommandID("key-1")),
		mustHandle(t, f, "a1", Noop{}, signal.WithCommandID("key-2")),
	}
	commits := f.commits(t)[1:]
	seen := map[string]bool{}
	for i, c := range commits {
		r := answers[i]
		ids := []string{c.CommandID}
		if i >= 2 {
			if want := []string{"key-1", "key-2"}[i-2]; c.CommandID != want {
				t.Fatalf("commit %d: command id %q, want the caller's %q", i, c.CommandID, want)
			}
			ids = nil
		}
		if len(r.Events) != len(c.Events) {
			t.Fatalf("commit %d: %d events answered, %d stored", i, len(r.Events), len(c.Events))
		}
		for j, e := range c.Events {
			if r.Events[j].ID != e.ID || r.Events[j].CommandID != c.CommandID {
				t.Fatalf("commit %d event %d: answered ids %s/%s, stored %s/%s", i, j, r.Events[j].ID, r.Events[j].CommandID, e.ID, c.CommandID)
			}
			ids = append(ids, e.ID)
		}
		for _, id := range ids {
			if !uuid7.MatchString(id) || seen[id] {
				t.Fatalf("commit %d: bad or repeated id %q", i, id)
			}
			seen[id] = true
		}
	}
}

// landedConflictStore writes a commit and then answers that its version
// was taken, without saying by what: an append whose first try landed
// and whose retry by the SDK met it, on a store that returns nothing on
// a conflict.
type landedConflictStore struct {
	*memstore.Store
	conflicts int
}

func (s *landedConflictStore) Append(ctx context.Context, c signal.Commit) error {
	if err := s.Store.Append(ctx, c); err != nil {
		return err
	}
	if s.conflicts > 0 {
		s.conflicts--
		return signal.AppendConflict("test.Append", c.Stream, c.Version, nil)
	}
	return nil
}

// TestOwnWriteReadBackIsNotRepeated: when a command's own write comes
// back in the read after a conflict, its generated id is recognised: the
// command is answered as the repeat it is, not appended again. (The scan
// of recent ids is skipped only before a command's first write.)
func TestOwnWriteReadBackIsNotRepeated(t *testing.T) {
	st := &landedConflictStore{Store: memstore.New()}
	typ := signal.MustDefine(accountSpec())
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{typ}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := svc.Handle(ctx, "account", "a1", Open{Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	st.conflicts = 1
	r, err := svc.Handle(ctx, "account", "a1", Deposit{Amount: 5})
	if err != nil || !r.Duplicate || r.Version != 2 || r.State.(Account).Balance != 5 || len(r.Events) != 1 {
		t.Fatalf("own write read back: %+v %v", r, err)
	}
	if n := st.Counts().Appends; n != 2 {
		t.Fatalf("%d appends: the deposit was appended twice", n)
	}
}
