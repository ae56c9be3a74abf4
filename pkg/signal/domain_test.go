package signal_test

import (
	"errors"

	"github.com/signalforgo/signal/pkg/signal"
)

// The account domain of the core's own tests and benchmarks: small enough
// to read at a glance, with genesis, a domain rule, closure and an
// upcast event.

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

func accountSpec() signal.Spec[Account] {
	return signal.Spec[Account]{
		Name: "account",
		Decide: func(s Account, cmd any) ([]any, error) {
			switch c := cmd.(type) {
			case Open:
				if s.Owner != "" {
					return nil, errors.New("already open")
				}
				return []any{Opened{Owner: c.Owner}}, nil
			case Deposit:
				if c.Amount <= 0 {
					return nil, errors.New("amount must be positive")
				}
				return []any{Deposited{Amount: c.Amount}}, nil
			case Withdraw:
				if c.Amount > s.Balance {
					return nil, errInsufficient
				}
				return []any{Withdrawn{Amount: c.Amount}}, nil
			case Noop:
				return nil, nil
			}
			return nil, errors.New("unexpected command")
		},
		Evolve: func(s Account, e any) Account {
			switch e := e.(type) {
			case Opened:
				s.Owner = e.Owner
			case Deposited:
				s.Balance += e.Amount
			case Withdrawn:
				s.Balance -= e.Amount
			case AccountClosed:
				s.Closed = true
			}
			return s
		},
		Commands: []signal.CommandType{
			signal.CommandOf[Open]("Open"),
			signal.CommandOf[Deposit]("Deposit"),
			signal.CommandOf[Withdraw]("Withdraw"),
			signal.CommandOf[Noop]("Noop"),
		},
		Events: []signal.EventType{
			signal.EventOf[Opened]("Opened"),
			signal.EventOf[Deposited]("Deposited", signal.SchemaVersion(2), signal.UpcastFrom(1, renameField("amt", "amount"))),
			signal.EventOf[Withdrawn]("Withdrawn"),
			signal.EventOf[AccountClosed]("AccountClosed"),
		},
		Genesis:  func(cmd any) bool { _, ok := cmd.(Open); return ok },
		Terminal: func(e any) bool { _, ok := e.(AccountClosed); return ok },
		Close: func(s Account) (any, error) {
			if s.Balance != 0 {
				return nil, errors.New("balance must be zero to close")
			}
			return AccountClosed{}, nil
		},
	}
}
