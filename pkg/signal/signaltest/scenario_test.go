package signaltest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/signaltest"
)

// Passing scenarios run on the test's own t: any failure fails the test.

func TestAccountLife(t *testing.T) {
	s := signaltest.For(t, AccountType).
		When(Open{Owner: "ada"}).
		Then(Opened{Owner: "ada"}).
		When(Deposit{Amount: 100}).
		Then(Deposited{Amount: 100}).
		When(Withdraw{Amount: 30}).
		Then(Withdrawn{Amount: 30}).
		ThenState(Account{Owner: "ada", Balance: 70}).
		When(Withdraw{Amount: 500}).
		ThenError(ErrInsufficientFunds).
		ThenError(signal.ErrRejected).
		ThenError(signal.KindRejected).
		ThenState(Account{Owner: "ada", Balance: 70}).
		WhenEnd().
		ThenError(ErrNotEmpty).
		When(Withdraw{Amount: 70}).
		Then(Withdrawn{Amount: 70}).
		WhenEnd().
		Then(AccountClosed{Owner: "ada"}).
		ThenState(Account{Owner: "ada", Closed: true}).
		When(Deposit{Amount: 1}).
		ThenError(signal.ErrClosed).
		WhenEnd().
		ThenError(signal.KindClosed)
	if got := len(s.Events()); got != 5 {
		t.Errorf("Events: %d events, want 5", got)
	}
	if s.Version() != 5 || s.ID() != signaltest.DefaultID {
		t.Errorf("Version %d, ID %q", s.Version(), s.ID())
	}
}

func TestGenesis(t *testing.T) {
	s := signaltest.For(t, AccountType, signaltest.ID("acc-9")).
		When(Deposit{Amount: 5}).
		ThenError(signal.ErrNotFound).
		ThenState(Account{}). // Initial: no events
		When(Open{Owner: "bob"}).
		Then(Opened{Owner: "bob"})
	if r := s.Result(); !r.Created || r.ID != "acc-9" || r.Version != 1 {
		t.Errorf("Result: %+v", r)
	}
	s.When(Open{Owner: "bob"}).Then() // accepted, nothing to do
	if s.Err() != nil || s.Result().Version != 1 {
		t.Errorf("Err %v, Result %+v", s.Err(), s.Result())
	}
}

func TestGivenFolds(t *testing.T) {
	signaltest.For(t, AccountType).
		Given(Opened{Owner: "ada"}, Deposited{Amount: 10}, Deposited{Amount: 5}, Frozen{Reason: "x"}).
		ThenState(Account{Owner: "ada", Balance: 15, Frozen: true}).
		When(Withdraw{Amount: 1}).
		ThenError(ErrFrozen)
}

func TestGivenTerminal(t *testing.T) {
	signaltest.For(t, AccountType).
		Given(Opened{Owner: "ada"}, AccountClosed{Owner: "ada"}).
		ThenState(Account{Owner: "ada", Closed: true}).
		When(Deposit{Amount: 1}).
		ThenError(signal.ErrClosed).
		WhenJSON("Deposit", `{"amount":1}`).
		ThenError(signal.KindClosed)
}

func TestInternalCommand(t *testing.T) {
	signaltest.For(t, AccountType).
		Given(Opened{Owner: "ada"}).
		WhenJSON("Freeze", `{"reason":"from outside"}`).
		ThenError(signal.ErrForbidden).
		ThenError(signal.KindForbidden).
		When(Freeze{Reason: "from Go"}). // Go code and policies may send it
		Then(Frozen{Reason: "from Go"}).
		WhenJSON("Deposit", `{"amount":7}`).
		Then(Deposited{Amount: 7}).
		WhenJSON("Deposit", `{"amount":"seven"}`).
		ThenError(signal.ErrInvalid).
		WhenJSON("Steal", `{}`).
		ThenError(signal.ErrUnknownCommand)
}

func TestIfVersion(t *testing.T) {
	s := signaltest.For(t, AccountType).Given(Opened{Owner: "ada"}, Deposited{Amount: 10})
	s.When(Deposit{Amount: 1}, signal.IfVersion(1)).
		ThenError(signal.ErrPrecondition).
		When(Deposit{Amount: 1}, signal.IfVersion(s.Version())).
		Then(Deposited{Amount: 1}).
		WhenJSON("Deposit", `{"amount":2}`, signal.IfVersion(2)).
		ThenError(signal.KindPrecondition)
}

