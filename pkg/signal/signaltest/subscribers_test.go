package signaltest_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/signaltest"
)

func TestProjection(t *testing.T) {
	s := signaltest.Projection(t, BalancesProjection(), AccountType).
		Given(AccountType, "a1", Opened{Owner: "ada"}, Deposited{Amount: 100}).
		Given(AccountType, "a2", Opened{Owner: "bob"}).
		Given(AccountType, "a1", Withdrawn{Amount: 30}).
		ThenView("balances", "a1", Balance{Owner: "ada", Balance: 70}).
		ThenView("balances", "a1", map[string]any{"balance": 70, "owner": "ada"}).
		ThenView("balances", "a2", json.RawMessage(`{"owner": "bob", "balance": 0}`)).
		ThenNoView("balances", "a3").
		Given(AccountType, "a2", AccountClosed{Owner: "bob"}).
		ThenNoView("balances", "a2")
	if doc, ok := s.View("balances", "a1"); !ok || string(doc) != `{"owner":"ada","balance":70}` {
		t.Errorf("View: %s, %v", doc, ok)
	}
}

func TestProjectionViewDiffers(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.Projection(t, BalancesProjection(), AccountType).
			Given(AccountType, "a1", Opened{Owner: "ada"}, Deposited{Amount: 100}).
			ThenView("balances", "a1", Balance{Owner: "ada", Balance: 90})
	})
	r.wantError(t, "projection balances: view balances/a1: document differs\n",
		"  want: {\n          \"balance\": 90,  <-- first difference\n          \"owner\": \"ada\"\n        }\n",
		"  got:  {\n          \"balance\": 100,  <-- first difference\n")

	r = run(t, func(t testing.TB) {
		signaltest.Projection(t, BalancesProjection(), AccountType).
			Given(AccountType, "a1", Opened{Owner: "ada"}).
			ThenView("balances", "a1", map[string]any{"owner": "ada"}) // a member missing
	})
	r.wantError(t, "document differs", "  want: {\n          \"owner\": \"ada\"  <-- first difference",
		"  got:  {\n          \"balance\": 0,  <-- first difference")
}

func TestProjectionNoSuchView(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.Projection(t, BalancesProjection(), AccountType).
			Given(AccountType, "a1", Opened{Owner: "ada"}).
			ThenView("balances", "a2", Balance{Owner: "ada"})
	})
	r.wantError(t, "projection balances: view balances/a2: no such document", `"owner": "ada"`, "got:  (no document)")

	r = run(t, func(t testing.TB) {
		signaltest.Projection(t, BalancesProjection(), AccountType).
			Given(AccountType, "a1", Opened{Owner: "ada"}).
			ThenNoView("balances", "a1")
	})
	r.wantError(t, "projection balances: view balances/a1: want no document", `got:  {`, `"owner": "ada"`)
}

func TestProjectionGivenFails(t *testing.T) {
	broken := &signal.Projection{Name: "broken", On: []signal.ProjectionHandler{
		signal.Project(func(context.Context, *signal.ViewTx, signal.Event, Opened) error { return errors.New("unlucky") }),
	}}
	r := run(t, func(t testing.TB) {
		signaltest.Projection(t, broken, AccountType).Given(AccountType, "a1", Opened{Owner: "ada"})
	})
	r.wantFatal(t, "projection broken: Given account a1: the projection failed", "unlucky")

	r = run(t, func(t testing.TB) {
		signaltest.Projection(t, BalancesProjection(), AccountType).Given(LedgerType, "l1", Noted{})
	})
	r.wantFatal(t, "projection balances: Given ledger l1: the scenario does not hold the aggregate type ledger")

	r = run(t, func(t testing.TB) {
		signaltest.Projection(t, BalancesProjection(), AccountType).Given(AccountType, "a1", Withdraw{})
	})
	r.wantFatal(t, "event 1: signaltest_test.Withdraw is not an event of account")

	r = run(t, func(t testing.TB) {
		signaltest.Projection(t, BalancesProjection(), LedgerType) // follows no type recording its events
	})
	r.wantFatal(t, "signaltest.Projection balances:", "which no aggregate type it follows")
}

func TestPolicy(t *testing.T) {
	s := signaltest.Policy(t, FraudPolicy(), AccountType).
		When(AccountType, "a1", Withdrawn{Amount: 20}).
		ThenSends().
		When(AccountType, "a1", Withdrawn{Amount: 5000}).
		ThenSends(AccountType.To("a1", Freeze{Reason: "large withdrawal"})).
		When(AccountType, "a1", Deposited{Amount: 1}). // no handler: nothing
		ThenSends()
	ev := s.Event()
	if ev.AggregateType != "account" || ev.AggregateID != "a1" || ev.Version != 3 || ev.Name != "Deposited" ||
		ev.ID == "" || ev.CommandID == "" || ev.Data != (Deposited{Amount: 1}) {
		t.Errorf("Event: %+v", ev)
	}
	s.When(AccountType, "a1", Withdrawn{Amount: -5}).
		ThenError(ErrNegativeWithdrawal)
	if s.Sends() != nil {
		t.Errorf("Sends: %v", s.Sends())
	}
}

