package cart_test

import (
	"testing"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/signaltest"
)

// The cart's ownership rule (cart.Authorize) through the test kit, wired
// as the app is: the same cases as TestOwnership, as a user writes them.

// securedScenario is cart c1 under the app's types, subscribers and rule.
func securedScenario(t *testing.T) *signaltest.Scenario[cart.Cart] {
	return signaltest.For(t, cart.Type, signaltest.ID("c1"), signaltest.WithApp(cart.App()))
}

// A cart belongs to the subject whose AddItem created it: another
// subject is refused (403), a caller without a principal asked for one
// (401), and neither changes it.
func TestKitCartBelongsToItsCreator(t *testing.T) {
	securedScenario(t).
		AsSubject("ann").
		When(cart.AddItem{SKU: "apple", Quantity: 2, Price: 150}).
		Then(apple2).
		ThenActor("ann").
		AsSubject("bob").
		When(cart.AddItem{SKU: "pear", Quantity: 1, Price: 300}).
		ThenError(signal.ErrForbidden).
		WhenJSON("CompletePurchase", `{}`).
		ThenError(signal.ErrForbidden).
		As(nil).
		WhenEnd().
		ThenError(signal.ErrUnauthenticated).
		ThenState(cart.Cart{Items: map[string]cart.Item{"apple": {Quantity: 2, Price: 150}}, Total: 300, Status: cart.StatusOpen})
}

// The owner's purchase opens the order for the owner: the open-order
// policy sends OpenOrder as itself, its commit records it as the actor,
// and the order's customer is the cart's owner.
func TestKitPurchaseOpensTheOwnersOrder(t *testing.T) {
	s := securedScenario(t).
		GivenBy("ann", apple2).
		AsSubject("bob").
		When(cart.CompletePurchase{}).
		ThenError(signal.ErrForbidden).
		AsSubject("ann").
		When(cart.CompletePurchase{}).
		Then(cart.PurchaseCompleted{Lines: []cart.Line{{SKU: "apple", Quantity: 2, Price: 150}}, Total: 300}).
		ThenActor("ann")
	order := s.EventsOf(cart.OrderType, "c1")
	if len(order) != 1 || order[0].Actor != signal.PolicyActorPrefix+cart.OpenOrderPolicyName {
		t.Fatalf("the order's events: %+v; want one, by the open-order policy", order)
	}
	if opened, _ := order[0].Data.(cart.OrderOpened); opened.Customer != "ann" {
		t.Errorf("the order is opened for %q, want ann", opened.Customer)
	}

	lines := []cart.Line{{SKU: "apple", Quantity: 2, Price: 150}}
	signaltest.Policy(t, cart.OpenOrderPolicy(), cart.Type, cart.OrderType).
		WhenBy("ann", cart.Type, "c1", cart.PurchaseCompleted{Lines: lines, Total: 300}).
		ThenSends(cart.OrderType.To("c1", cart.OpenOrder{Lines: lines, Total: 300, Customer: "ann"}))
}

// A cart created without a principal belongs to nobody: any caller
// changes it.
func TestKitAnonymousCartIsNobodys(t *testing.T) {
	securedScenario(t).
		Given(apple2).
		AsSubject("bob").
		When(cart.AddItem{SKU: "pear", Quantity: 1, Price: 300}).
		Then(pear1).
		ThenActor("bob")
}
