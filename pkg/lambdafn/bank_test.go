package lambdafn

import (
	"github.com/signalforgo/signal/internal/testbank"
	"github.com/signalforgo/signal/pkg/signal"
)

// bankApp is the bank these tests deploy: accounts, the balances view and
// the auditor, which parks every Unlucky deposit; no letters, so the
// projector runs exactly two subscribers. testdata/bank builds the same.
func bankApp() *signal.App { return testbank.App(testbank.WithoutLetters(), testbank.WithAuditor()) }
