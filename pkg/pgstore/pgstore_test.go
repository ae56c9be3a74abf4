package pgstore_test

import (
	"context"
	"testing"

	"github.com/signalforgo/signal/internal/pgtest"
	"github.com/signalforgo/signal/internal/testsupport"
	"github.com/signalforgo/signal/pkg/pgstore"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

func TestMain(m *testing.M) { testsupport.Main(m, pgtest.Stop) }

// open opens a store on a fresh database and closes it when the test ends.
func open(t testing.TB) *pgstore.Store {
	t.Helper()
	return openURL(t, pgtest.URL(t))
}

func openURL(t testing.TB, url string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) signal.Store { return open(t) })
}
