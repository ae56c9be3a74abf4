package testbank

import (
	"context"

	"github.com/signalforgo/signal/pkg/signal"
)

// Letter is a letter sent to an account's owner, under the account's id.
type Letter struct {
	Text string `json:"text"`
}

// Send sends the letter; internal: only the welcome policy sends it.
type Send struct {
	Text string `json:"text"`
}

// Sent records a sent letter.
type Sent struct {
	Text string `json:"text"`
}

// LetterType is the letter aggregate type.
var LetterType = signal.MustDefine(signal.Spec[Letter]{
	Name: "letter",
	Commands: []signal.CommandSpec[Letter]{
		signal.Decide("Send", func(_ Letter, c Send) ([]any, error) { return []any{Sent(c)}, nil }, signal.Genesis, signal.Internal),
	},
	Events: []signal.EventSpec[Letter]{
		signal.Evolve("Sent", func(_ Letter, e Sent) Letter { return Letter(e) }),
	},
})

// Welcome returns the welcome policy: every Opened account gets the
// letter "welcome, <owner>" under the account's id, so tests see a
// policy's command run.
func Welcome() *signal.Policy {
	return &signal.Policy{Name: "welcome", Types: []string{"account"}, On: []signal.PolicyHandler{
		signal.React(func(ctx context.Context, ev signal.Event, e Opened) ([]signal.Send, error) {
			return []signal.Send{LetterType.To(ev.AggregateID, Send{Text: "welcome, " + e.Owner})}, nil
		}),
	}}
}
