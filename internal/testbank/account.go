package testbank

import (
	"errors"
	"fmt"

	"github.com/signalforgo/signal/pkg/signal"
)

// Account is the state of an account; amounts are in cents. Frozen is
// omitted while false so the state reads as the tests' JSON expects.
type Account struct {
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
	Frozen  bool   `json:"frozen,omitempty"`
}

// Account commands.
type (
	// Open creates an account (genesis).
	Open struct {
		Owner string `json:"owner"`
	}
	// Deposit adds a positive amount; the memo is an optional field, so
	// the console shows one.
	Deposit struct {
		Amount int64  `json:"amount"`
		Memo   string `json:"memo,omitempty"`
	}
	// Withdraw takes a positive amount no larger than the balance.
	Withdraw struct {
		Amount int64 `json:"amount"`
	}
	// Freeze marks the account frozen; internal: not routable over HTTP.
	Freeze struct {
		Reason string `json:"reason"`
	}
)

// Account events.
type (
	// Opened records Open.
	Opened struct {
		Owner string `json:"owner"`
	}
	// Deposited records Deposit.
	Deposited struct {
		Amount int64  `json:"amount"`
		Memo   string `json:"memo,omitempty"`
	}
	// Withdrawn records Withdraw.
	Withdrawn struct {
		Amount int64 `json:"amount"`
	}
	// Frozen records Freeze.
	Frozen struct {
		Reason string `json:"reason"`
	}
	// Closed records the end of an empty account (terminal).
	Closed struct{}
)

// Domain refusals. A refused Withdraw wraps ErrInsufficientFunds with
// the balance, so a caller sees how much there is.
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
		signal.Decide("Freeze", func(_ Account, c Freeze) ([]any, error) { return []any{Frozen(c)}, nil }, signal.Internal),
	},
	Events: []signal.EventSpec[Account]{
		signal.Evolve("Opened", func(a Account, e Opened) Account { a.Owner = e.Owner; return a }),
		signal.Evolve("Deposited", func(a Account, e Deposited) Account { a.Balance += e.Amount; return a }),
		signal.Evolve("Withdrawn", func(a Account, e Withdrawn) Account { a.Balance -= e.Amount; return a }),
		signal.Evolve("Frozen", func(a Account, _ Frozen) Account { a.Frozen = true; return a }),
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
		return nil, fmt.Errorf("%w: the balance is %d", ErrInsufficientFunds, a.Balance)
	}
	return []any{Withdrawn(c)}, nil
}
