package boltstore

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/signalforgo/signal/internal/testbank"
	"github.com/signalforgo/signal/pkg/signal"
)

// BenchmarkProjectPages: what signal dev's projector does, on the
// embedded store with fsync on: the balances projection over a feed of
// 2,000 events read in pages of 200, either from one account (each page
// one stream) or round-robin from 200 accounts of 10 events (each page
// 200 streams of one event), batched (the store's ViewBatcher: a write per
// page) or per stream (a CommitViews per aggregate per page). It reports
// events/s and the view commits per page.
func BenchmarkProjectPages(b *testing.B) {
	for _, shape := range []struct {
		name             string
		accounts, events int
	}{{"one", 1, 2000}, {"roundrobin", 200, 10}} {
		path := seedBank(b, shape.accounts, shape.events)
		for _, batched := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/batched=%v", shape.name, batched), func(b *testing.B) {
				benchProjectPages(b, path, shape.accounts*shape.events, batched)
			})
		}
	}
}

// perStreamStore hides the ViewBatcher ability.
type perStreamStore struct {
	signal.Store
	signal.ViewStore
	signal.ChangeFeed
}

// countedStore counts the view commits, batched or not.
type countedStore struct {
	*Store
	commits atomic.Int64
}

func (s *countedStore) CommitViews(ctx context.Context, c signal.ViewCommit) error {
	s.commits.Add(1)
	return s.Store.CommitViews(ctx, c)
}

func (s *countedStore) CommitViewBatch(ctx context.Context, b signal.ViewBatch) error {
	s.commits.Add(1)
	return s.Store.CommitViewBatch(ctx, b)
}

func benchProjectPages(b *testing.B, seeded string, events int, batched bool) {
	ctx := context.Background()
	var pages int
	var writes int64
	for b.Loop() {
		b.StopTimer()
		st := &countedStore{Store: openCopy(b, seeded)}
		var store signal.Store = st
		if !batched {
			store = perStreamStore{st, st, st}
		}
		svc, err := signal.New(signal.Config{Store: store, Types: []signal.AggregateType{testbank.AccountType},
			Subscribers: []signal.Subscriber{testbank.Balances()}})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		_, n, err := svc.DispatchChanges(ctx, st, 0, 200)
		b.StopTimer()
		if err != nil || n != events {
			b.Fatal(n, err)
		}
		writes += st.commits.Load()
		pages += (events + 199) / 200
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(writes)/float64(pages), "writes/page")
}

// seedBank writes accounts of events each (an Open, then deposits),
// round-robin, to a store without fsync and returns its file.
func seedBank(b *testing.B, accounts, events int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "seed.db")
	st, err := Open(path, &Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{testbank.AccountType}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for v := range events {
		for a := range accounts {
			var cmd any = testbank.Deposit{Amount: 1}
			if v == 0 {
				cmd = testbank.Open{Owner: "ann"}
			}
			if _, err := svc.Handle(ctx, "account", fmt.Sprint("a", a), cmd); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// openCopy opens a copy of the store file at path, with fsync on.
func openCopy(b *testing.B, path string) *Store {
	b.Helper()
	dst := filepath.Join(b.TempDir(), "bench.db")
	in, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	st, err := Open(dst, nil)
	if err != nil {
		b.Fatal(err)
	}
	return st
}
