package testbank

import "github.com/signalforgo/signal/pkg/signal"

// Option changes which parts App puts in the bank.
type Option func(*parts)

type parts struct{ letters, audit, auditor bool }

// WithoutLetters leaves out the letter type and the welcome policy, for
// tests that count the app's types or subscribers without them.
func WithoutLetters() Option { return func(p *parts) { p.letters = false } }

// WithAudit adds the audit type (internal commands only).
func WithAudit() Option { return func(p *parts) { p.audit = true } }

// WithAuditor adds the Auditor observer, after the other subscribers.
func WithAuditor() Option { return func(p *parts) { p.auditor = true } }

// App returns a new description of the app "bank": the account and
// letter types, the balances projection and the welcome policy, changed
// by opts in any order. Types come in the order account, letter, audit;
// subscribers balances, welcome, auditor. Each call returns a fresh App,
// so a test may change its copy.
func App(opts ...Option) *signal.App {
	p := parts{letters: true}
	for _, o := range opts {
		o(&p)
	}
	app := &signal.App{Name: "bank", Types: []signal.AggregateType{AccountType}, Subscribers: []signal.Subscriber{Balances()}}
	if p.letters {
		app.Types = append(app.Types, LetterType)
		app.Subscribers = append(app.Subscribers, Welcome())
	}
	if p.audit {
		app.Types = append(app.Types, AuditType)
	}
	if p.auditor {
		app.Subscribers = append(app.Subscribers, Auditor())
	}
	return app
}
