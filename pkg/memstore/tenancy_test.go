package memstore_test

import (
	"testing"

	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// TestTenancy: tenants kept apart over the memory store (storetest.RunTenancy).
func TestTenancy(t *testing.T) { storetest.RunTenancy(t, newStore) }
