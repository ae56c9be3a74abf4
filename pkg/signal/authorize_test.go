package signal_test

import (
	"context"
	"errors"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// ownerRule is an account's owner-only rule: a principal is needed; an
// account belongs to the subject that opened it, who alone commands and
// reads it and its balance view; policies (System) may do anything;
// everyone signed in reads the deposit total. It records the actions it
// was asked about.
func ownerRule(asked *[]signal.Action) signal.Authorizer {
	return func(ctx context.Context, p *signal.Principal, a *signal.Action) error {
		*asked = append(*asked, *a)
		switch {
		case p == nil:
			return signal.Unauthenticated()
		case p.System:
			return nil
		case a.Kind == signal.ViewAction && a.View == "balance":
			owner, err := a.OwnerOf(ctx, "account", a.Key)
			if err != nil {
				return err
			}
			if owner != p.Subject {
				return signal.Forbidden("not your account")
			}
			return nil
		case a.Kind == signal.ViewAction, a.Version == 0:
			return nil
		case a.Owner != p.Subject:
			return errors.New("not your account") // a plain error: a refusal
		}
		return nil
	}
}

// authFixture is the account domain with the balances projection and the
// welcome-bonus policy inline, under ownerRule, snapshotting every commit.
func authFixture(t *testing.T, asked *[]signal.Action) *fixture {
	subs, _ := subscribers(nil)
	return newFixture(t, func(s *signal.Spec[Account], c *signal.Config) {
		s.SnapshotEvery = 1
		c.Subscribers, c.InlineDispatch, c.Authorize = subs, true, ownerRule(asked)
	})
}

func as(subject string) context.Context {
	return signal.WithPrincipal(context.Background(), &signal.Principal{Subject: subject})
}

// TestAuthorizeOwnership: the rule decides every command, read, history
// page and view read; a refusal writes nothing; commits record their
// actor, the policy's as "policy:<name>".
func TestAuthorizeOwnership(t *testing.T) {
	var asked []signal.Action
	f := authFixture(t, &asked)
	if _, err := f.svc.Handle(context.Background(), "account", "a1", Open{Owner: "ann"}); !errors.Is(err, signal.ErrUnauthenticated) {
		t.Fatalf("an anonymous Open = %v, want ErrUnauthenticated", err)
	}
	if n := len(f.commits(t)); n != 0 {
		t.Fatalf("a refused command wrote %d commits", n)
	}
	if _, err := f.svc.Handle(as("ann"), "account", "a1", Open{Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	cs := f.commits(t)
	if len(cs) != 2 || cs[0].Actor != "ann" || cs[1].Actor != "policy:welcome-bonus" {
		t.Fatalf("commits %+v: want ann's Open, then the policy's Deposit", cs)
	}
	checkRefusedToOthers(t, f, "a1")
	checkAllowedToOwner(t, f, "a1")
	if n := len(f.commits(t)); n != 2 {
		t.Fatalf("refused commands wrote: %d commits, want 2", n)
	}
	last := asked[len(asked)-1]
	if last.Kind != signal.HistoryAction || last.Type != "account" || last.ID != "a1" || last.Owner != "ann" || last.Version != 2 {
		t.Errorf("the last action asked about = %+v", last)
	}
	if acct, ok := last.State.(Account); !ok || acct.Balance != 100 {
		t.Errorf("the rule was given the state %#v, want the account with the bonus", last.State)
	}
}

// checkRefusedToOthers: bob may neither command nor read ann's account.
func checkRefusedToOthers(t *testing.T, f *fixture, id string) {
	t.Helper()
	bob := as("bob")
	_, cmdErr := f.svc.Handle(bob, "account", id, Deposit{Amount: 5})
	_, endErr := f.svc.End(bob, "account", id)
	_, getErr := f.svc.Get(bob, "account", id)
	_, atErr := f.svc.At(bob, "account", id, 1)
	_, histErr := f.svc.History(bob, "account", id, 0, 10)
	_, viewErr := f.svc.View(bob, "balance", id)
	for name, err := range map[string]error{"Handle": cmdErr, "End": endErr, "Get": getErr, "At": atErr, "History": histErr, "View": viewErr} {
		if !errors.Is(err, signal.ErrForbidden) || signal.PublicMessage(err) != "not your account" {
			t.Errorf("bob's %s = %v, want ErrForbidden saying %q", name, err, "not your account")
		}
	}
	if _, err := f.svc.View(bob, "deposit-total", "all"); err != nil {
		t.Errorf("bob's read of the total = %v, want it allowed", err)
	}
}

// checkAllowedToOwner: ann reads her account, its history with the
// actors, and its view.
func checkAllowedToOwner(t *testing.T, f *fixture, id string) {
	t.Helper()
	ann := as("ann")
	if _, err := f.svc.Get(ann, "account", id); err != nil {
		t.Errorf("ann's Get = %v", err)
	}
	if _, err := f.svc.At(ann, "account", id, 1); err != nil {
		t.Errorf("ann's At = %v", err)
	}
	if _, err := f.svc.View(ann, "balance", id); err != nil {
		t.Errorf("ann's View = %v", err)
	}
	page, err := f.svc.History(ann, "account", id, 0, 10)
	if err != nil || len(page.Events) != 2 || page.Events[0].Actor != "ann" || page.Events[1].Actor != "policy:welcome-bonus" {
		t.Errorf("ann's History = %+v, %v; want the actors ann and the policy", page, err)
	}
}

// TestAuthorizeOwnerFromSnapshot: a Service that restores the aggregate
// from its snapshot, reading no commit before it, still knows its owner.
func TestAuthorizeOwnerFromSnapshot(t *testing.T) {
	var asked []signal.Action
	f := authFixture(t, &asked)
	if _, err := f.svc.Handle(as("ann"), "account", "a1", Open{Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	cold, err := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}, Authorize: ownerRule(&asked)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cold.Handle(as("bob"), "account", "a1", Deposit{Amount: 5}); !errors.Is(err, signal.ErrForbidden) {
		t.Fatalf("bob's Deposit through a cold Service = %v, want ErrForbidden", err)
	}
	if got := asked[len(asked)-1].Owner; got != "ann" {
		t.Fatalf("the owner restored from the snapshot = %q, want ann", got)
	}
	if _, err := cold.Handle(as("ann"), "account", "a1", Deposit{Amount: 5}); err != nil {
		t.Fatalf("ann's Deposit through a cold Service = %v", err)
	}
}

// TestAuthorizeBeforeRepeat: a command id someone else used is not
// answered from the recent ids to a caller the rule refuses.
func TestAuthorizeBeforeRepeat(t *testing.T) {
	var asked []signal.Action
	f := authFixture(t, &asked)
	if _, err := f.svc.Handle(as("ann"), "account", "a1", Open{Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	key := signal.WithCommandID("k-1")
	if _, err := f.svc.Handle(as("ann"), "account", "a1", Deposit{Amount: 5}, key); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Handle(as("bob"), "account", "a1", Deposit{Amount: 5}, key); !errors.Is(err, signal.ErrForbidden) {
		t.Fatalf("bob repeating ann's keyed command = %v, want ErrForbidden", err)
	}
}

// TestAuthorizeActorChecked: a principal whose subject no store could
// record is refused before anything is read.
func TestAuthorizeActorChecked(t *testing.T) {
	f := newFixture(t)
	ctx := signal.WithPrincipal(context.Background(), &signal.Principal{Subject: "bad\x00subject"})
	if _, err := f.svc.Handle(ctx, "account", "a1", Open{Owner: "x"}); !errors.Is(err, signal.ErrInvalid) {
		t.Fatalf("a subject with a NUL = %v, want ErrInvalid", err)
	}
	if n := len(f.commits(t)); n != 0 {
		t.Fatalf("wrote %d commits", n)
	}
}
