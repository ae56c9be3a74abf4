// Package bank is the test domain of pkg/cli, a service that is not the
// cart: accounts opened by Open (genesis), Deposit, Withdraw refused
// beyond the balance, closed once empty (End); a balances projection; and
// a welcome policy that sends each new account a letter (an internal
// command of a second type), so tests see views and policies run by dev.
package bank

import (
	"context"
	"errors"

	"github.com/signalforgo/signal/pkg/signal"
)

// Account is the state of an account; amounts are in cents.
type Account struct {
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
}

// Account commands.
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

// Account events.
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
	ErrNotPositive       = errors.New("the amount must be positive")
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrNotEmpty          = errors.New("only an empty account can be closed")
)

// AccountType is the account aggregate type.
var AccountType = signal.MustDefine(signal.Spec[Account]{
	Name: "account",
	Commands: []signal.CommandSpec[Account]{
		signal.Decide("Open", func(_ Account, c Open) ([]any, error) { return []any{Opened(c)}, nil }, signal.Genesis),
		signal.Decide("Deposit", deposit),
		signal.Decide("Withdraw", withdraw),
	},
	Events: []signal.EventSpec[Account]{
		signal.Evolve("Opened", func(a Account, e Opened) Account { a.Owner = e.Owner; return a }),
		signal.Evolve("Deposited", func(a Account, e Deposited) Account { a.Balance += e.Amount; return a }),
		signal.Evolve("Withdrawn", func(a Account, e Withdrawn) Account { a.Balance -= e.Amount; return a }),
		signal.Evolve("Closed", func(a Account, _ Closed) Account { return a }, signal.Terminal),
	},
	End: signal.EndWith(func(a Account) (Closed, error) {
		if a.Balance != 0 {
			return Closed{}, ErrNotEmpty
		}
		return Closed{}, nil
	}),
})

func deposit(_ Account, c Deposit) ([]any, error) {
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

// BalancesView holds one Balance per account, keyed by account id.
const BalancesView = "balances"

// Balance is a document of the balances view.
type Balance struct {
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
}

// App returns the bank's app description: both types, the balances
// projection and the welcome policy.
func App() *signal.App {
	return &signal.App{Name: "bank", Types: []signal.AggregateType{AccountType, LetterType},
		Subscribers: []signal.Subscriber{balances(), welcome()}}
}

func balances() *signal.Projection {
	add := func(ctx context.Context, tx *signal.ViewTx, id string, amount int64) error {
		var b Balance
		if _, err := tx.Get(ctx, BalancesView, id, &b); err != nil {
			return err
		}
		b.Balance += amount
		return tx.Put(ctx, BalancesView, id, b)
	}
	return &signal.Projection{Name: BalancesView, Types: []string{"account"}, On: []signal.ProjectionHandler{
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Opened) error {
			return tx.Put(ctx, BalancesView, ev.AggregateID, Balance{Owner: e.Owner})
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Deposited) error {
			return add(ctx, tx, ev.AggregateID, e.Amount)
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Withdrawn) error {
			return add(ctx, tx, ev.AggregateID, -e.Amount)
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Closed) error {
			return tx.Delete(ctx, BalancesView, ev.AggregateID)
		}),
	}}
}

// welcome sends a letter to every new account, under the account's id.
func welcome() *signal.Policy {
	return &signal.Policy{Name: "welcome", Types: []string{"account"}, On: []signal.PolicyHandler{
		signal.React(func(ctx context.Context, ev signal.Event, e Opened) ([]signal.Send, error) {
			return []signal.Send{LetterType.To(ev.AggregateID, Send{Text: "welcome, " + e.Owner})}, nil
		}),
	}}
}
