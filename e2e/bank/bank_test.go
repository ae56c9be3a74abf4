package bank_test

import (
	"testing"

	"github.com/signalforgo/signal/e2e/bank"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/signaltest"
)

// The bank's own tests, as a user writes them with the test kit.
func TestAccount(t *testing.T) {
	signaltest.For(t, bank.AccountType, signaltest.ID("a1")).
		When(bank.Deposit{Amount: 10}).
		ThenError(signal.ErrNotFound).
		When(bank.Open{Owner: "ada"}).
		Then(bank.Opened{Owner: "ada"}).
		When(bank.Deposit{Amount: 100}).
		Then(bank.Deposited{Amount: 100}).
		When(bank.Withdraw{Amount: 101}).
		ThenError(bank.ErrInsufficientFunds).
		WhenJSON("Audit", `{"note":"x"}`).
		ThenError(signal.ErrForbidden).
		WhenEnd().
		ThenError(bank.ErrNotEmpty).
		When(bank.Withdraw{Amount: 100}).
		Then(bank.Withdrawn{Amount: 100}).
		WhenEnd().
		Then(bank.AccountClosed{}).
		ThenState(bank.Account{ID: "a1", Owner: "ada", Closed: true})
}

func TestBalances(t *testing.T) {
	signaltest.Projection(t, bank.BalancesProjection(), bank.AccountType).
		Given(bank.AccountType, "a1", bank.Opened{Owner: "ada"}, bank.Deposited{Amount: 100}, bank.Withdrawn{Amount: 30}).
		ThenView(bank.BalancesView, "a1", bank.Balance{Owner: "ada", Balance: 70, Version: 3}).
		ThenNoView(bank.BalancesView, "a2")
}
