// Package tab is the test domain of pkg/dynstore and its subpackages: a
// bar tab, the receipt issued when it is paid, two projections and the
// policy linking them. Library tests never import examples/, so the
// DynamoDB tests run on this domain of their own.
//
// It mirrors the shape the store's cost, concurrency, fault and
// projection tests rely on, one for one: one event per command, the
// first command creates the aggregate, a refusal for what is not on the
// tab, a terminal payment carrying its lines, an End rule, a snapshot
// every 100 events, a projection per aggregate and one summed across
// aggregates, and a policy opening an aggregate of another type with
// internal commands. Event and state documents have the same fields and
// about the same sizes (a few bytes either way) as a shop cart's, far
// below DynamoDB's 1 KB write and 4 KB read units, so the tests' request
// and capacity counts mean what they would for any small domain.
//
// Money is an int64 count of cents.
//
// # Tab
//
// The tab aggregate (Type, "tab") takes three commands:
//
//	OrderItem  {"item":"ale","quantity":2,"price":450}  -> ItemOrdered
//	CancelItem {"item":"ale","quantity":1}              -> ItemCancelled
//	Pay        {}                                       -> TabPaid
//
// The first OrderItem opens the tab (genesis); CancelItem or Pay on a tab
// that does not exist fail with signal.ErrNotFound. Service.End voids an
// open tab (TabVoided). TabPaid and TabVoided end the tab's life: every
// later command fails with signal.ErrClosed.
//
// Rules, each refusing the command with an exported error (wrapped as
// signal.ErrRejected):
//   - quantity is 1 to MaxQuantity, price 0 to MaxPrice cents;
//   - an item is 1 to MaxItemBytes bytes and a valid view key (ErrInvalidItem);
//   - an item keeps the price it was first ordered at (ErrPriceMismatch);
//   - a line holds at most MaxQuantity units, a tab at most MaxLines items;
//   - one cannot cancel an item not on the tab (ErrNotOnTab) or more units
//     than it holds (ErrCancelTooMany);
//   - one cannot pay an empty tab (ErrEmptyTab).
//
// # Receipt
//
// The receipt aggregate (ReceiptType, "receipt") has one command,
// IssueReceipt, internal and genesis, refused once the receipt exists.
// A receipt's id is its tab's id.
//
// # Subscribers
//
//   - the tab-summary projection keeps, per tab, its items, total, status
//     and version (TabSummary);
//   - the item-sales projection keeps, per item, the units sold, revenue
//     and number of paid tabs (ItemSales), counted once per payment;
//   - the issue-receipt policy issues the receipt with the tab's id when
//     a tab is paid.
package tab
