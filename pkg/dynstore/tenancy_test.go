package dynstore

import (
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// TestTenancy: tenants kept apart on DynamoDB (moto_server), the
// subscribers fed from Load as the stream would (storetest.RunTenancy).
func TestTenancy(t *testing.T) {
	storetest.RunTenancy(t, func(t *testing.T) signal.Store { return newTestStore(t).Store })
}