func TestPolicySendsDiffer(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.Policy(t, FraudPolicy(), AccountType).
			When(AccountType, "a1", Withdrawn{Amount: 5000}).
			ThenSends(AccountType.To("a1", Freeze{Reason: "suspicious"}))
	})
	r.wantError(t, "policy fraud-watch: When account a1 Withdrawn: commands differ\n",
		`  want: 1. account a1 Freeze {"reason":"suspicious"}  <-- first difference`,
		`  got:  1. account a1 Freeze {"reason":"large withdrawal"}  <-- first difference`)

	r = run(t, func(t testing.TB) {
		signaltest.Policy(t, FraudPolicy(), AccountType).
			When(AccountType, "a1", Withdrawn{Amount: 5000}).
			ThenSends(AccountType.To("a2", Freeze{Reason: "large withdrawal"}))
	})
	r.wantError(t, `want: 1. account a2 Freeze`, `got:  1. account a1 Freeze`)

	r = run(t, func(t testing.TB) {
		signaltest.Policy(t, FraudPolicy(), AccountType).
			When(AccountType, "a1", Withdrawn{Amount: 10}).
			ThenSends(AccountType.To("a1", Freeze{Reason: "large withdrawal"}))
	})
	r.wantError(t, "commands differ (want 1, got 0)", "got:  (no commands)  <-- first difference")

	r = run(t, func(t testing.TB) {
		signaltest.Policy(t, FraudPolicy(), AccountType).
			When(AccountType, "a1", Withdrawn{Amount: 5000}).
			ThenSends()
	})
	r.wantError(t, "commands differ (want 0, got 1)", "want: (no commands)  <--", `got:  1. account a1 Freeze {"reason":"large withdrawal"}  <--`)
}

func TestPolicyErrors(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.Policy(t, FraudPolicy(), AccountType).
			When(AccountType, "a1", Withdrawn{Amount: -1}).
			ThenSends()
	})
	r.wantError(t, "policy fraud-watch: When account a1 Withdrawn failed, want commands:", "want: (no commands)",
		"got:  error: a withdrawal of a negative amount")

	r = run(t, func(t testing.TB) {
		signaltest.Policy(t, FraudPolicy(), AccountType).
			When(AccountType, "a1", Withdrawn{Amount: 5000}).
			ThenError(ErrNegativeWithdrawal)
	})
	r.wantError(t, "When account a1 Withdrawn succeeded, want an error:", "want: a withdrawal of a negative amount",
		`got:  1. account a1 Freeze {"reason":"large withdrawal"}`)

	r = run(t, func(t testing.TB) {
		signaltest.Policy(t, FraudPolicy(), AccountType).
			When(AccountType, "a1", Withdrawn{Amount: -1}).
			ThenError(signal.KindRejected)
	})
	r.wantError(t, "error differs", "want: an error of kind rejected", "got:  a withdrawal of a negative amount")

	r = run(t, func(t testing.TB) {
		signaltest.Policy(t, FraudPolicy(), AccountType).
			When(AccountType, "a1", Withdrawn{Amount: -1}).
			When(AccountType, "a1", Withdrawn{Amount: 1}).
			ThenSends()
	})
	r.wantError(t, "policy fraud-watch: When account a1 Withdrawn failed and nothing checked it")
}

// A policy that sends what the dispatcher could not deliver.
func badPolicy(send signal.Send) *signal.Policy {
	return &signal.Policy{Name: "bad", On: []signal.PolicyHandler{
		signal.React(func(context.Context, signal.Event, Deposited) ([]signal.Send, error) {
			return []signal.Send{send}, nil
		}),
	}}
}

func TestPolicyUndeliverable(t *testing.T) {
	for _, c := range []struct {
		send signal.Send
		want string
	}{
		{LedgerType.To("l1", Note{}), `command 1 cannot be delivered: it goes to aggregate type "ledger", which the scenario does not hold`},
		{AccountType.To("a1", Note{}), "command 1 cannot be delivered: account has no command of Go type signaltest_test.Note"},
		{AccountType.To("a#1", Freeze{}), "command 1 cannot be delivered: its id:"},
	} {
		r := run(t, func(t testing.TB) {
			signaltest.Policy(t, badPolicy(c.send), AccountType).
				When(AccountType, "a1", Deposited{Amount: 1}).
				ThenSends(c.send)
		})
		r.wantError(t, "policy bad: When account a1 Deposited: "+c.want)
	}
}

func TestPolicyWhenRefused(t *testing.T) {
	r := run(t, func(t testing.TB) {
		signaltest.Policy(t, FraudPolicy(), AccountType).When(AccountType, "a1", Withdraw{Amount: 1})
	})
	r.wantFatal(t, "policy fraud-watch: When account a1: signaltest_test.Withdraw is not an event of account")

	r = run(t, func(t testing.TB) {
		signaltest.Policy(t, FraudPolicy(), AccountType).When(LedgerType, "l1", Noted{})
	})
	r.wantFatal(t, "policy fraud-watch: When ledger l1 Noted: the scenario does not hold the aggregate type ledger")

	p := FraudPolicy()
	p.Types = []string{"account"}
	r = run(t, func(t testing.TB) {
		signaltest.Policy(t, p, AccountType, LedgerType).When(LedgerType, "l1", Noted{})
	})
	r.wantFatal(t, "policy fraud-watch: When ledger l1 Noted: the policy follows account, not ledger")

	r = run(t, func(t testing.TB) {
		signaltest.Policy(t, FraudPolicy())
	})
	r.wantFatal(t, "signaltest.Policy fraud-watch: no aggregate types")

	r = run(t, func(t testing.TB) {
		signaltest.Policy(t, FraudPolicy(), AccountType).ThenSends()
	})
	r.wantError(t, "policy fraud-watch: ThenSends without a When before it")
}
