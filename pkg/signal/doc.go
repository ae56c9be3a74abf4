// Package signal is the core of Signal for Go: event-sourced aggregates
// defined with plain Go types and typed handlers, a Service that handles
// commands against them, a warm per-process pool, the Store contract every
// storage adapter implements, and the subscribers (projections, policies,
// observers) that react to what was committed.
//
// The package has no AWS imports. Storage adapters live in sibling packages
// named after what they wrap (memstore, dynstore, boltstore, pgstore) and all
// pass the conformance suite in signal/storetest; signal/signaltest is the
// test kit for a domain.
//
// A command, informed by the current state of an aggregate, produces events;
// the events are appended atomically with an optimistic version condition and
// folded into the new state:
//
//	Command -> decide(state) -> []Event -> append -> evolve -> State
//
// An aggregate type registers one handler per command (Decide) and per
// event (Evolve), each under its stable name, with marks for what the
// Service must know: Genesis (may create the aggregate), Internal (not
// sent from outside the process), Terminal (ends its life), SchemaVersion
// and UpcastFrom. The compiler checks every handler against the state and
// the command or event it takes:
//
//	var Type = signal.MustDefine(signal.Spec[Cart]{
//		Name:     "cart",
//		Commands: []signal.CommandSpec[Cart]{signal.Decide("AddItem", addItem, signal.Genesis)},
//		Events:   []signal.EventSpec[Cart]{signal.Evolve("ItemAdded", itemAdded)},
//	})
//
// Bind gives typed access to a type's aggregates through a Service.
package signal
