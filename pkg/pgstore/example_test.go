package pgstore_test

import (
	"context"
	"log"
	"os"

	"github.com/signalforgo/signal/pkg/pgstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// Open a store from DATABASE_URL and run a Service on it. The pool's
// settings go in the URL, e.g.
// postgres://app:secret@db:5432/app?sslmode=require&pool_max_conns=20.
func ExampleOpen() {
	ctx := context.Background()
	st, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{counterType}})
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := signal.Bind(svc, counterType).Handle(ctx, "visits", add{By: 3}); err != nil {
		log.Fatal(err)
	}
}

// Follow the change feed from the beginning, as a projector process
// would: read a page, hand it on, remember the last position, and wait
// when there is nothing new. No commit is ever skipped, even when
// concurrent appends commit out of order.
func ExampleStore_Changes() {
	ctx := context.Background()
	st, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	var after uint64 // a resumable position: keep it durably
	for {
		changes, err := st.Changes(ctx, after, 100)
		if err != nil {
			log.Fatal(err)
		}
		for _, ch := range changes {
			log.Printf("%s@%d: %d events", ch.Commit.Stream, ch.Commit.Version, len(ch.Commit.Events))
			after = ch.Position
		}
		if len(changes) == 0 {
			if err := st.WaitForChange(ctx, after); err != nil {
				log.Fatal(err)
			}
		}
	}
}
