package signaltest_test

import (
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/signaltest"
)

// Failing expectations about callers report what was wanted and what
// happened, naming the caller.

// owned is a scenario on ada's account, under the bank's rule.
func owned(t testing.TB) *signaltest.Scenario[Account] {
	return signaltest.For(t, AccountType, signaltest.Authorize(AccountRule)).
		GivenBy("ada", Opened{Owner: "ada"}, Deposited{Amount: 100})
}

func TestThenActorDiffers(t *testing.T) {
	r := run(t, func(t testing.TB) {
		owned(t).AsSubject("ada").When(Deposit{Amount: 1}).ThenActor("bob")
	})
	r.wantError(t, "account test-1: When Deposit as ada: commit 1 of 1 records another actor",
		`want: "bob"`, `got:  "ada"`)

	r = run(t, func(t testing.TB) {
		owned(t).AsSubject("ada").When(Open{Owner: "ada"}).ThenActor("ada") // decides nothing
	})
	r.wantError(t, "account test-1: When Open as ada appended nothing, want commits by \"ada\"")

	r = run(t, func(t testing.TB) {
		owned(t).AsSubject("bob").When(Deposit{Amount: 1}).ThenActor("bob")
	})
	r.wantError(t, "account test-1: When Deposit as bob failed, want commits by \"bob\"",
		"account test-1 belongs to another customer (forbidden)")

	r = run(t, func(t testing.TB) { owned(t).ThenActor("ada") })
	r.wantError(t, "account test-1: ThenActor without a When")
}

func TestRefusalShownByThen(t *testing.T) {
	r := run(t, func(t testing.TB) {
		owned(t).AsSubject("bob").When(Withdraw{Amount: 5}).Then(Withdrawn{Amount: 5})
	})
	r.wantError(t, "account test-1: When Withdraw as bob failed, want events:", `1. Withdrawn {"amount":5}`,
		"error: account test-1 belongs to another customer (forbidden)")

	r = run(t, func(t testing.TB) {
		owned(t).As(nil).WhenEnd().Then(AccountClosed{Owner: "ada"})
	})
	r.wantError(t, "account test-1: WhenEnd without a principal failed", "authentication required (unauthenticated)")
}

func TestAllowedButRefusalWanted(t *testing.T) {
	r := run(t, func(t testing.TB) {
		owned(t).AsSubject("ada").When(Withdraw{Amount: 5}).ThenError(signal.ErrForbidden)
	})
	r.wantError(t, "account test-1: When Withdraw as ada succeeded, want an error:", "an error of kind forbidden",
		`1. Withdrawn {"amount":5}`)

	r = run(t, func(t testing.TB) {
		owned(t).As(nil).When(Withdraw{Amount: 5}).ThenError(signal.ErrForbidden)
	})
	r.wantError(t, "account test-1: When Withdraw without a principal: error differs",
		"want: an error of kind forbidden", "got:  authentication required (unauthenticated)")
}

func TestUncheckedRefusal(t *testing.T) {
	r := run(t, func(t testing.TB) {
		owned(t).
			As(&signal.Principal{Subject: "eve"}).When(Deposit{Amount: 1}). // refused, unchecked
			AsSubject("ada").When(Deposit{Amount: 1}).Then(Deposited{Amount: 1})
	})
	r.wantError(t, "account test-1: When Deposit as eve failed and nothing checked it", "(forbidden)")
}

func TestCallerOptionsMisused(t *testing.T) {
	r := run(t, func(t testing.TB) { signaltest.For(t, AccountType, signaltest.WithApp(nil)) })
	r.wantFatal(t, "signaltest.For account: WithApp: the App is nil")

	r = run(t, func(t testing.TB) { signaltest.For(t, AccountType, signaltest.Tenant("acme")) })
	r.wantFatal(t, `signaltest.For account: Tenant("acme") without Tenancy`)

	tenanted := BankApp()
	tenanted.Tenancy = true
	r = run(t, func(t testing.TB) {
		signaltest.For(t, AccountType, signaltest.WithApp(tenanted), signaltest.Tenant("no|pe"))
	})
	r.wantFatal(t, `signaltest.For account: Tenant("no|pe")`)

	r = run(t, func(t testing.TB) {
		signaltest.For(t, AccountType, signaltest.WithApp(tenanted), signaltest.ID("a|b"))
	})
	r.wantFatal(t, `signaltest.For account: id "a|b"`, "Tenancy")

	r = run(t, func(t testing.TB) {
		signaltest.For(t, AccountType, signaltest.WithApp(tenanted)).GivenOn(AccountType, "x|y", Opened{})
	})
	r.wantFatal(t, `account test-1: GivenOn account x|y: id "x|y"`)

	r = run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).GivenBy("ada\n", Opened{Owner: "ada"})
	})
	r.wantFatal(t, `account test-1: Given by "ada\n": event 1 (Opened): the store refused it`)
}
