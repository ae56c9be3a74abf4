package signaltest_test

import (
	"context"
	"errors"

	"github.com/signalforgo/signal/pkg/signal"
)

// A small bank, the domain the kit's tests and examples run on: accounts
// opened by Open (genesis), Deposit, Withdraw refused on insufficient
// funds or a frozen account, Freeze (internal: only the fraud policy
// sends it), and closed from outside (End) once empty.

type Account struct {
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
	Frozen  bool   `json:"frozen,omitempty"`
	Closed  bool   `json:"closed,omitempty"`
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
	Freeze struct {
		Reason string `json:"reason"`
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
	Frozen struct {
		Reason string `json:"reason"`
	}
	AccountClosed struct {
		Owner string `json:"owner"`
	}
)

var (
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrNotPositive       = errors.New("the amount must be positive")
	ErrFrozen            = errors.New("the account is frozen")
	ErrNotEmpty          = errors.New("only an empty account can be closed")
)

var AccountType = signal.MustDefine(signal.Spec[Account]{
	Name: "account",
	Commands: []signal.CommandSpec[Account]{
		signal.Decide("Open", open, signal.Genesis),
		signal.Decide("Deposit", deposit),
		signal.Decide("Withdraw", withdraw),
		signal.Decide("Freeze", freeze, signal.Internal),
	},
	Events: []signal.EventSpec[Account]{
		signal.Evolve("Opened", func(a Account, e Opened) Account { a.Owner = e.Owner; return a }),
		signal.Evolve("Deposited", func(a Account, e Deposited) Account { a.Balance += e.Amount; return a }),
		signal.Evolve("Withdrawn", func(a Account, e Withdrawn) Account { a.Balance -= e.Amount; return a }),
		signal.Evolve("Frozen", func(a Account, e Frozen) Account { a.Frozen = true; return a }),
		signal.Evolve("AccountClosed", func(a Account, e AccountClosed) Account { a.Closed = true; return a }, signal.Terminal),
	},
	End: signal.EndWith(closeAccount),
})

func open(a Account, c Open) ([]any, error) {
	if a.Owner != "" {
		return nil, nil // opened already: nothing to do
	}
	return []any{Opened(c)}, nil
}

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
	case a.Frozen:
		return nil, ErrFrozen
	case c.Amount > a.Balance:
		return nil, ErrInsufficientFunds
	}
	return []any{Withdrawn(c)}, nil
}

func freeze(a Account, c Freeze) ([]any, error) {
	if a.Frozen {
		return nil, nil
	}
	return []any{Frozen(c)}, nil
}

func closeAccount(a Account) (AccountClosed, error) {
	if a.Balance != 0 {
		return AccountClosed{}, ErrNotEmpty
	}
	return AccountClosed{Owner: a.Owner}, nil
}

// The balances view: one document per account.

type Balance struct {
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
}

func BalancesProjection() *signal.Projection {
	return &signal.Projection{Name: "balances", On: []signal.ProjectionHandler{
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Opened) error {
			return tx.Put(ctx, "balances", ev.AggregateID, Balance{Owner: e.Owner})
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Deposited) error {
			return addBalance(ctx, tx, ev.AggregateID, e.Amount)
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Withdrawn) error {
			return addBalance(ctx, tx, ev.AggregateID, -e.Amount)
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e AccountClosed) error {
			return tx.Delete(ctx, "balances", ev.AggregateID)
		}),
	}}
}

func addBalance(ctx context.Context, tx *signal.ViewTx, id string, amount int64) error {
	var b Balance
	if _, err := tx.Get(ctx, "balances", id, &b); err != nil {
		return err
	}
	b.Balance += amount
	return tx.Put(ctx, "balances", id, b)
}

// The fraud policy freezes an account after a large withdrawal.

const LargeWithdrawal = 1000

var ErrNegativeWithdrawal = errors.New("a withdrawal of a negative amount")

func FraudPolicy() *signal.Policy {
	return &signal.Policy{Name: "fraud-watch", On: []signal.PolicyHandler{
		signal.React(func(_ context.Context, ev signal.Event, e Withdrawn) ([]signal.Send, error) {
			if e.Amount < 0 {
				return nil, ErrNegativeWithdrawal
			}
			if e.Amount < LargeWithdrawal {
				return nil, nil
			}
			return []signal.Send{AccountType.To(ev.AggregateID, Freeze{Reason: "large withdrawal"})}, nil
		}),
	}}
}

// The bank's rule: an account belongs to the subject that opened it (the
// Actor of its first commit); only that subject sends it commands or
// reads it. A caller without a principal is asked for one; policies (the
// fraud watch's Freeze) may do anything; an account opened without a
// principal belongs to nobody and is open to every caller.
func AccountRule(_ context.Context, p *signal.Principal, a *signal.Action) error {
	switch {
	case p != nil && p.System:
		return nil
	case p == nil:
		return signal.Unauthenticated()
	case a.Owner != "" && a.Owner != p.Subject:
		return signal.Forbidden("account %s belongs to another customer", a.ID)
	}
	return nil
}

// BankApp is the bank as a deployed service wires it.
func BankApp() *signal.App {
	return &signal.App{Name: "bank", Types: []signal.AggregateType{AccountType},
		Subscribers: []signal.Subscriber{FraudPolicy()}, Authorize: AccountRule}
}
