package pgstore_test

import (
	"testing"

	"github.com/signalforgo/signal/internal/pgtest"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// TestService runs Services over the store as two processes would: two
// stores on one database, commands racing on the same carts from both
// (storetest.RunService).
func TestService(t *testing.T) {
	var url string
	storetest.RunService(t, storetest.ServiceStores{
		New: func(t *testing.T) signal.Store {
			url = pgtest.URL(t)
			return openURL(t, url)
		},
		Shared: func(t *testing.T, _ signal.Store) signal.Store { return openURL(t, url) },
	})
}

// A counter, the smallest domain the examples can run.
type counter struct{ N int64 }
type add struct{ By int64 }
type added struct{ By int64 }

var counterType = signal.MustDefine(signal.Spec[counter]{
	Name:     "counter",
	Commands: []signal.CommandSpec[counter]{signal.Decide("Add", func(_ counter, c add) ([]any, error) { return []any{added(c)}, nil }, signal.Genesis)},
	Events:   []signal.EventSpec[counter]{signal.Evolve("Added", func(c counter, e added) counter { return counter{N: c.N + e.By} })},
})
