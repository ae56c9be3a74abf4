package httpapi

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/signalforgo/signal/pkg/signal"
)

// The shop domain of these tests: a cart and the order a policy opens
// when a purchase completes, with two projections. It is the package's
// own (library tests never import examples/) and holds just what the
// HTTP tests exercise: a genesis command, domain refusals with their
// messages, a terminal event, an End rule, an internal command on a type
// without an End rule, a policy that runs inline and views.
//
//	cart:  AddItem {sku, quantity, price} (genesis), RemoveItem {sku, quantity},
//	       CompletePurchase {}; DELETE discards an open cart.
//	order: OpenOrder {lines, total} (genesis, internal), sent by the policy.
//	views: cart-summary/{cart id}, sku-sales/{sku}.

type shopCart struct {
	Items  map[string]shopItem `json:"items"`
	Total  int64               `json:"total"`
	Status string              `json:"status"`
}

type shopItem struct {
	Quantity int64 `json:"quantity"`
	Price    int64 `json:"price"`
}

type shopLine struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	Price    int64  `json:"price"`
}

type AddItem struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	Price    int64  `json:"price"`
}

type RemoveItem struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

type CompletePurchase struct{}

type ItemAdded AddItem

type ItemRemoved RemoveItem

type PurchaseCompleted struct {
	Lines []shopLine `json:"lines"`
	Total int64      `json:"total"`
}

type CartDiscarded struct{}

var (
	errBadQuantity = errors.New("quantity must be between 1 and 10000")
	errRemoveMore  = errors.New("cannot remove more units than the cart holds")
	errEmptyCart   = errors.New("cannot complete the purchase of an empty cart")
	errNotOpen     = errors.New("the cart is no longer open")
)

var cartType = signal.MustDefine(signal.Spec[shopCart]{
	Name:    "cart",
	Initial: func(string) shopCart { return shopCart{Status: "open"} },
	Commands: []signal.CommandSpec[shopCart]{
		signal.Decide("AddItem", func(s shopCart, c AddItem) ([]any, error) {
			if c.Quantity < 1 || c.Quantity > 10000 {
				return nil, errBadQuantity
			}
			return []any{ItemAdded(c)}, nil
		}, signal.Genesis),
		signal.Decide("RemoveItem", func(s shopCart, c RemoveItem) ([]any, error) {
			if c.Quantity > s.Items[c.SKU].Quantity {
				return nil, errRemoveMore
			}
			return []any{ItemRemoved(c)}, nil
		}),
		signal.Decide("CompletePurchase", func(s shopCart, _ CompletePurchase) ([]any, error) {
			if len(s.Items) == 0 {
				return nil, errEmptyCart
			}
			var lines []shopLine
			for _, sku := range slices.Sorted(maps.Keys(s.Items)) {
				lines = append(lines, shopLine{SKU: sku, Quantity: s.Items[sku].Quantity, Price: s.Items[sku].Price})
			}
			return []any{PurchaseCompleted{Lines: lines, Total: s.Total}}, nil
		}),
	},
	Events: []signal.EventSpec[shopCart]{
		signal.Evolve("ItemAdded", func(s shopCart, e ItemAdded) shopCart {
			s.Items = maps.Clone(s.Items)
			if s.Items == nil {
				s.Items = map[string]shopItem{}
			}
			it := s.Items[e.SKU]
			it.Quantity += e.Quantity
			it.Price = e.Price
			s.Items[e.SKU] = it
			s.Total += e.Quantity * e.Price
			return s
		}),
		signal.Evolve("ItemRemoved", func(s shopCart, e ItemRemoved) shopCart {
			s.Items = maps.Clone(s.Items)
			it := s.Items[e.SKU]
			if it.Quantity -= e.Quantity; it.Quantity <= 0 {
				delete(s.Items, e.SKU)
			} else {
				s.Items[e.SKU] = it
			}
			s.Total -= e.Quantity * it.Price
			return s
		}),
		signal.Evolve("PurchaseCompleted", func(s shopCart, _ PurchaseCompleted) shopCart { s.Status = "purchased"; return s }, signal.Terminal),
		signal.Evolve("CartDiscarded", func(s shopCart, _ CartDiscarded) shopCart { s.Status = "discarded"; return s }, signal.Terminal),
	},
	End: signal.EndWith(func(s shopCart) (CartDiscarded, error) {
		if s.Status != "open" {
			return CartDiscarded{}, errNotOpen
		}
		return CartDiscarded{}, nil
	}),
})