func TestIdempotency(t *testing.T) {
	s := signaltest.For(t, AccountType).
		Given(Opened{Owner: "ada"}).
		When(Deposit{Amount: 10}, signal.WithCommandID("k1")).
		Then(Deposited{Amount: 10}).
		When(Deposit{Amount: 10}, signal.WithCommandID("k1")).
		Then(). // appended nothing
		ThenDuplicate(Deposited{Amount: 10}).
		ThenState(Account{Owner: "ada", Balance: 10})
	if !s.Result().Duplicate {
		t.Error("the repeat is not a duplicate")
	}
	s.When(Deposit{Amount: 11}, signal.WithCommandID("k1")).
		ThenError(signal.ErrIdempotencyKeyReused)
}

func TestWithSubscribers(t *testing.T) {
	s := signaltest.For(t, AccountType, signaltest.WithSubscribers(FraudPolicy(), BalancesProjection())).
		Given(Opened{Owner: "ada"}, Deposited{Amount: 5000}).
		When(Withdraw{Amount: 1500}).
		Then(Withdrawn{Amount: 1500}). // only the command's own events
		ThenState(Account{Owner: "ada", Balance: 3500, Frozen: true})
	evs := s.Events()
	if len(evs) != 4 || evs[3].Name != "Frozen" {
		t.Errorf("Events: %+v", evs)
	}
	b, _, err := signal.LoadView[Balance](context.Background(), s.Service(), "balances", signaltest.DefaultID)
	if err != nil || b != (Balance{Owner: "ada", Balance: 3500}) {
		t.Errorf("balances view: %+v, %v", b, err)
	}
}

// A second type, for WithTypes and GivenOn.
type Ledger struct{ Lines int }
type Note struct{ Text string }
type Noted struct{ Text string }

var LedgerType = signal.MustDefine(signal.Spec[Ledger]{
	Name:     "ledger",
	Commands: []signal.CommandSpec[Ledger]{signal.Decide("Note", func(_ Ledger, c Note) ([]any, error) { return []any{Noted(c)}, nil }, signal.Genesis)},
	Events:   []signal.EventSpec[Ledger]{signal.Evolve("Noted", func(l Ledger, _ Noted) Ledger { l.Lines++; return l })},
})

// ledgerPolicy notes every deposit in the ledger of the same id.
func ledgerPolicy() *signal.Policy {
	return &signal.Policy{Name: "ledger", On: []signal.PolicyHandler{
		signal.React(func(_ context.Context, ev signal.Event, e Deposited) ([]signal.Send, error) {
			return []signal.Send{LedgerType.To(ev.AggregateID, Note{Text: "deposit"})}, nil
		}),
	}}
}

func TestWithTypes(t *testing.T) {
	s := signaltest.For(t, AccountType, signaltest.WithTypes(LedgerType), signaltest.WithSubscribers(ledgerPolicy())).
		GivenOn(LedgerType, signaltest.DefaultID, Noted{Text: "opened"}).
		Given(Opened{Owner: "ada"}, Deposited{Amount: 1}). // the policy notes this deposit too
		When(Deposit{Amount: 2}).
		Then(Deposited{Amount: 2})
	if n := len(s.EventsOf(LedgerType, signaltest.DefaultID)); n != 3 {
		t.Errorf("the ledger has %d events, want 3", n)
	}
}

// Failing scenarios run on a recorder: the tests check the failure.

func TestThenWrongEvents(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}, Deposited{Amount: 100}).
			When(Withdraw{Amount: 30}).
			Then(Withdrawn{Amount: 40})
	})
	r.wantError(t, "account test-1: When Withdraw: events differ\n"+
		"  want: 1. Withdrawn {\"amount\":40}  <-- first difference\n"+
		"  got:  1. Withdrawn {\"amount\":30}  <-- first difference")
	if r.errors[0] != "account test-1: When Withdraw: events differ\n"+
		"  want: 1. Withdrawn {\"amount\":40}  <-- first difference\n"+
		"  got:  1. Withdrawn {\"amount\":30}  <-- first difference" {
		t.Errorf("the message is not exactly the documented form:\n%s", r.errors[0])
	}
}

func TestThenWrongName(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}, Deposited{Amount: 100}).
			When(Withdraw{Amount: 30}).
			Then(Deposited{Amount: 30}) // same JSON, another event
	})
	r.wantError(t, `want: 1. Deposited {"amount":30}  <-- first difference`, `got:  1. Withdrawn {"amount":30}  <--`)
}

