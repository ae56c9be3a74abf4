package dynamotest_test

import (
	"context"
	"errors"

	"github.com/signalforgo/signal/pkg/signal"
)

// A small bank, the domain of these tests: accounts opened by Open
// (genesis), Deposit, Withdraw refused on insufficient funds, and a
// "balance" projection of each account.

type Account struct {
	Balance int64 `json:"balance"`
}

type (
	Open     struct{}
	Deposit  struct{ Amount int64 }
	Withdraw struct{ Amount int64 }

	Opened    struct{}
	Deposited struct{ Amount int64 }
	Withdrawn struct{ Amount int64 }
)

var errInsufficientFunds = errors.New("insufficient funds")

var AccountType = signal.MustDefine(signal.Spec[Account]{
	Name: "account",
	Commands: []signal.CommandSpec[Account]{
		signal.Decide("Open", func(Account, Open) ([]any, error) { return []any{Opened{}}, nil }, signal.Genesis),
		signal.Decide("Deposit", func(_ Account, c Deposit) ([]any, error) { return []any{Deposited(c)}, nil }),
		signal.Decide("Withdraw", func(a Account, c Withdraw) ([]any, error) {
			if c.Amount > a.Balance {
				return nil, errInsufficientFunds
			}
			return []any{Withdrawn(c)}, nil
		}),
	},
	Events: []signal.EventSpec[Account]{
		signal.Evolve("Opened", func(a Account, _ Opened) Account { return a }),
		signal.Evolve("Deposited", func(a Account, e Deposited) Account { a.Balance += e.Amount; return a }),
		signal.Evolve("Withdrawn", func(a Account, e Withdrawn) Account { a.Balance -= e.Amount; return a }),
	},
})

const balanceView = "balance"

// Balance is the projection's document of one account.
type Balance struct {
	Balance int64 `json:"balance"`
	Events  int   `json:"events"`
}

func balanceProjection() *signal.Projection {
	add := func(ctx context.Context, tx *signal.ViewTx, id string, delta int64) error {
		var b Balance
		if _, err := tx.Get(ctx, balanceView, id, &b); err != nil {
			return err
		}
		b.Balance += delta
		b.Events++
		return tx.Put(ctx, balanceView, id, b)
	}
	return &signal.Projection{Name: balanceView, On: []signal.ProjectionHandler{
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, _ Opened) error {
			return add(ctx, tx, ev.AggregateID, 0)
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Deposited) error {
			return add(ctx, tx, ev.AggregateID, e.Amount)
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Withdrawn) error {
			return add(ctx, tx, ev.AggregateID, -e.Amount)
		}),
	}}
}
