package signaltest_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/signaltest"
)

// The rule through the kit: the owner is allowed and recorded as the
// actor; another subject is refused (403), a caller without a principal
// asked for one (401), and nothing is written on a refusal.
func TestRuleThroughTheKit(t *testing.T) {
	s := signaltest.For(t, AccountType, signaltest.Authorize(AccountRule)).
		AsSubject("ada").
		When(Open{Owner: "ada"}).
		Then(Opened{Owner: "ada"}).
		ThenActor("ada").
		When(Deposit{Amount: 100}).
		Then(Deposited{Amount: 100}).
		ThenActor("ada")
	version := s.Version()
	s.AsSubject("bob").
		When(Withdraw{Amount: 10}).
		ThenError(signal.ErrForbidden).
		ThenError(signal.KindForbidden).
		WhenJSON("Deposit", `{"amount":1}`).
		ThenError(signal.ErrForbidden).
		WhenEnd().
		ThenError(signal.ErrForbidden).
		As(nil).
		When(Withdraw{Amount: 10}).
		ThenError(signal.ErrUnauthenticated).
		ThenError(signal.KindUnauthenticated).
		ThenState(Account{Owner: "ada", Balance: 100}) // the kit's reads are not refused
	if s.Version() != version {
		t.Errorf("refused commands wrote: version %d, then %d", version, s.Version())
	}
	if got := s.Err(); !errors.Is(got, signal.ErrUnauthenticated) {
		t.Errorf("Err = %v", got)
	}
	if n := len(s.Events()); n != 2 {
		t.Errorf("Events as an anonymous caller: %d events, want 2", n)
	}
}

// Without As the commands are anonymous, as before any rule existed.
func TestAnonymousByDefault(t *testing.T) {
	signaltest.For(t, AccountType, signaltest.Authorize(AccountRule)).
		Given(Opened{Owner: "ada"}).
		When(Deposit{Amount: 1}).
		ThenError(signal.ErrUnauthenticated)
	signaltest.For(t, AccountType).
		When(Open{Owner: "ada"}).
		ThenActor("")
}

// GivenBy gives the aggregate an owner: the Actor of its first commit,
// which the rule sees as Action.Owner; Given's history has none.
func TestGivenByOwner(t *testing.T) {
	var owners []string
	spy := func(ctx context.Context, p *signal.Principal, a *signal.Action) error {
		owners = append(owners, a.Owner)
		return AccountRule(ctx, p, a)
	}
	s := signaltest.For(t, AccountType, signaltest.Authorize(spy)).
		GivenBy("ada", Opened{Owner: "ada"}, Deposited{Amount: 50}).
		AsSubject("bob").
		When(Withdraw{Amount: 5}).
		ThenError(signal.ErrForbidden).
		AsSubject("ada").
		When(Withdraw{Amount: 5}).
		Then(Withdrawn{Amount: 5})
	if want := []string{"ada", "ada"}; !slices.Equal(owners, want) {
		t.Errorf("the rule saw owners %q, want %q", owners, want)
	}
	for _, ev := range s.Events() {
		if ev.Actor != "ada" {
			t.Errorf("event %d %s: actor %q, want ada", ev.Version, ev.Name, ev.Actor)
		}
	}
	signaltest.For(t, AccountType, signaltest.Authorize(AccountRule)).
		Given(Opened{Owner: "ada"}). // nobody's
		AsSubject("bob").
		When(Deposit{Amount: 1}).
		Then(Deposited{Amount: 1}).
		ThenActor("bob")
}

// WithApp takes the app's types, subscribers and rule: the fraud watch's
// Freeze goes through the rule as the policy's principal and is recorded
// with the policy as its actor.
func TestWithApp(t *testing.T) {
	var callers []string
	app := BankApp()
	rule := app.Authorize
	app.Authorize = func(ctx context.Context, p *signal.Principal, a *signal.Action) error {
		if p != nil {
			callers = append(callers, p.Subject)
		}
		return rule(ctx, p, a)
	}
	s := signaltest.For(t, AccountType, signaltest.WithApp(app), signaltest.WithTypes(AccountType)).
		GivenBy("ada", Opened{Owner: "ada"}, Deposited{Amount: 5000}).
		AsSubject("ada").
		When(Withdraw{Amount: 2000}).
		Then(Withdrawn{Amount: 2000}).
		ThenActor("ada").
		ThenState(Account{Owner: "ada", Balance: 3000, Frozen: true})
	evs := s.Events()
	if last := evs[len(evs)-1]; last.Name != "Frozen" || last.Actor != "policy:fraud-watch" {
		t.Errorf("the policy's event: %s by %q, want Frozen by policy:fraud-watch", last.Name, last.Actor)
	}
	if want := []string{"ada", "policy:fraud-watch"}; !slices.Equal(callers, want) {
		t.Errorf("the rule decided for %q, want %q", callers, want)
	}
}

// Under the app's Tenancy the aggregate lives in the scenario's tenant:
// AsSubject acts there; a principal of another tenant reaches another
// aggregate of the same id, one without a tenant is refused.
func TestTenancy(t *testing.T) {
	app := BankApp()
	app.Tenancy = true
	s := signaltest.For(t, AccountType, signaltest.WithApp(app), signaltest.Tenant("acme")).
		GivenBy("ada", Opened{Owner: "ada"}).
		AsSubject("ada").
		When(Deposit{Amount: 10}).
		Then(Deposited{Amount: 10}).
		As(&signal.Principal{Subject: "ada", Tenant: "globex"}).
		When(Deposit{Amount: 10}).
		ThenError(signal.ErrNotFound). // globex has no account test-1
		As(&signal.Principal{Subject: "ada"}).
		When(Deposit{Amount: 10}).
		ThenError(signal.ErrForbidden).
		As(nil).
		When(Deposit{Amount: 10}).
		ThenError(signal.ErrUnauthenticated).
		ThenState(Account{Owner: "ada", Balance: 10})
	for _, ev := range s.Events() {
		if ev.Tenant != "acme" || ev.AggregateID != signaltest.DefaultID {
			t.Errorf("event %d: tenant %q, id %q", ev.Version, ev.Tenant, ev.AggregateID)
		}
	}
	stored := signal.StreamID{Type: AccountType.Name(), ID: "acme" + signal.TenantSeparator + signaltest.DefaultID}
	n := 0
	for _, err := range s.Store().Load(t.Context(), stored, 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("the store holds %d commits of %s, want 2", n, stored)
	}
}

// A policy's event may carry an actor, and the policy runs as its own
// principal, as the dispatcher runs it.
func TestPolicyWhenBy(t *testing.T) {
	p := &signal.Policy{Name: "echo", On: []signal.PolicyHandler{
		signal.React(func(ctx context.Context, ev signal.Event, e Withdrawn) ([]signal.Send, error) {
			reason := "by " + ev.Actor + " seen by " + signal.PrincipalFrom(ctx).Subject
			return []signal.Send{AccountType.To(ev.AggregateID, Freeze{Reason: reason})}, nil
		}),
	}}
	s := signaltest.Policy(t, p, AccountType).
		WhenBy("ada", AccountType, "a1", Withdrawn{Amount: 1}).
		ThenSends(AccountType.To("a1", Freeze{Reason: "by ada seen by policy:echo"})).
		When(AccountType, "a1", Withdrawn{Amount: 1}).
		ThenSends(AccountType.To("a1", Freeze{Reason: "by  seen by policy:echo"}))
	if ev := s.Event(); ev.Actor != "" || ev.Version != 2 {
		t.Errorf("When's event: actor %q, version %d", ev.Actor, ev.Version)
	}
}
