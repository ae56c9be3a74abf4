// Package bank is the domain of the user's-path test: a service that is
// not the cart, written as a user of Signal writes theirs, on the public
// packages only. Its functions (functions/*) and its CLI (cmd/bank) are
// one line each on pkg/lambdafn and pkg/cli.
package bank

import (
	"context"
	"errors"

	"github.com/signalforgo/signal/pkg/signal"
)

// Account is the state of a bank account; amounts are in cents.
type Account struct {
	ID      string `json:"id"`
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
	Closed  bool   `json:"closed"`
}

// Commands.
type (
	// Open opens the account (genesis).
	Open struct {
		Owner string `json:"owner"`
	}
	// Deposit puts amount cents in.
	Deposit struct {
		Amount int64 `json:"amount"`
	}
	// Withdraw takes amount cents out; refused beyond the balance.
	Withdraw struct {
		Amount int64 `json:"amount"`
	}
	// Audit is internal: only the service itself sends it.
	Audit struct {
		Note string `json:"note"`
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
	Audited struct {
		Note string `json:"note"`
	}
	AccountClosed struct{}
)

// The refusals, shown to clients.
var (
	ErrNoOwner           = errors.New("an account needs an owner")
	ErrAlreadyOpen       = errors.New("the account is already open")
	ErrInvalidAmount     = errors.New("amount must be positive")
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrNotEmpty          = errors.New("only an empty account can be closed")
)

// AccountType is the account aggregate type.
var AccountType = signal.MustDefine(signal.Spec[Account]{
	Name:    "account",
	Initial: func(id string) Account { return Account{ID: id} },
	Commands: []signal.CommandSpec[Account]{
		signal.Decide("Open", open, signal.Genesis),
		signal.Decide("Deposit", deposit),
		signal.Decide("Withdraw", withdraw),
		signal.Decide("Audit", audit, signal.Internal),
	},
	Events: []signal.EventSpec[Account]{
		signal.Evolve("Opened", opened),
		signal.Evolve("Deposited", deposited),
		signal.Evolve("Withdrawn", withdrawn),
		signal.Evolve("Audited", func(s Account, _ Audited) Account { return s }),
		signal.Evolve("AccountClosed", closed, signal.Terminal),
	},
	End: signal.EndWith(closeAccount),
})

func open(s Account, c Open) ([]any, error) {
	switch {
	case s.Owner != "":
		return nil, ErrAlreadyOpen
	case c.Owner == "":
		return nil, ErrNoOwner
	}
	return []any{Opened(c)}, nil
}

func deposit(_ Account, c Deposit) ([]any, error) {
	if c.Amount <= 0 {
		return nil, ErrInvalidAmount
	}
	return []any{Deposited(c)}, nil
}

func withdraw(s Account, c Withdraw) ([]any, error) {
	switch {
	case c.Amount <= 0:
		return nil, ErrInvalidAmount
	case c.Amount > s.Balance:
		return nil, ErrInsufficientFunds
	}
	return []any{Withdrawn(c)}, nil
}

func audit(_ Account, c Audit) ([]any, error) { return []any{Audited(c)}, nil }

func closeAccount(s Account) (AccountClosed, error) {
	if s.Balance != 0 {
		return AccountClosed{}, ErrNotEmpty
	}
	return AccountClosed{}, nil
}

func opened(s Account, e Opened) Account       { s.Owner = e.Owner; return s }
func deposited(s Account, e Deposited) Account { s.Balance += e.Amount; return s }
func withdrawn(s Account, e Withdrawn) Account { s.Balance -= e.Amount; return s }
func closed(s Account, _ AccountClosed) Account {
	s.Closed = true
	return s
}

// BalancesView holds one Balance per account, keyed by account id.
const BalancesView = "balances"

// Balance is a balances document.
type Balance struct {
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
	// Version is the account's version the document reflects.
	Version int64 `json:"version"`
}

// BalancesProjection builds the balances view.
func BalancesProjection() *signal.Projection {
	return &signal.Projection{
		Name: BalancesView,
		On: []signal.ProjectionHandler{
			signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Opened) error {
				return tx.Put(ctx, BalancesView, ev.AggregateID, Balance{Owner: e.Owner, Version: ev.Version})
			}),
			signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Deposited) error {
				return adjust(ctx, tx, ev, e.Amount)
			}),
			signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Withdrawn) error {
				return adjust(ctx, tx, ev, -e.Amount)
			}),
		},
	}
}

func adjust(ctx context.Context, tx *signal.ViewTx, ev signal.Event, delta int64) error {
	var b Balance
	if _, err := tx.Get(ctx, BalancesView, ev.AggregateID, &b); err != nil {
		return err
	}
	b.Balance += delta
	b.Version = ev.Version
	return tx.Put(ctx, BalancesView, ev.AggregateID, b)
}

// App describes the bank service.
func App() *signal.App {
	return &signal.App{Name: "bank", Types: []signal.AggregateType{AccountType}, Subscribers: []signal.Subscriber{BalancesProjection()}}
}

// TenantApp describes the bank serving many tenants (signal.App.Tenancy):
// each caller acts in its own tenant's accounts and balances only, and a
// caller without a tenant is refused. The same domain as App; its
// functions (tenantfunctions/*) need AUTH_TENANT_CLAIM.
func TenantApp() *signal.App {
	a := App()
	a.Tenancy = true
	return a
}
