package signaltest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/signaltest"
)

// An account of the bank in bank_test.go, tested as a test function would
// test it. The last Then expects the wrong amount, to show how a failure
// reads.
func Example() {
	var t testing.TB = printer{} // in a test: its *testing.T

	signaltest.For(t, AccountType).
		Given(Opened{Owner: "ada"}, Deposited{Amount: 100}).
		When(Withdraw{Amount: 30}).
		Then(Withdrawn{Amount: 30}).
		ThenState(Account{Owner: "ada", Balance: 70}).
		When(Withdraw{Amount: 500}).
		ThenError(ErrInsufficientFunds).
		WhenJSON("Freeze", `{"reason":"no"}`). // internal: not from outside
		ThenError(signal.ErrForbidden).
		When(Withdraw{Amount: 50}).
		Then(Withdrawn{Amount: 40})

	// Output:
	// account test-1: When Withdraw: events differ
	//   want: 1. Withdrawn {"amount":40}  <-- first difference
	//   got:  1. Withdrawn {"amount":50}  <-- first difference
}

func ExampleProjection() {
	var t testing.TB = printer{} // in a test: its *testing.T

	signaltest.Projection(t, BalancesProjection(), AccountType).
		Given(AccountType, "a1", Opened{Owner: "ada"}, Deposited{Amount: 100}, Withdrawn{Amount: 30}).
		ThenView("balances", "a1", Balance{Owner: "ada", Balance: 70}).
		Given(AccountType, "a2", Opened{Owner: "bob"}, AccountClosed{Owner: "bob"}).
		ThenNoView("balances", "a2")

	fmt.Println("ok")
	// Output: ok
}

func ExamplePolicy() {
	var t testing.TB = printer{} // in a test: its *testing.T

	signaltest.Policy(t, FraudPolicy(), AccountType).
		When(AccountType, "a1", Withdrawn{Amount: 20}).
		ThenSends().
		When(AccountType, "a1", Withdrawn{Amount: 5000}).
		ThenSends(AccountType.To("a1", Freeze{Reason: "large withdrawal"}))

	fmt.Println("ok")
	// Output: ok
}

// printer stands in for a test's testing.TB in the examples, which have
// none: it prints the failures a test would report.
type printer struct{ testing.TB }

func (printer) Helper()                  {}
func (printer) Context() context.Context { return context.Background() }
func (printer) Cleanup(func())           {}
func (printer) Log(...any)               {}
func (printer) Failed() bool             { return false }
func (printer) Errorf(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
}
func (printer) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// An account under the bank's rule (AccountRule in bank_test.go): the
// owner withdraws, another subject is refused, and the last Then expects
// a refused command to succeed, to show how that failure reads.
func ExampleAuthorize() {
	var t testing.TB = printer{} // in a test: its *testing.T

	signaltest.For(t, AccountType, signaltest.Authorize(AccountRule)).
		GivenBy("ada", Opened{Owner: "ada"}, Deposited{Amount: 100}).
		AsSubject("ada").
		When(Withdraw{Amount: 30}).
		Then(Withdrawn{Amount: 30}).
		ThenActor("ada").
		As(nil).
		When(Withdraw{Amount: 30}).
		ThenError(signal.ErrUnauthenticated).
		AsSubject("eve").
		When(Withdraw{Amount: 30}).
		Then(Withdrawn{Amount: 30})

	// Output:
	// account test-1: When Withdraw as eve failed, want events:
	//   want: 1. Withdrawn {"amount":30}
	//   got:  error: account test-1 belongs to another customer (forbidden)
}
