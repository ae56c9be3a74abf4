package testbank

import (
	"context"
	"errors"

	"github.com/signalforgo/signal/pkg/signal"
)

// Record appends a note to an audit log; genesis and internal, so the
// audit type has nothing a form could send.
type Record struct {
	Note string `json:"note"`
}

// Recorded records Record.
type Recorded struct {
	Note string `json:"note"`
}

// AuditType is the audit aggregate type; its state is the notes in order.
var AuditType = signal.MustDefine(signal.Spec[[]string]{
	Name: "audit",
	Commands: []signal.CommandSpec[[]string]{
		signal.Decide("Record", func(_ []string, c Record) ([]any, error) { return []any{Recorded(c)}, nil }, signal.Genesis, signal.Internal),
	},
	Events: []signal.EventSpec[[]string]{
		// The full slice expression copies: a fold never shares the
		// backing array of an earlier state.
		signal.Evolve("Recorded", func(s []string, e Recorded) []string { return append(s[:len(s):len(s)], e.Note) }),
	},
})

// Unlucky is the deposit amount the auditor fails on.
const Unlucky = 13

// ErrUnlucky is the auditor's failure on an Unlucky deposit.
var ErrUnlucky = errors.New("auditor: unlucky deposit")

// Auditor returns the auditor observer: it fails with ErrUnlucky on
// every Unlucky deposit, every time, a persistent failure the projector
// must park and report without holding back the other subscribers; it
// accepts every other event.
func Auditor() *signal.Observer {
	return &signal.Observer{Name: "auditor", On: []signal.ObserverHandler{
		signal.Observe(func(ctx context.Context, ev signal.Event, e Deposited) error {
			if e.Amount == Unlucky {
				return ErrUnlucky
			}
			return nil
		}),
	}}
}
