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
type ItemAdded struct { // an event
	SKU      string
	Quantity int64
}

var CartType = signal.MustDefine(signal.Spec[Cart]{
	Name: "cart",
	Decide: func(c Cart, cmd any) ([]any, error) {
		add := cmd.(AddItem)
		if add.Quantity <= 0 {
			return nil, errors.New("quantity must be positive") // a 422 for API clients
		}
		return []any{ItemAdded(add)}, nil
	},
	Evolve: func(c Cart, e any) Cart {
		items := maps.Clone(c.Items) // never modify the state you are given
		if items == nil {
			items = map[string]int64{}
		}
		items[e.(ItemAdded).SKU] += e.(ItemAdded).Quantity
		return Cart{Items: items}
	},
	Commands: []signal.CommandType{signal.CommandOf[AddItem]("AddItem")},
	Events:   []signal.EventType{signal.EventOf[ItemAdded]("ItemAdded")},
	Genesis:  func(cmd any) bool { return true }, // the first AddItem creates the cart
})

func Example() {
	ctx := context.Background()
	svc, _ := signal.New(signal.Config{Store: memstore.New(), Types: []signal.AggregateType{CartType}})
	cart, res, err := CartType.Handle(ctx, svc, "cart-1", AddItem{SKU: "apple", Quantity: 3})
	fmt.Println(cart.Items["apple"], res.Version, err)

	_, _, err = CartType.Handle(ctx, svc, "cart-1", AddItem{SKU: "pear", Quantity: 0})
	fmt.Println(errors.Is(err, signal.ErrRejected), signal.PublicMessage(err))
	// Output:
	// 3 1 <nil>
	// true quantity must be positive
}
