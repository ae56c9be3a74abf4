package boltstore

import (
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// TestTenancy: tenants kept apart on the embedded store (storetest.RunTenancy).
func TestTenancy(t *testing.T) {
	storetest.RunTenancy(t, func(t *testing.T) signal.Store { return open(t, nil) })
}
