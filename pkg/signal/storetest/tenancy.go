package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// RunTenancy checks a Service with Tenancy over a store newStore makes:
// two tenants using the same cart id get separate streams and separate
// view documents, neither can read or change the other's through any
// Service method, a policy's command stays in the tenant of its event,
// subscribers see the caller's ids with Event.Tenant, and callers
// without a principal, without a tenant or naming the separator are
// refused without a write. The store must keep checkpoints and views;
// the subscribers are fed from its change feed, or from Load.
func RunTenancy(t *testing.T, newStore func(t *testing.T) signal.Store) {
	t.Helper()
	st := newStore(t)
	_, views := st.(signal.ViewStore)
	if _, checkpoints := st.(signal.CheckpointStore); !checkpoints || !views {
		t.Fatalf("%T keeps no checkpoints or no views: RunTenancy checks policies and projections", st)
	}
	svc := newTenantService(t, st)
	acme, globex := inTenant("ann", "acme"), inTenant("gus", "globex")
	for _, c := range []struct {
		ctx context.Context
		n   int64
	}{{acme, 1}, {globex, 2}} {
		if _, err := svc.Handle(c.ctx, "cart", "c1", addItem{SKU: "apple", Quantity: c.n}); err != nil {
			t.Fatalf("AddItem in tenant %s: %v", signal.PrincipalFrom(c.ctx).Tenant, err)
		}
	}
	for tenant, want := range map[string]int{"acme|c1": 1, "globex|c1": 1, "c1": 0} {
		if got := len(LoadAll(t, st, signal.StreamID{Type: "cart", ID: tenant}, 0)); got != want {
			t.Errorf("stored stream cart/%s holds %d commits, want %d", tenant, got, want)
		}
	}
	checkTenantReads(t, svc, acme, 1)
	checkTenantReads(t, svc, globex, 2)
	if _, err := svc.Handle(acme, "cart", "c1", checkout{}); err != nil {
		t.Fatalf("Checkout in acme: %v", err)
	}
	deliverTenants(t, svc, st)
	if _, err := svc.Get(acme, "cart", "receipt-c1"); err != nil {
		t.Errorf("acme's receipt, sent by the policy = %v, want it in acme", err)
	}
	if _, err := svc.Get(globex, "cart", "receipt-c1"); !errors.Is(err, signal.ErrNotFound) {
		t.Errorf("globex's receipt-c1 = %v, want ErrNotFound (the policy acted in acme)", err)
	}
	checkTenantViews(t, svc, acme, globex)
	checkTenantRefusals(t, svc, st)
}

// checkTenantReads: the tenant of ctx sees its own cart c1, holding
// apples, under the id c1, in state and history.
func checkTenantReads(t *testing.T, svc *signal.Service, ctx context.Context, apples int64) {
	t.Helper()
	tenant := signal.PrincipalFrom(ctx).Tenant
	got, err := svc.Get(ctx, "cart", "c1")
	if err != nil || got.ID != "c1" || got.State.(cart).Items["apple"] != apples {
		t.Errorf("Get(c1) in %s = %+v, %v; want id c1 with %d apples", tenant, got, err, apples)
	}
	page, err := svc.History(ctx, "cart", "c1", 0, 10)
	if err != nil || len(page.Events) != 1 || page.Events[0].AggregateID != "c1" || page.Events[0].Tenant != tenant {
		t.Errorf("History(c1) in %s = %+v, %v; want one event of c1 in %s", tenant, page, err, tenant)
	}
}

// checkTenantViews: each tenant's projection wrote its own document.
func checkTenantViews(t *testing.T, svc *signal.Service, acme, globex context.Context) {
	t.Helper()
	for _, c := range []struct {
		ctx  context.Context
		want string
	}{{acme, "2"}, {globex, "2"}} { // acme: 1 apple + the receipt's; globex: 2
		tenant := signal.PrincipalFrom(c.ctx).Tenant
		v, err := svc.View(c.ctx, "sku-units", "apple")
		if err != nil || string(v.Data) != c.want || v.Key != "apple" {
			t.Errorf("View(sku-units, apple) in %s = %+v %s, %v; want key apple holding %s", tenant, v, v.Data, err, c.want)
		}
	}
}