func TestThenMissingEvents(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			When(Open{Owner: "ada"}).
			Then(Opened{Owner: "ada"}, Deposited{Amount: 1})
	})
	r.wantError(t, "events differ (want 2, got 1)",
		"  want: 1. Opened {\"owner\":\"ada\"}\n        2. Deposited {\"amount\":1}  <-- first difference\n",
		"  got:  1. Opened {\"owner\":\"ada\"}\n        (no event 2)  <-- first difference")
}

func TestThenExtraEvents(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}).
			When(Deposit{Amount: 3}).
			Then()
	})
	r.wantError(t, "events differ (want 0, got 1)",
		"  want: (no events)  <-- first difference",
		"  got:  1. Deposited {\"amount\":3}  <-- first difference")
}

func TestThenAfterFailedWhen(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}).
			When(Withdraw{Amount: 30}).
			Then(Withdrawn{Amount: 30})
	})
	r.wantError(t, "account test-1: When Withdraw failed, want events:",
		`want: 1. Withdrawn {"amount":30}`, "got:  error: ", "insufficient funds", "(rejected)")
}

func TestThenWithoutWhen(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			When(Open{Owner: "ada"}).
			Then(Opened{Owner: "ada"}).
			Given(Deposited{Amount: 1}).
			Then(Deposited{Amount: 1})
	})
	r.wantError(t, "account test-1: Then without a When before it")
}

func TestThenUnregisteredEvent(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			When(Open{Owner: "ada"}).
			Then(Open{Owner: "ada"}) // the command, not the event
	})
	r.wantError(t, "Then: event 1: signaltest_test.Open is not an event of account",
		"its events: Opened signaltest_test.Opened, Deposited")

	r = run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			When(Open{Owner: "ada"}).
			Then(&Opened{Owner: "ada"})
	})
	r.wantError(t, "*signaltest_test.Opened is not an event of account", "pass the value, not a pointer")
}

func TestThenErrorWrongKind(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}).
			When(Withdraw{Amount: 30}).
			ThenError(signal.ErrClosed)
	})
	r.wantError(t, "account test-1: When Withdraw: error differs\n",
		"  want: an error of kind closed\n", "  got:  ", "insufficient funds", "(rejected)")

	r = run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}).
			When(Withdraw{Amount: 30}).
			ThenError(signal.KindNotFound)
	})
	r.wantError(t, "want: an error of kind not_found", "(rejected)")

	r = run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}).
			When(Withdraw{Amount: 30}).
			ThenError(ErrFrozen)
	})
	r.wantError(t, "want: the account is frozen", "insufficient funds")
}

func TestThenErrorButSuccess(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}).
			When(Deposit{Amount: 30}).
			ThenError(signal.ErrRejected)
	})
	r.wantError(t, "account test-1: When Deposit succeeded, want an error:\n",
		"  want: an error of kind rejected\n", `  got:  1. Deposited {"amount":30}`)
}

func TestThenErrorMisuse(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			When(Open{Owner: "ada"}).
			ThenError(nil)
	})
	r.wantError(t, "ThenError(<nil>): want an error or a signal.Kind")
}

func TestThenStateMismatch(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}, Deposited{Amount: 70}).
			ThenState(Account{Owner: "ada", Balance: 80})
	})
	r.wantError(t, "account test-1: state differs\n",
		"  want: {\n          \"balance\": 80,  <-- first difference\n          \"owner\": \"ada\"\n        }\n",
		"  got:  {\n          \"balance\": 70,  <-- first difference\n")
}

// A type whose event loses data in JSON: the state after the command is
// not what a reload gives.
type Tally struct{ N int }
type Bump struct{ By int }
type Bumped struct {
	By int `json:"-"`
}

var TallyType = signal.MustDefine(signal.Spec[Tally]{
	Name:     "tally",
	Commands: []signal.CommandSpec[Tally]{signal.Decide("Bump", func(_ Tally, c Bump) ([]any, error) { return []any{Bumped(c)}, nil }, signal.Genesis)},
	Events:   []signal.EventSpec[Tally]{signal.Evolve("Bumped", func(s Tally, e Bumped) Tally { s.N += e.By; return s })},
})

