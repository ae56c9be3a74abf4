// Package bank is the test domain of pkg/lambdafn: accounts opened by
// Open (genesis), Deposit, Withdraw refused on insufficient funds, closed
// once empty (End), a balances projection, and an auditor that fails on a
// deposit of 13, so tests can see a subscriber parked. It is a non-test
// package so the RIE bootstrap under testdata can import it.
package bank

import (
	"context"
	"errors"

	"github.com/signalforgo/signal/pkg/signal"
)

// Account is the state of an account.
type Account struct {
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
}

// Commands.
type (
	Open struct {
		Owner string `json:"owner"`
	}
	Deposit struct {
		Amount int64 `json:"amount"`
	}
	Withdraw struct {
		Amount int64 `json:"amount"`
	}
)

// Events.
type (
	Opened struct {
		Owner string `json:"owner"`
	}
	Deposited struct {
		Amount int64 `json:"amount"`
	}
	Withdrawn struct {
		Amount int64 `json:"amount"`
	}
	Closed struct{}
)

// Domain refusals.
var (
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrNotPositive       = errors.New("the amount must be positive")
	ErrNotEmpty          = errors.New("only an empty account can be closed")
)

// Unlucky is the deposit amount the auditor fails on.
const Unlucky = 13

// Type is the account aggregate type.
var Type = signal.MustDefine(signal.Spec[Account]{
	Name: "account",
	Commands: []signal.CommandSpec[Account]{
		signal.Decide("Open", func(a Account, c Open) ([]any, error) { return []any{Opened(c)}, nil }, signal.Genesis),
		signal.Decide("Deposit", deposit),
		signal.Decide("Withdraw", withdraw),
	},
	Events: []signal.EventSpec[Account]{
		signal.Evolve("Opened", func(a Account, e Opened) Account { a.Owner = e.Owner; return a }),
		signal.Evolve("Deposited", func(a Account, e Deposited) Account { a.Balance += e.Amount; return a }),
		signal.Evolve("Withdrawn", func(a Account, e Withdrawn) Account { a.Balance -= e.Amount; return a }),
		signal.Evolve("Closed", func(a Account, e Closed) Account { return a }, signal.Terminal),
	},
	End: signal.EndWith(func(a Account) (Closed, error) {
		if a.Balance != 0 {
			return Closed{}, ErrNotEmpty
		}
		return Closed{}, nil
	}),
})

func deposit(a Account, c Deposit) ([]any, error) {
	if c.Amount <= 0 {
		return nil, ErrNotPositive
	}
	return []any{Deposited(c)}, nil
}

func withdraw(a Account, c Withdraw) ([]any, error) {
	switch {
	case c.Amount <= 0:
		return nil, ErrNotPositive
	case c.Amount > a.Balance:
		return nil, ErrInsufficientFunds
	}
	return []any{Withdrawn(c)}, nil
}

// Balance is a document of the balances view, keyed by account id.
type Balance struct {
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
}

// App returns the bank's app description.
func App() *signal.App {
	return &signal.App{Name: "bank", Types: []signal.AggregateType{Type}, Subscribers: []signal.Subscriber{balances(), auditor()}}
}

func balances() *signal.Projection {
	add := func(ctx context.Context, tx *signal.ViewTx, id string, amount int64) error {
		var b Balance
		if _, err := tx.Get(ctx, "balances", id, &b); err != nil {
			return err
		}
		b.Balance += amount
		return tx.Put(ctx, "balances", id, b)
	}
	return &signal.Projection{Name: "balances", On: []signal.ProjectionHandler{
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Opened) error {
			return tx.Put(ctx, "balances", ev.AggregateID, Balance{Owner: e.Owner})
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Deposited) error {
			return add(ctx, tx, ev.AggregateID, e.Amount)
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Withdrawn) error {
			return add(ctx, tx, ev.AggregateID, -e.Amount)
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Closed) error {
			return tx.Delete(ctx, "balances", ev.AggregateID)
		}),
	}}
}

// auditor refuses an Unlucky deposit, every time: a persistent failure
// the projector must park and report, without holding back balances.
func auditor() *signal.Observer {
	return &signal.Observer{Name: "auditor", On: []signal.ObserverHandler{
		signal.Observe(func(ctx context.Context, ev signal.Event, e Deposited) error {
			if e.Amount == Unlucky {
				return errors.New("auditor: unlucky deposit")
			}
			return nil
		}),
	}}
}
