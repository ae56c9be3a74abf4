// Package signal is the core of Signal for Go: event-sourced aggregates
// defined with plain Go types and functions, a Service that handles commands
// against them, a warm per-process pool, the Store contract every storage
// adapter implements, and the subscribers (projections, policies, handlers)
// that react to what was committed.
//
// The package has no AWS imports. Storage adapters live in sibling packages
// named after what they wrap (memstore, dynstore, boltstore, pgstore) and all
// pass the conformance suite in signal/storetest.
//
// A command, informed by the current state of an aggregate, produces events;
// the events are appended atomically with an optimistic version condition and
// folded into the new state:
//
//	Command -> decide(state) -> []Event -> append -> evolve -> State
package signal
