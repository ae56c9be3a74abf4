package tab

import (
	"context"

	"github.com/signalforgo/signal/pkg/signal"
)

// View names. Each view is built by the projection of the same name.
const (
	// TabSummaryView holds one TabSummary per tab, keyed by tab id.
	TabSummaryView = "tab-summary"
	// ItemSalesView holds one ItemSales per item ever paid for, keyed by item.
	ItemSalesView = "item-sales"
)

// TabSummary is the tab-summary document of one tab.
type TabSummary struct {
	TabID  string          `json:"tabId"`
	Items  map[string]Line `json:"items"`
	Total  int64           `json:"total"`
	Status string          `json:"status"`
	// Version is the tab's version the summary reflects.
	Version int64 `json:"version"`
}

// ItemSales is the item-sales document of one item: what paid tabs
// bought of it. Each payment counts once, however often its event is
// delivered, so a projection run applied twice shows here.
type ItemSales struct {
	Item      string `json:"item"`
	UnitsSold int64  `json:"unitsSold"`
	// Revenue is the sum of quantity × unit price, in cents.
	Revenue int64 `json:"revenue"`
	// Payments counts the paid tabs that held the item.
	Payments int64 `json:"payments"`
}

// TabSummaryProjection returns a new projection building the tab-summary
// view. It folds every tab event with the tab's own event handlers
// (Type.Fold), so the summary cannot drift from the aggregate's state.
func TabSummaryProjection() *signal.Projection {
	return &signal.Projection{
		Name:  TabSummaryView,
		Types: []string{TypeName},
		On:    []signal.ProjectionHandler{signal.ProjectAll(summarize)},
	}
}

func summarize(ctx context.Context, tx *signal.ViewTx, ev signal.Event) error {
	var doc TabSummary
	found, err := tx.Get(ctx, TabSummaryView, ev.AggregateID, &doc)
	if err != nil {
		return err
	}
	s := Type.Initial(ev.AggregateID)
	if found {
		s = Tab{Items: doc.Items, Total: doc.Total, Status: doc.Status}
	}
	s = Type.Fold(s, ev.Data)
	items := s.Items
	if items == nil {
		items = map[string]Line{}
	}
	return tx.Put(ctx, TabSummaryView, ev.AggregateID, TabSummary{
		TabID: ev.AggregateID, Items: items, Total: s.Total, Status: s.Status, Version: ev.Version,
	})
}

// ItemSalesProjection returns a new projection building the item-sales
// view. Only TabPaid changes it: the event lists the lines paid for.
func ItemSalesProjection() *signal.Projection {
	return &signal.Projection{
		Name: ItemSalesView,
		On:   []signal.ProjectionHandler{signal.Project(countSales)},
	}
}

func countSales(ctx context.Context, tx *signal.ViewTx, _ signal.Event, e TabPaid) error {
	for _, l := range e.Lines {
		var doc ItemSales
		if _, err := tx.Get(ctx, ItemSalesView, l.Item, &doc); err != nil {
			return err
		}
		doc.Item = l.Item
		doc.UnitsSold += l.Quantity
		doc.Revenue += l.Quantity * l.Price
		doc.Payments++
		if err := tx.Put(ctx, ItemSalesView, l.Item, doc); err != nil {
			return err
		}
	}
	return nil
}