func TestThenStateLostInJSON(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, TallyType).
			When(Bump{By: 2}).
			Then(Bumped{By: 2}).
			ThenState(Tally{N: 2})
	})
	r.wantError(t, "tally test-1: the state loaded from the store differs from the live state",
		"  live: {\n          \"N\": 2  <-- first difference", "  load: {\n          \"N\": 0  <-- first difference")
}

func TestDuplicateShownByThen(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}).
			When(Deposit{Amount: 10}, signal.WithCommandID("k1")).
			Then(Deposited{Amount: 10}).
			When(Deposit{Amount: 10}, signal.WithCommandID("k1")).
			Then(Deposited{Amount: 10})
	})
	r.wantError(t, "events differ (want 1, got 0)", "the command was a duplicate of an earlier one", "ThenDuplicate")

	r = run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}).
			When(Deposit{Amount: 10}, signal.WithCommandID("k1")).
			ThenDuplicate(Deposited{Amount: 10})
	})
	r.wantError(t, "When Deposit was handled as a new command, want a duplicate", `got:  1. Deposited {"amount":10}`)

	r = run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}).
			When(Deposit{Amount: 10}, signal.WithCommandID("k1")).
			Then(Deposited{Amount: 10}).
			When(Deposit{Amount: 10}, signal.WithCommandID("k1")).
			ThenDuplicate(Deposited{Amount: 11})
	})
	r.wantError(t, "the duplicate's original events differ", `want: 1. Deposited {"amount":11}  <--`, `got:  1. Deposited {"amount":10}  <--`)
}

func TestGivenUnregisteredEvent(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}, Deposit{Amount: 1}).
			When(Deposit{Amount: 1})
		t.Errorf("not reached")
	})
	r.wantFatal(t, "account test-1: Given: event 2: signaltest_test.Deposit is not an event of account")
}

func TestGivenAfterTerminal(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			Given(Opened{Owner: "ada"}, AccountClosed{}, Deposited{Amount: 1})
	})
	r.wantFatal(t, "event 3 (Deposited): the aggregate has already ended")
}

func TestGivenOnUnheldType(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).GivenOn(LedgerType, "l1", Noted{})
	})
	r.wantFatal(t, "account test-1: GivenOn ledger l1: the scenario does not hold the aggregate type ledger")
}

func TestUncheckedError(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType).
			When(Deposit{Amount: 1}). // no account yet: fails, unchecked
			When(Open{Owner: "ada"}).
			Then(Opened{Owner: "ada"})
	})
	r.wantError(t, "account test-1: When Deposit failed and nothing checked it", "does not exist", "(not_found)")

	var rec *recorder
	t.Run("at the end", func(t *testing.T) {
		rec = run(t, func(t testing.TB) {
			signaltest.For(t, AccountType).When(Deposit{Amount: 1})
		})
		if len(rec.errors) > 0 {
			t.Errorf("reported before the test ended: %q", rec.errors)
		}
	})
	rec.wantError(t, "account test-1: When Deposit failed and nothing checked it")

	r = run(t, func(t testing.TB) {
		s := signaltest.For(t, AccountType).When(Deposit{Amount: 1})
		if !errors.Is(s.Err(), signal.ErrNotFound) { // Err checks it
			t.Errorf("Err: %v", s.Err())
		}
		s.When(Open{Owner: "ada"}).Then(Opened{Owner: "ada"})
	})
	r.wantNothing(t)
}

func TestSubscriberFails(t *testing.T) {
	broken := &signal.Projection{Name: "broken", On: []signal.ProjectionHandler{
		signal.Project(func(_ context.Context, _ *signal.ViewTx, _ signal.Event, e Deposited) error {
			if e.Amount == 13 {
				return errors.New("unlucky")
			}
			return nil
		}),
	}}
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType, signaltest.WithSubscribers(broken)).
			Given(Opened{Owner: "ada"}).
			When(Deposit{Amount: 13}).
			Then(Deposited{Amount: 13})
	})
	r.wantError(t, "account test-1: When Deposit: the subscribers failed on its events", "broken", "unlucky")
}

func TestForRefusesBadWiring(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.For(t, AccountType, signaltest.WithSubscribers(&signal.Policy{Name: "empty"}))
	})
	r.wantFatal(t, "signaltest.For account:", `subscriber "empty" has no handlers`)

	r = run(t, func(t testing.TB) {
		signaltest.For(t, AccountType, signaltest.ID("a#b"))
	})
	r.wantFatal(t, `signaltest.For account: id "a#b"`)
}