// checkTenantRefusals: no principal, no tenant, a separator in the id:
// refused, and nothing written.
func checkTenantRefusals(t *testing.T, svc *signal.Service, st signal.Store) {
	t.Helper()
	anonymous := context.Background()
	noTenant := signal.WithPrincipal(anonymous, &signal.Principal{Subject: "ann"})
	cases := []struct {
		name string
		ctx  context.Context
		id   string
		want error
	}{
		{"without a principal", anonymous, "c9", signal.ErrUnauthenticated},
		{"without a tenant", noTenant, "c9", signal.ErrForbidden},
		{"naming another tenant", inTenant("ann", "acme"), "globex|c1", signal.ErrInvalid},
	}
	for _, c := range cases {
		_, err := svc.Handle(c.ctx, "cart", c.id, addItem{SKU: "pear", Quantity: 1})
		wantErr(t, err, c.want, "AddItem %s", c.name)
		_, err = svc.Get(c.ctx, "cart", c.id)
		wantErr(t, err, c.want, "Get %s", c.name)
		_, err = svc.View(c.ctx, "sku-units", c.id)
		wantErr(t, err, c.want, "View %s", c.name)
	}
	for id, want := range map[string]int{"c9": 0, "acme|c9": 0, "acme|globex|c1": 0, "globex|c1": 1} {
		if n := len(LoadAll(t, st, signal.StreamID{Type: "cart", ID: id}, 0)); n != want {
			t.Errorf("after the refusals cart/%s holds %d commits, want %d", id, n, want)
		}
	}
}

// deliverTenants runs the subscribers over every commit: the change
// feed from the start, or what Load returns for the streams written.
func deliverTenants(t *testing.T, svc *signal.Service, st signal.Store) {
	t.Helper()
	if feed, ok := st.(signal.ChangeFeed); ok {
		// Twice: the policy's receipt is appended during the first pass.
		last, _, err := svc.DispatchChanges(t.Context(), feed, 0, 100)
		if err == nil {
			_, _, err = svc.DispatchChanges(t.Context(), feed, last, 100)
		}
		if err != nil {
			t.Fatalf("DispatchChanges: %v", err)
		}
		return
	}
	var commits []signal.Commit
	for _, id := range []string{"acme|c1", "globex|c1"} {
		commits = append(commits, LoadAll(t, st, signal.StreamID{Type: "cart", ID: id}, 0)...)
	}
	if err := svc.Dispatch(t.Context(), commits); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	// The policy's command wrote a receipt: deliver it too, for its view.
	receipt := LoadAll(t, st, signal.StreamID{Type: "cart", ID: "acme|receipt-c1"}, 0)
	if err := svc.Dispatch(t.Context(), receipt); err != nil {
		t.Fatalf("Dispatch the receipt: %v", err)
	}
}

func inTenant(subject, tenant string) context.Context {
	return signal.WithPrincipal(context.Background(), &signal.Principal{Subject: subject, Tenant: tenant})
}

// receipts is the tenancy suite's policy: a checked-out cart gets a
// receipt cart ("receipt-<id>") holding one apple, sent by the policy in
// the tenant of the checkout.
var receipts = &signal.Policy{
	Name: "receipts",
	On: []signal.PolicyHandler{signal.React(func(_ context.Context, ev signal.Event, _ checkedOut) ([]signal.Send, error) {
		return []signal.Send{{Type: "cart", ID: fmt.Sprint("receipt-", ev.AggregateID), Command: addItem{SKU: "apple", Quantity: 1}}}, nil
	})},
}

// newTenantService is a Service with Tenancy over st: the cart type, the
// receipts policy and the sku-units projection.
func newTenantService(t *testing.T, st signal.Store) *signal.Service {
	t.Helper()
	cfg := signal.Config{Store: st, Types: []signal.AggregateType{cartType}, Tenancy: true,
		Subscribers: []signal.Subscriber{receipts, skuUnits}}
	svc, err := signal.New(cfg)
	if err != nil {
		t.Fatalf("signal.New: %v", err)
	}
	return svc
}
