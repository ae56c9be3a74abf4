package signal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// perStreamStore is a store without the ViewBatcher ability: every
// stream of a batch runs on its own.
type perStreamStore struct {
	signal.Store
	signal.ViewStore
}

func perStream(st *memstore.Store) perStreamStore { return perStreamStore{st, st} }

// storeOf returns a memstore holding commits.
func storeOf(t *testing.T, commits []signal.Commit) *memstore.Store {
	t.Helper()
	st := memstore.New()
	for _, c := range commits {
		if err := st.Append(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// goroutineID is the calling goroutine's number, from its stack header
// ("goroutine 12 [running]:").
func goroutineID() int64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	id, _ := strconv.ParseInt(string(buf[:bytes.IndexByte(buf, ' ')]), 10, 64)
	return id
}

// probe is an observer that records which goroutine saw which event, and
// how many ran at once; each event takes a little while, as a store
// round trip would.
type probe struct {
	mu         sync.Mutex
	goroutines map[int64]bool
	seen       map[signal.StreamID][]int64
	active     int
	maxActive  int
}

func (p *probe) observer() *signal.Observer {
	p.goroutines, p.seen = map[int64]bool{}, map[signal.StreamID][]int64{}
	return &signal.Observer{Name: "probe", Types: []string{"account"}, On: []signal.ObserverHandler{
		signal.ObserveAll(func(_ context.Context, ev signal.Event) error {
			p.mu.Lock()
			p.goroutines[goroutineID()] = true
			p.seen[ev.Stream()] = append(p.seen[ev.Stream()], ev.Version)
			p.active++
			p.maxActive = max(p.maxActive, p.active)
			p.mu.Unlock()
			time.Sleep(2 * time.Millisecond)
			p.mu.Lock()
			p.active--
			p.mu.Unlock()
			return nil
		}),
	}}
}

// TestDispatchRunsStreamsOnAFixedPool: the streams of every batch run on
// the same few goroutines, at most DispatchConcurrency at once, each
// stream's events once and in order; the workers end once idle.
func TestDispatchRunsStreamsOnAFixedPool(t *testing.T) {
	const streams, concurrency = 40, 4
	commits := roundRobin(streams, 2)
	st := perStream(storeOf(t, commits)) // a batched store runs a subscriber's streams in one go
	p := &probe{}
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{signal.MustDefine(accountSpec())},
		Subscribers: []signal.Subscriber{p.observer()}, DispatchConcurrency: concurrency})
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range [][]signal.Commit{commits[:streams], commits[streams:]} { // every version 1, then every 2
		if err := svc.Dispatch(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.maxActive < 2 || p.maxActive > concurrency {
		t.Errorf("%d streams ran at once, want 2 to %d", p.maxActive, concurrency)
	}
	if len(p.goroutines) > concurrency {
		t.Errorf("%d goroutines ran the 2 batches of %d streams, want at most %d", len(p.goroutines), streams, concurrency)
	}
	for a := 1; a <= streams; a++ {
		id := signal.StreamID{Type: "account", ID: fmt.Sprint("a", a)}
		if got := fmt.Sprint(p.seen[id]); got != "[1 2]" {
			t.Errorf("%s saw versions %s, want [1 2]", id, got)
		}
	}
	delete(p.goroutines, goroutineID()) // the caller's: it works too
	waitGone(t, p.goroutines)
}

// waitGone waits for the goroutines to end, failing the test if they
// are still there well after an idle worker's time.
func waitGone(t *testing.T, ids map[int64]bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		alive := 0
		for id := range ids {
			if bytes.Contains(buf, fmt.Appendf(nil, "goroutine %d [", id)) {
				alive++
			}
		}
		if alive == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d idle workers still running", alive, len(ids))
		}
	}
}

type markDoc struct {
	Version int64 `json:"version"`
}

type countDoc struct {
	Count int `json:"count"`
}

