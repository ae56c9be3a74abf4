// Package signaltest tests a domain built on package signal (its
// aggregates, projections and policies) in given/when/then form.
//
// Every scenario runs a real signal.Service over a new in-memory store
// (memstore), so genesis, terminal events, internal commands, If-Match
// and idempotency behave as in production, and every event goes through
// its JSON encoding as it does in a durable store. Events are named as
// the aggregate type registers them (Type.Events); there is nothing to
// keep in step by hand.
//
// # Aggregates
//
// For starts a scenario on one aggregate (id DefaultID, or ID's):
//
//	signaltest.For(t, bank.AccountType).
//		Given(bank.Opened{Owner: "ada"}, bank.Deposited{Amount: 100}).
//		When(bank.Withdraw{Amount: 30}).
//		Then(bank.Withdrawn{Amount: 30}).
//		ThenState(bank.Account{Owner: "ada", Balance: 70}).
//		When(bank.Withdraw{Amount: 500}).
//		ThenError(bank.ErrInsufficientFunds)
//
// The steps:
//
//   - Given(events...) appends history as it is, one commit per event
//     (signal.EncodeCommit and the store's Append), deciding nothing. A
//     Terminal event ends the aggregate. GivenOn does the same for
//     another aggregate.
//   - When(cmd, opts...) sends a command as Go code does
//     (Service.Handle): Internal commands are allowed. WhenJSON(name,
//     body, opts...) sends it as the HTTP API does (Service.HandleJSON):
//     an Internal command fails with signal.ErrForbidden. WhenEnd(opts...)
//     ends the aggregate with its End rule (Service.End). The options are
//     signal's: signal.IfVersion (If-Match), signal.WithCommandID
//     (an Idempotency-Key), signal.WithCorrelation.
//   - Then(events...) checks that the last When succeeded and appended
//     exactly those events, compared by registered name and JSON. Then()
//     checks that it appended nothing. A repeated command id appends
//     nothing: Then() holds for it, and ThenDuplicate(events...) checks
//     the original events it answered with.
//   - ThenError(want) checks that the last When failed with want: an
//     error matched with errors.Is (a signal sentinel, or the domain's
//     own error a handler returned) or a signal.Kind. It also checks that
//     nothing was appended.
//   - ThenState(want) checks the current state with reflect.DeepEqual,
//     and that the state rebuilt from the store alone has the same JSON.
//     It needs no When, so Given(...).ThenState(...) tests how events fold.
//
// Several When/Then pairs may follow each other. A Then, ThenDuplicate
// or ThenError checks the last When, which must come after the last
// Given. A failed When that nothing checked (ThenError, Err) is reported
// at the next step or when the test ends. Result, Err, State, Version,
// Events and Service give access to everything else.
//
// With WithSubscribers, the scenario's Service also runs subscribers:
// after every Given and When they process the new commits, read from the
// store's change feed as the stream projector reads them, and then the
// commits that policies' commands append in turn. WithTypes registers
// the other aggregate types they need.
//
// # Callers and rules
//
// A scenario runs under an app's authorization rule (signal.Authorizer)
// with Authorize(rule), or wired as the app is with WithApp(app): its
// types, subscribers, rule and tenancy. As(principal) or
// AsSubject(subject) sets the caller of the following Whens, as a
// transport sets the verified caller; until then they are anonymous.
// GivenBy(subject, events...) writes history by subject, so the
// aggregate has an owner (the Actor of its first commit, which the rule
// sees as signal.Action.Owner):
//
//	signaltest.For(t, bank.AccountType, signaltest.WithApp(bank.App())).
//		GivenBy("ada", bank.Opened{Owner: "ada"}, bank.Deposited{Amount: 100}).
//		AsSubject("ada").
//		When(bank.Withdraw{Amount: 30}).
//		Then(bank.Withdrawn{Amount: 30}).
//		ThenActor("ada").
//		AsSubject("bob").
//		When(bank.Withdraw{Amount: 30}).
//		ThenError(signal.ErrForbidden).
//		As(nil).
//		When(bank.Withdraw{Amount: 30}).
//		ThenError(signal.ErrUnauthenticated)
//
// A refusal is the When's error, and ThenError checks that nothing was
// written; ThenActor checks the Actor the When's commits record. The
// rule decides every When, WhenJSON and WhenEnd, and the commands of the
// scenario's policies (as signal.PolicyPrincipal), never the kit's own
// reads (ThenState, State, Events, Version), which show what is stored
// whoever the caller is. Under the app's Tenancy the aggregate lives in
// DefaultTenant (or Tenant's), where AsSubject's callers act.
// PolicyScenario's WhenBy(actor, ...) hands a policy an event with an
// Actor, for policies that carry it on.
//
// # Projections and policies
//
// Projection tests a projection on its own: Given appends events to an
// aggregate and dispatches them to it; ThenView compares a document with
// a value, as normalised JSON; ThenNoView checks that one does not exist.
//
//	signaltest.Projection(t, bank.BalancesProjection(), bank.AccountType).
//		Given(bank.AccountType, "a1", bank.Opened{Owner: "ada"}, bank.Deposited{Amount: 100}).
//		ThenView("balances", "a1", bank.Balance{Owner: "ada", Balance: 100})
//
// Policy tests a policy on its own: When hands it an event, built as the
// dispatcher builds it, through (*signal.Policy).React; ThenSends
// compares the commands it returns (type, id, command Go type and JSON)
// without sending them; ThenError checks its error.
//
//	signaltest.Policy(t, bank.FraudPolicy(), bank.AccountType).
//		When(bank.AccountType, "a1", bank.Withdrawn{Amount: 5000}).
//		ThenSends(bank.AccountType.To("a1", bank.Freeze{Reason: "large withdrawal"}))
//
// # Failures
//
// Failures name the aggregate or subscriber and the step, and list what
// was expected and what happened, marking the first difference:
//
//	account test-1: When Withdraw: events differ (want 2, got 1)
//	  want: 1. Withdrawn {"amount":30}
//	        2. AccountClosed {"owner":"ada"}  <-- first difference
//	  got:  1. Withdrawn {"amount":30}
//	        (no event 2)  <-- first difference
//
// States and view documents are shown as indented JSON with object
// members sorted by name. Every method calls t.Helper, so a failure
// points at the test's line. A check that fails reports with Errorf and
// the scenario goes on; a step the scenario cannot go on from (a Given
// that cannot be recorded, a Service that cannot be built) stops the test
// with Fatalf.
package signaltest
