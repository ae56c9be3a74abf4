package signal_test

import (
	"context"
	"errors"
	"iter"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// latestStore is a memstore with the LatestLoader ability, counting the
// reads the Service makes of it. Its LoadLatest answers fail when set.
type latestStore struct {
	*memstore.Store
	latest, snapshots, loads int
	expect                   int
	fail                     error
}

func (s *latestStore) LoadLatest(ctx context.Context, stream signal.StreamID, expect int) (signal.Snapshot, bool, iter.Seq2[signal.Commit, error]) {
	s.latest++
	s.expect = expect
	if s.fail != nil {
		return signal.Snapshot{}, false, func(yield func(signal.Commit, error) bool) { yield(signal.Commit{}, s.fail) }
	}
	snap, err := s.Store.LoadSnapshot(ctx, stream)
	if err != nil {
		return signal.Snapshot{}, false, s.Store.Load(ctx, stream, 0)
	}
	return snap, true, s.Store.Load(ctx, stream, snap.Version)
}

func (s *latestStore) LoadSnapshot(ctx context.Context, stream signal.StreamID) (signal.Snapshot, error) {
	s.snapshots++
	return s.Store.LoadSnapshot(ctx, stream)
}

func (s *latestStore) Load(ctx context.Context, stream signal.StreamID, after int64) iter.Seq2[signal.Commit, error] {
	s.loads++
	return s.Store.Load(ctx, stream, after)
}

func (s *latestStore) reset() { s.latest, s.snapshots, s.loads = 0, 0, 0 }

// coldDeposit deposits 1 on account a1 through a new Service (a cold
// load) whose account type has the given SnapshotEvery and StateVersion,
// returning the balance.
func coldDeposit(t *testing.T, st signal.Store, every, stateVersion int) (int64, error) {
	t.Helper()
	spec := accountSpec()
	spec.SnapshotEvery, spec.StateVersion = every, stateVersion
	typ := signal.MustDefine(spec)
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{typ}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Handle(t.Context(), "account", "a1", Deposit{Amount: 1})
	if err != nil {
		return 0, err
	}
	return r.State.(Account).Balance, nil
}

// TestColdLoadWithLatestLoader: a store with the ability is read once per
// cold load, with the type's SnapshotEvery as the guess; a snapshot the
// Service cannot use costs a second read of every commit, never a wrong
// state; a failed read fails the command.
func TestColdLoadWithLatestLoader(t *testing.T) {
	st := &latestStore{Store: memstore.New()}
	if _, err := coldDeposit(t, st, 0, 1); !errors.Is(err, signal.ErrNotFound) {
		t.Fatalf("deposit before Open = %v, want ErrNotFound", err)
	}
	f := newFixture(t, func(s *signal.Spec[Account], c *signal.Config) { s.SnapshotEvery, c.Store = 4, st })
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	for range 9 {
		mustHandle(t, f, "a1", Deposit{Amount: 1})
	}
	cases := []struct {
		name                     string
		every, stateVersion      int
		plant                    []byte // snapshot data planted at the latest version
		latest, snapshots, loads int
	}{
		{"snapshot of the current schema", 4, 1, nil, 1, 0, 0},
		{"unreadable snapshot", 4, 1, []byte(`{"state":"not an account"}`), 1, 0, 1},
		{"snapshot of another schema", 4, 2, nil, 1, 0, 1},
		{"type without snapshots", 0, 1, nil, 0, 0, 1},
	}
	balance := int64(9)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.plant != nil {
				planted := signal.Snapshot{Stream: signal.StreamID{Type: "account", ID: "a1"}, Version: balance + 1, SchemaVersion: 1, Data: tc.plant}
				if err := st.Store.SaveSnapshot(t.Context(), planted); err != nil {
					t.Fatal(err)
				}
				if got, _ := st.Store.LoadSnapshot(t.Context(), planted.Stream); string(got.Data) != string(tc.plant) {
					t.Fatalf("planted snapshot not stored: the latest is at version %d", got.Version)
				}
			}
			st.reset()
			got, err := coldDeposit(t, st, tc.every, tc.stateVersion)
			if balance++; err != nil || got != balance {
				t.Fatalf("cold deposit = balance %d, %v; want %d", got, err, balance)
			}
			if st.latest != tc.latest || st.snapshots != tc.snapshots || st.loads != tc.loads {
				t.Errorf("reads: %d LoadLatest, %d LoadSnapshot, %d Load; want %d, %d, %d", st.latest, st.snapshots, st.loads, tc.latest, tc.snapshots, tc.loads)
			}
			if tc.latest > 0 && st.expect != tc.every {
				t.Errorf("LoadLatest's expect = %d, want SnapshotEvery %d", st.expect, tc.every)
			}
		})
	}

	st.fail = &signal.Error{Kind: signal.KindUnavailable, Op: "test.LoadLatest", Message: "down"}
	if _, err := coldDeposit(t, st, 4, 1); !errors.Is(err, signal.ErrUnavailable) {
		t.Fatalf("cold deposit on a failing LoadLatest = %v, want ErrUnavailable", err)
	}
	if got := len(loadAll(t, st.Store)); got != int(balance)+1 {
		t.Errorf("%d commits after a failed cold load, want %d: nothing appended", got, balance+1)
	}
}

// loadAll reads a1's commits.
func loadAll(t *testing.T, st *memstore.Store) []signal.Commit {
	t.Helper()
	var out []signal.Commit
	for c, err := range st.Load(t.Context(), signal.StreamID{Type: "account", ID: "a1"}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}
