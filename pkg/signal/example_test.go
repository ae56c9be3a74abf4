package signal_test

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// The README's quick start, kept compiling and correct by `go test`.

type Cart struct{ Items map[string]int64 } // your state: a plain struct
type AddItem struct {                      // a command
	SKU      string
	Quantity int64
}
type CheckOut struct{}  // another command
type ItemAdded struct { // an event
	SKU      string
	Quantity int64
}
type CheckedOut struct{ Items map[string]int64 } // an event that ends the cart's life
type Discarded struct{}                          // another, appended by End (HTTP DELETE)

var CartType = signal.MustDefine(signal.Spec[Cart]{
	Name: "cart",
	// One typed handler per command and per event: the compiler checks
	// each against the state and the type it takes.
	Commands: []signal.CommandSpec[Cart]{
		signal.Decide("AddItem", addItem, signal.Genesis), // the first AddItem creates the cart
		signal.Decide("CheckOut", checkOut),
	},
	Events: []signal.EventSpec[Cart]{
		signal.Evolve("ItemAdded", itemAdded),
		signal.Evolve("CheckedOut", ended[CheckedOut], signal.Terminal), // closes the stream
		signal.Evolve("Discarded", ended[Discarded], signal.Terminal),
	},
	End: signal.EndWith(func(Cart) (Discarded, error) { return Discarded{}, nil }),
})

func addItem(c Cart, add AddItem) ([]any, error) {
	if add.Quantity <= 0 {
		return nil, errors.New("quantity must be positive") // a 422 for API clients
	}
	return []any{ItemAdded(add)}, nil
}

func checkOut(c Cart, _ CheckOut) ([]any, error) {
	if len(c.Items) == 0 {
		return nil, errors.New("the cart is empty")
	}
	//lint:ignore S1016 the event takes the state's items; a conversion of the state would read as if it were the event
	return []any{CheckedOut{Items: c.Items}}, nil
}

func itemAdded(c Cart, e ItemAdded) Cart {
	items := maps.Clone(c.Items) // never modify the state you are given
	if items == nil {
		items = map[string]int64{}
	}
	items[e.SKU] += e.Quantity
	return Cart{Items: items}
}

// ended folds a terminal event: the state stays as it was, and readable.
func ended[E any](c Cart, _ E) Cart { return c }

func Example() {
	ctx := context.Background()
	svc, _ := signal.New(signal.Config{Store: memstore.New(), Types: []signal.AggregateType{CartType}})
	carts := signal.Bind(svc, CartType) // typed access: states come back as Cart
	cart, res, err := carts.Handle(ctx, "cart-1", AddItem{SKU: "apple", Quantity: 3})
	fmt.Println(cart.Items["apple"], res.Version, err)

	_, _, err = carts.Handle(ctx, "cart-1", AddItem{SKU: "pear", Quantity: 0})
	fmt.Println(errors.Is(err, signal.ErrRejected), signal.PublicMessage(err))

	_, _, err = carts.Handle(ctx, "cart-2", CheckOut{}) // not Genesis: cart-2 must exist
	fmt.Println(errors.Is(err, signal.ErrNotFound))

	_, res, err = carts.End(ctx, "cart-1") // the End rule's terminal event
	fmt.Println(res.Events[0].Name, res.Version, err)
	_, _, err = carts.Handle(ctx, "cart-1", AddItem{SKU: "pear", Quantity: 1})
	fmt.Println(errors.Is(err, signal.ErrClosed))
	// Output:
	// 3 1 <nil>
	// true quantity must be positive
	// true
	// Discarded 2 <nil>
	// true
}

// The order a checked-out cart opens, through the policy below.

type Order struct{ Items map[string]int64 }
type OpenOrder struct{ Items map[string]int64 }
type OrderOpened struct{ Items map[string]int64 }

var OrderType = signal.MustDefine(signal.Spec[Order]{
	Name: "order",
	Commands: []signal.CommandSpec[Order]{
		// Internal: Go code and policies send it; HandleJSON (the HTTP
		// API) refuses it with ErrForbidden.
		signal.Decide("OpenOrder", func(_ Order, c OpenOrder) ([]any, error) {
			return []any{OrderOpened(c)}, nil
		}, signal.Genesis, signal.Internal),
	},
	Events: []signal.EventSpec[Order]{
		signal.Evolve("OrderOpened", func(_ Order, e OrderOpened) Order { return Order(e) }),
	},
})

// SKUSales is a document of the "sales" view.
type SKUSales struct{ Units int64 }

// sales builds the "sales" view: the units checked out per sku. Its
// typed handler takes CheckedOut, so it follows the cart type, and the
// other cart events pass it by.
var sales = &signal.Projection{
	Name: "sales",
	On: []signal.ProjectionHandler{
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e CheckedOut) error {
			for sku, n := range e.Items {
				var doc SKUSales
				if _, err := tx.Get(ctx, "sales", sku, &doc); err != nil {
					return err
				}
				doc.Units += n
				if err := tx.Put(ctx, "sales", sku, doc); err != nil {
					return err
				}
			}
			return nil
		}),
	},
}

// openOrder opens the order of each checked-out cart, under the cart's id.
var openOrder = &signal.Policy{
	Name: "open-order",
	On: []signal.PolicyHandler{
		signal.React(func(ctx context.Context, ev signal.Event, e CheckedOut) ([]signal.Send, error) {
			return []signal.Send{OrderType.To(ev.AggregateID, OpenOrder(e))}, nil
		}),
	},
}

func Example_subscribers() {
	ctx := context.Background()
	svc, _ := signal.New(signal.Config{
		Store:          memstore.New(),
		Types:          []signal.AggregateType{CartType, OrderType},
		Subscribers:    []signal.Subscriber{sales, openOrder},
		InlineDispatch: true, // run them right after each command
	})
	carts, orders := signal.Bind(svc, CartType), signal.Bind(svc, OrderType)
	_, _, _ = carts.Handle(ctx, "cart-1", AddItem{SKU: "apple", Quantity: 3})
	_, _, err := carts.Handle(ctx, "cart-1", CheckOut{})
	fmt.Println(err)

	apple, _, err := signal.LoadView[SKUSales](ctx, svc, "sales", "apple")
	fmt.Println(apple.Units, err)
	order, version, err := orders.Get(ctx, "cart-1")
	fmt.Println(order.Items["apple"], version, err)

	_, err = svc.HandleJSON(ctx, "order", "cart-2", "OpenOrder", []byte(`{"Items":{"pear":1}}`))
	fmt.Println(errors.Is(err, signal.ErrForbidden))
	// Output:
	// <nil>
	// 3 <nil>
	// 3 1 <nil>
	// true
}
