package console_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/signalforgo/signal/pkg/signal"
)

// The bank domain of these tests: the console's own (library tests never
// import examples/), with what the console shows of any app: a genesis
// command, fields of several JSON types, a domain refusal, an internal
// command, a type whose only command is internal, and a view.
//
//	account: Open {owner} (genesis), Deposit {amount, memo?}, Withdraw {amount}
//	         (refused beyond the balance), Freeze {reason} (internal)
//	audit:   Record {note} (genesis, internal): nothing to send from a form
//	views:   balances/{account id}

type account struct {
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
	Frozen  bool   `json:"frozen"`
}

type Open struct {
	Owner string `json:"owner"`
}

type Deposit struct {
	Amount int64  `json:"amount"`
	Memo   string `json:"memo,omitempty"`
}

type Withdraw struct {
	Amount int64 `json:"amount"`
}

type Freeze struct {
	Reason string `json:"reason"`
}

type Opened Open

type Deposited Deposit

type Withdrawn Withdraw

type Frozen Freeze

var accountType = signal.MustDefine(signal.Spec[account]{
	Name: "account",
	Commands: []signal.CommandSpec[account]{
		signal.Decide("Open", func(s account, c Open) ([]any, error) {
			if s.Owner != "" {
				return nil, errors.New("the account is already open")
			}
			if c.Owner == "" {
				return nil, errors.New("an account needs an owner")
			}
			return []any{Opened(c)}, nil
		}, signal.Genesis),
		signal.Decide("Deposit", func(_ account, c Deposit) ([]any, error) {
			if c.Amount < 1 {
				return nil, errors.New("a deposit must be at least 1")
			}
			return []any{Deposited(c)}, nil
		}),
		signal.Decide("Withdraw", func(s account, c Withdraw) ([]any, error) {
			if c.Amount > s.Balance {
				return nil, fmt.Errorf("insufficient funds: the balance is %d", s.Balance)
			}
			return []any{Withdrawn(c)}, nil
		}),
		signal.Decide("Freeze", func(_ account, c Freeze) ([]any, error) { return []any{Frozen(c)}, nil }, signal.Internal),
	},
	Events: []signal.EventSpec[account]{
		signal.Evolve("Opened", func(s account, e Opened) account { s.Owner = e.Owner; return s }),
		signal.Evolve("Deposited", func(s account, e Deposited) account { s.Balance += e.Amount; return s }),
		signal.Evolve("Withdrawn", func(s account, e Withdrawn) account { s.Balance -= e.Amount; return s }),
		signal.Evolve("Frozen", func(s account, _ Frozen) account { s.Frozen = true; return s }),
	},
})

type Record struct {
	Note string `json:"note"`
}

type Recorded Record

var auditType = signal.MustDefine(signal.Spec[[]string]{
	Name: "audit",
	Commands: []signal.CommandSpec[[]string]{
		signal.Decide("Record", func(_ []string, c Record) ([]any, error) { return []any{Recorded(c)}, nil }, signal.Genesis, signal.Internal),
	},
	Events: []signal.EventSpec[[]string]{
		signal.Evolve("Recorded", func(s []string, e Recorded) []string { return append(s[:len(s):len(s)], e.Note) }),
	},
})

type balance struct {
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
	Version int64  `json:"version"`
}

var bankApp = signal.App{
	Name:  "bank",
	Types: []signal.AggregateType{accountType, auditType},
	Subscribers: []signal.Subscriber{
		&signal.Projection{Name: "balances", Types: []string{"account"}, On: []signal.ProjectionHandler{
			signal.ProjectAll(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event) error {
				var doc balance
				if _, err := tx.Get(ctx, "balances", ev.AggregateID, &doc); err != nil {
					return err
				}
				s := accountType.Fold(account{Owner: doc.Owner, Balance: doc.Balance}, ev.Data)
				return tx.Put(ctx, "balances", ev.AggregateID, balance{Owner: s.Owner, Balance: s.Balance, Version: ev.Version})
			}),
		}},
	},
}