// TestReusedRunsKeepApart: one worker runs a batch's streams one after
// the other with the same view transaction; a failed run's writes must
// not reach the next run's commit, and each run reads what the runs
// before it committed. Per stream, a1 and a3 commit the count one after
// the other; batched, the page commits it once.
func TestReusedRunsKeepApart(t *testing.T) {
	for _, tc := range []struct {
		name         string
		store        func(*memstore.Store) signal.Store
		countVersion int64
	}{
		{"per stream", func(st *memstore.Store) signal.Store { return perStream(st) }, 2},
		{"batched", func(st *memstore.Store) signal.Store { return st }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := reusedRunsService(t, tc.store(storeOf(t, roundRobin(3, 1))))
			err := svc.Dispatch(t.Context(), roundRobin(3, 1))
			var de *signal.DispatchError
			if !errors.As(err, &de) || len(de.Failures) != 1 || de.Failures[0].Stream.ID != "a2" || de.Failures[0].Version != 1 {
				t.Fatalf("got %v, want a2 failed at version 1", err)
			}
			for id, want := range map[string]bool{"a1": true, "a2": false, "a3": true} {
				if _, _, err := signal.LoadView[markDoc](t.Context(), svc, "mark", id); (err == nil) != want {
					t.Errorf("mark/%s: %v, want it there: %v", id, err, want)
				}
			}
			if c, v, err := signal.LoadView[countDoc](t.Context(), svc, "count", "all"); err != nil || c.Count != 2 || v != tc.countVersion {
				t.Errorf("count %+v at version %d (%v), want 2 at version %d: a1's and a3's", c, v, err, tc.countVersion)
			}
		})
	}
}

// reusedRunsService projects marks and a shared count, a2 failing after
// its writes.
func reusedRunsService(t *testing.T, st signal.Store) *signal.Service {
	t.Helper()
	marks := &signal.Projection{Name: "marks", Types: []string{"account"}, On: []signal.ProjectionHandler{
		signal.ProjectAll(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event) error {
			if err := tx.Put(ctx, "mark", ev.AggregateID, markDoc{ev.Version}); err != nil {
				return err
			}
			var c countDoc
			if _, err := tx.Get(ctx, "count", "all", &c); err != nil {
				return err
			}
			c.Count++
			if err := tx.Put(ctx, "count", "all", c); err != nil {
				return err
			}
			if ev.AggregateID == "a2" {
				return errors.New("a2 fails after its writes")
			}
			return nil
		}),
	}}
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{signal.MustDefine(accountSpec())},
		Subscribers: []signal.Subscriber{marks}, DispatchConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// cancellable is a memstore whose checkpoint reads fail once the
// context is done, as a remote store's would.
type cancellable struct{ *memstore.Store }

func (s cancellable) LoadCheckpoint(ctx context.Context, sub string, id signal.StreamID) (signal.Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return signal.Checkpoint{}, &signal.Error{Kind: signal.KindUnavailable, Op: "test.LoadCheckpoint", Err: err}
	}
	return s.Store.LoadCheckpoint(ctx, sub, id)
}

func (s cancellable) LoadCheckpoints(ctx context.Context, sub string, ids []signal.StreamID) ([]signal.Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, &signal.Error{Kind: signal.KindUnavailable, Op: "test.LoadCheckpoints", Err: err}
	}
	return s.Store.LoadCheckpoints(ctx, sub, ids)
}

// TestCancelledDispatchNamesEveryStream: under a cancelled context every
// stream of the batch fails, and the error names each one, in the order
// the batch first holds them, at its first version.
func TestCancelledDispatchNamesEveryStream(t *testing.T) {
	commits := roundRobin(3, 2)
	st := cancellable{storeOf(t, commits)}
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{signal.MustDefine(accountSpec())},
		Subscribers: []signal.Subscriber{balanceProjection()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = svc.Dispatch(ctx, commits)
	var de *signal.DispatchError
	if !errors.As(err, &de) {
		t.Fatalf("got %v, want a DispatchError", err)
	}
	var got []string
	for _, f := range de.Failures {
		got = append(got, fmt.Sprintf("%s@%d:%v", f.Stream.ID, f.Version, signal.KindOf(f.Err) == signal.KindUnavailable))
	}
	if want := "[a1@1:true a2@1:true a3@1:true]"; fmt.Sprint(got) != want {
		t.Fatalf("failures %v, want %s", got, want)
	}
}
