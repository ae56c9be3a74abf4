package signal_test

import (
	"errors"

	"github.com/signalforgo/signal/pkg/signal"
)

// The account domain of the core's own tests and benchmarks: small enough
// to read at a glance, with a genesis command, a domain rule, an End rule
// with its terminal event and an upcast event. One typed handler per
// command and per event.

type Account struct {
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
	Closed  bool   `json:"closed"`
}

type Open struct {
	Owner string `json:"owner"`
}
type Deposit struct {
	Amount int64 `json:"amount"`
}
type Withdraw struct {
	Amount int64 `json:"amount"`
}
type Noop struct{}

type Opened struct {
	Owner string `json:"owner"`
}

// Deposited is at schema version 2: version 1 called the field "amt".
type Deposited struct {
	Amount int64 `json:"amount"`
}
type Withdrawn struct {
	Amount int64 `json:"amount"`
}
type AccountClosed struct{}

var errInsufficient = errors.New("insufficient funds")

// The positions of the registrations in accountSpec, for tests that
// replace one of them.
const (
	cmdOpen = iota
	cmdDeposit
	cmdWithdraw
	cmdNoop
)

const (
	evOpened = iota
	evDeposited
	evWithdrawn
	evAccountClosed
)

func accountSpec() signal.Spec[Account] {
	return signal.Spec[Account]{
		Name: "account",
		Commands: []signal.CommandSpec[Account]{
			cmdOpen:     signal.Decide("Open", openAccount, signal.Genesis),
			cmdDeposit:  signal.Decide("Deposit", deposit),
			cmdWithdraw: signal.Decide("Withdraw", withdraw),
			cmdNoop:     signal.Decide("Noop", noop),
		},
		Events: []signal.EventSpec[Account]{
			evOpened:        signal.Evolve("Opened", opened),
			evDeposited:     signal.Evolve("Deposited", deposited, signal.SchemaVersion(2), signal.UpcastFrom(1, renameField("amt", "amount"))),
			evWithdrawn:     signal.Evolve("Withdrawn", withdrawn),
			evAccountClosed: signal.Evolve("AccountClosed", accountClosed, signal.Terminal),
		},
		End: signal.EndWith(closeAccount),
	}
}

func openAccount(s Account, c Open) ([]any, error) {
	if s.Owner != "" {
		return nil, errors.New("already open")
	}
	return []any{Opened(c)}, nil
}

func deposit(_ Account, c Deposit) ([]any, error) {
	if c.Amount <= 0 {
		return nil, errors.New("amount must be positive")
	}
	return []any{Deposited(c)}, nil
}

func withdraw(s Account, c Withdraw) ([]any, error) {
	if c.Amount > s.Balance {
		return nil, errInsufficient
	}
	return []any{Withdrawn(c)}, nil
}

func noop(Account, Noop) ([]any, error) { return nil, nil }

func closeAccount(s Account) (AccountClosed, error) {
	if s.Balance != 0 {
		return AccountClosed{}, errors.New("balance must be zero to close")
	}
	return AccountClosed{}, nil
}

func opened(s Account, e Opened) Account {
	s.Owner = e.Owner
	return s
}

func deposited(s Account, e Deposited) Account {
	s.Balance += e.Amount
	return s
}

func withdrawn(s Account, e Withdrawn) Account {
	s.Balance -= e.Amount
	return s
}

func accountClosed(s Account, _ AccountClosed) Account {
	s.Closed = true
	return s
}
