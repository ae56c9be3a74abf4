// Package cart is the example domain of Signal for Go: the shopping cart
// of the original Signal library, an order opened when a purchase
// completes, two projections and the policy linking them. It imports only
// pkg/signal, and is written on its typed API: one handler per command
// and per event, no type switch or type assertion anywhere.
//
// Money is always an int64 count of cents: prices, line totals, cart and
// order totals and revenue. There are no floats anywhere.
//
// # Cart
//
// The cart aggregate (Type, "cart") takes three commands, named as in the
// HTTP API's path (POST /aggregates/cart/{id}/{command}):
//
//	AddItem          {"sku":"apple","quantity":2,"price":150}  -> ItemAdded
//	RemoveItem       {"sku":"apple","quantity":1}              -> ItemRemoved
//	CompletePurchase {}                                        -> PurchaseCompleted
//
// The first AddItem creates the cart (genesis); RemoveItem or
// CompletePurchase on a cart that does not exist fail with
// signal.ErrNotFound. DELETE /aggregates/cart/{id} (Service.End) discards
// an open cart (CartDiscarded). PurchaseCompleted and CartDiscarded end the cart's
// life: every later command fails with signal.ErrClosed (HTTP 410), while
// its state and history stay readable.
//
// Rules, each refusing the command with an exported error (wrapped as
// signal.ErrRejected, HTTP 422, its message safe to show):
//   - quantity is 1 to MaxQuantity, price 0 to MaxPrice cents;
//   - a sku is 1 to MaxSKUBytes bytes and a valid view key (ErrInvalidSKU);
//   - a sku keeps the price it was first added at (ErrPriceMismatch);
//   - a line holds at most MaxQuantity units, a cart at most MaxLines skus;
//   - one cannot remove a sku not in the cart (ErrNotInCart) or more units
//     than it holds (ErrRemoveTooMany);
//   - one cannot complete an empty cart (ErrEmptyCart).
//
// # Order
//
// The order aggregate (OrderType, "order") has one command, OpenOrder,
// which creates it (OrderOpened) and is refused once the order exists.
// An order's id is its cart's id (Order.CartID comes from it). OpenOrder
// is internal: only the open-order policy sends it; over HTTP it answers
// 403 forbidden and writes nothing.
//
// # Subscribers
//
//   - the cart-summary projection keeps, per cart id, its items, total,
//     status and version (CartSummary);
//   - the sku-sales projection keeps, per sku, the units sold, revenue and
//     number of completed purchases (SKUSales), counted once per purchase;
//   - the open-order policy opens the order with the cart's id when a
//     purchase completes.
//
// Wire everything with Types and Subscribers:
//
//	svc, err := signal.New(signal.Config{
//		Store:       store,
//		Types:       cart.Types(),
//		Subscribers: cart.Subscribers(),
//	})
package cart
