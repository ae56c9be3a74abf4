package dynstore

import (
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) signal.Store { return newTestStore(t).Store })
}