type shopOrder struct {
	Lines  []shopLine `json:"lines"`
	Total  int64      `json:"total"`
	Status string     `json:"status"`
}

type OpenOrder struct {
	Lines []shopLine `json:"lines"`
	Total int64      `json:"total"`
}

type OrderOpened OpenOrder

var orderType = signal.MustDefine(signal.Spec[shopOrder]{
	Name: "order",
	Commands: []signal.CommandSpec[shopOrder]{
		signal.Decide("OpenOrder", func(_ shopOrder, c OpenOrder) ([]any, error) { return []any{OrderOpened(c)}, nil },
			signal.Genesis, signal.Internal),
	},
	Events: []signal.EventSpec[shopOrder]{
		signal.Evolve("OrderOpened", func(_ shopOrder, e OrderOpened) shopOrder {
			return shopOrder{Lines: e.Lines, Total: e.Total, Status: "open"}
		}),
	},
})

type cartSummary struct {
	CartID  string              `json:"cartId"`
	Items   map[string]shopItem `json:"items"`
	Total   int64               `json:"total"`
	Status  string              `json:"status"`
	Version int64               `json:"version"`
}

type skuSales struct {
	SKU       string `json:"sku"`
	UnitsSold int64  `json:"unitsSold"`
	Revenue   int64  `json:"revenue"`
}

// shopTypes and shopSubscribers are the domain as a Service takes it.
func shopTypes() []signal.AggregateType { return []signal.AggregateType{cartType, orderType} }

func shopSubscribers() []signal.Subscriber {
	summary := &signal.Projection{Name: "cart-summary", Types: []string{"cart"}, On: []signal.ProjectionHandler{
		signal.ProjectAll(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event) error {
			var doc cartSummary
			found, err := tx.Get(ctx, "cart-summary", ev.AggregateID, &doc)
			if err != nil {
				return err
			}
			s := cartType.Initial(ev.AggregateID)
			if found {
				s = shopCart{Items: doc.Items, Total: doc.Total, Status: doc.Status}
			}
			s = cartType.Fold(s, ev.Data)
			return tx.Put(ctx, "cart-summary", ev.AggregateID, cartSummary{
				CartID: ev.AggregateID, Items: s.Items, Total: s.Total, Status: s.Status, Version: ev.Version})
		}),
	}}
	sales := &signal.Projection{Name: "sku-sales", On: []signal.ProjectionHandler{
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, _ signal.Event, e PurchaseCompleted) error {
			for _, l := range e.Lines {
				var doc skuSales
				if _, err := tx.Get(ctx, "sku-sales", l.SKU, &doc); err != nil {
					return err
				}
				doc.SKU, doc.UnitsSold, doc.Revenue = l.SKU, doc.UnitsSold+l.Quantity, doc.Revenue+l.Quantity*l.Price
				if err := tx.Put(ctx, "sku-sales", l.SKU, doc); err != nil {
					return err
				}
			}
			return nil
		}),
	}}
	openOrder := &signal.Policy{Name: "open-order", On: []signal.PolicyHandler{
		signal.React(func(_ context.Context, ev signal.Event, e PurchaseCompleted) ([]signal.Send, error) {
			return []signal.Send{orderType.To(ev.AggregateID, OpenOrder(e))}, nil
		}),
	}}
	return []signal.Subscriber{summary, sales, openOrder}
}
