package testbank

import (
	"context"

	"github.com/signalforgo/signal/pkg/signal"
)

// BalancesView holds one Balance per account, keyed by account id.
const BalancesView = "balances"

// Balance is a document of the balances view.
type Balance struct {
	Owner   string `json:"owner"`
	Balance int64  `json:"balance"`
}

// Balances returns the balances projection: a document per open account,
// written at Opened, moved by Deposited and Withdrawn, deleted at Closed.
func Balances() *signal.Projection {
	add := func(ctx context.Context, tx *signal.ViewTx, id string, amount int64) error {
		var b Balance
		if _, err := tx.Get(ctx, BalancesView, id, &b); err != nil {
			return err
		}
		b.Balance += amount
		return tx.Put(ctx, BalancesView, id, b)
	}
	return &signal.Projection{Name: BalancesView, Types: []string{"account"}, On: []signal.ProjectionHandler{
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Opened) error {
			return tx.Put(ctx, BalancesView, ev.AggregateID, Balance{Owner: e.Owner})
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Deposited) error {
			return add(ctx, tx, ev.AggregateID, e.Amount)
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Withdrawn) error {
			return add(ctx, tx, ev.AggregateID, -e.Amount)
		}),
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Closed) error {
			return tx.Delete(ctx, BalancesView, ev.AggregateID)
		}),
	}}
}
