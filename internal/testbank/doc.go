// Package testbank is the one test domain of the library's own tests
// (pkg/cli, pkg/lambdafn, pkg/console), a service that is not the cart,
// since nothing outside examples/ imports examples/. It is a non-test
// package under the module's internal/ so every package's tests, and the
// RIE bootstrap under pkg/lambdafn/testdata, can import it.
//
//	account: Open {owner} (genesis), Deposit {amount, memo?} (refused
//	         unless positive), Withdraw {amount} (refused unless positive
//	         or beyond the balance), Freeze {reason} (internal), End
//	         (refused unless empty) recording Closed
//	letter:  Send {text} (genesis, internal), sent by the welcome policy
//	audit:   Record {note} (genesis, internal): a type with nothing to
//	         send over HTTP
//	views:   balances/{account id}
//	auditor: an observer failing on every Unlucky deposit, so tests see
//	         a subscriber parked
//
// App() is account + letter + balances + welcome; options take letters
// away or add the audit type and the auditor, so each test picks what
// its assertions count on.
package testbank
