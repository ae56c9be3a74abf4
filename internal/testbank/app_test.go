package testbank_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/signalforgo/signal/internal/testbank"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

func TestAppParts(t *testing.T) {
	for name, c := range map[string]struct {
		opts        []testbank.Option
		types, subs []string
	}{
		"default":    {nil, []string{"account", "letter"}, []string{"balances", "welcome"}},
		"lambdafn's": {[]testbank.Option{testbank.WithAuditor(), testbank.WithoutLetters()}, []string{"account"}, []string{"balances", "auditor"}},
		"console's":  {[]testbank.Option{testbank.WithoutLetters(), testbank.WithAudit()}, []string{"account", "audit"}, []string{"balances"}},
		"everything": {[]testbank.Option{testbank.WithAudit(), testbank.WithAuditor()}, []string{"account", "letter", "audit"}, []string{"balances", "welcome", "auditor"}},
	} {
		t.Run(name, func(t *testing.T) {
			app := testbank.App(c.opts...)
			if err := app.Validate(); err != nil {
				t.Fatal(err)
			}
			var types, subs []string
			for _, ty := range app.Types {
				types = append(types, ty.Name())
			}
			for _, s := range app.Subscribers {
				subs = append(subs, s.SubscriberName())
			}
			if app.Name != "bank" || !slices.Equal(types, c.types) || !slices.Equal(subs, c.subs) {
				t.Errorf("app %q, types %v, subscribers %v; want bank, %v, %v", app.Name, types, subs, c.types, c.subs)
			}
		})
	}
}

func TestAccountRefusals(t *testing.T) {
	ctx := context.Background()
	svc, err := signal.New(testbank.App(testbank.WithoutLetters()).Config(memstore.New(), false))
	if err != nil {
		t.Fatal(err)
	}
	acct := signal.Bind(svc, testbank.AccountType)
	if _, _, err := acct.Handle(ctx, "a1", testbank.Open{Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := acct.Handle(ctx, "a1", testbank.Deposit{Amount: 70, Memo: "pay"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cmd  any
		want error
		msg  string
	}{
		{testbank.Deposit{Amount: 0}, testbank.ErrNotPositive, "the amount must be positive"},
		{testbank.Withdraw{Amount: -1}, testbank.ErrNotPositive, "the amount must be positive"},
		{testbank.Withdraw{Amount: 71}, testbank.ErrInsufficientFunds, "insufficient funds: the balance is 70"},
	} {
		if _, _, err := acct.Handle(ctx, "a1", c.cmd); !errors.Is(err, c.want) || !strings.Contains(fmt.Sprint(err), c.msg) {
			t.Errorf("%T%+v: %v, want %q", c.cmd, c.cmd, err, c.msg)
		}
	}
	if _, err := svc.End(ctx, "account", "a1"); !errors.Is(err, testbank.ErrNotEmpty) {
		t.Errorf("End of a non-empty account: %v, want ErrNotEmpty", err)
	}
}
