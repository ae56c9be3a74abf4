package cart

import (
	"context"

	"github.com/signalforgo/signal/pkg/signal"
)

// View names, as read with GET /views/{view}/{key}. Each view is built by
// the projection of the same name.
const (
	// CartSummaryView holds one CartSummary per cart, keyed by cart id.
	CartSummaryView = "cart-summary"
	// SKUSalesView holds one SKUSales per sku ever purchased, keyed by sku.
	SKUSalesView = "sku-sales"
)

// CartSummary is the cart-summary document of one cart. Money is in
// integer cents.
type CartSummary struct {
	CartID string          `json:"cartId"`
	Items  map[string]Item `json:"items"`
	// Total is in cents.
	Total  int64  `json:"total"`
	Status string `json:"status"`
	// Version is the cart's version the summary reflects.
	Version int64 `json:"version"`
}

// SKUSales is the sku-sales document of one sku: what completed purchases
// bought of it. Each purchase counts once, however often its event is
// delivered. Money is in integer cents.
type SKUSales struct {
	SKU       string `json:"sku"`
	UnitsSold int64  `json:"unitsSold"`
	// Revenue is the sum of quantity × unit price, in cents.
	Revenue int64 `json:"revenue"`
	// Purchases counts the completed purchases that held the sku.
	Purchases int64 `json:"purchases"`
}

// CartSummaryProjection returns a new projection building the
// cart-summary view. It folds every cart event with the cart's own event
// handlers (Type.Fold), so the summary cannot drift from the aggregate's
// state.
func CartSummaryProjection() *signal.Projection {
	return &signal.Projection{
		Name:  CartSummaryView,
		Types: []string{TypeName},
		On:    []signal.ProjectionHandler{signal.ProjectAll(summarize)},
	}
}

func summarize(ctx context.Context, tx *signal.ViewTx, ev signal.Event) error {
	var doc CartSummary
	found, err := tx.Get(ctx, CartSummaryView, ev.AggregateID, &doc)
	if err != nil {
		return err
	}
	s := Type.Initial(ev.AggregateID)
	if found {
		s = Cart{Items: doc.Items, Total: doc.Total, Status: doc.Status}
	}
	s = Type.Fold(s, ev.Data)
	items := s.Items
	if items == nil {
		items = map[string]Item{}
	}
	return tx.Put(ctx, CartSummaryView, ev.AggregateID, CartSummary{
		CartID:  ev.AggregateID,
		Items:   items,
		Total:   s.Total,
		Status:  s.Status,
		Version: ev.Version,
	})
}

// SKUSalesProjection returns a new projection building the sku-sales
// view. Only PurchaseCompleted changes it: the event lists the lines
// bought, so the projection reads no cart state.
func SKUSalesProjection() *signal.Projection {
	return &signal.Projection{
		Name: SKUSalesView,
		On:   []signal.ProjectionHandler{signal.Project(countSales)},
	}
}

func countSales(ctx context.Context, tx *signal.ViewTx, _ signal.Event, e PurchaseCompleted) error {
	for _, l := range e.Lines {
		var doc SKUSales
		if _, err := tx.Get(ctx, SKUSalesView, l.SKU, &doc); err != nil {
			return err
		}
		doc.SKU = l.SKU
		doc.UnitsSold += l.Quantity
		doc.Revenue += l.Quantity * l.Price
		doc.Purchases++
		if err := tx.Put(ctx, SKUSalesView, l.SKU, doc); err != nil {
			return err
		}
	}
	return nil
}
