package storetest

import (
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// ---- Commit.Actor: the audit trail ----

// acted returns commits as the Service writes them for callers of every
// kind: a token's subject, an IAM caller's ARN, a policy, none (Go code
// or an anonymous request), and a final one with an actor (DynamoDB
// writes those in a transaction, with a tombstone).
func acted(stream signal.StreamID) []signal.Commit {
	c1, c2, c3, c4, c5 := Commit(stream, 1, 2), Commit(stream, 3, 1), Commit(stream, 4, 1), Commit(stream, 5, 1), Commit(stream, 6, 1)
	c1.Actor = "auth0|5f7c8ec7c33c6c004bbafe82"
	c2.Actor = "arn:aws:sts::123456789012:assumed-role/app-role/session #1 ünïcødé"
	c3.Actor = signal.PolicyActorPrefix + "open-order"
	// c4 has none.
	c5.Actor, c5.Final = "auth0|5f7c8ec7c33c6c004bbafe82", true
	return []signal.Commit{c1, c2, c3, c4, c5}
}

// testActor: Commit.Actor survives Append and Load, also in a final
// commit, and comes back in a conflict's Existing, where the Service
// learns the aggregate's owner (the Actor of its first commit) from the
// commit it lost to.
func (s *suite) testActor(t *testing.T) {
	st := s.store(t)
	stream := signal.StreamID{Type: "cart", ID: "actor"}
	want := acted(stream)
	for _, c := range want {
		MustAppend(t, st, c)
	}
	assertHistory(t, st, stream, want)
	for _, winner := range want[:2] {
		loser := Commit(stream, winner.Version, 1)
		loser.Actor = "another subject"
		checkConflict(t, st.Append(t.Context(), loser), loser, winner)
	}
	assertHistory(t, st, stream, want)
}

// testFeedActor: the feed carries Commit.Actor, so a projection or a copy
// of the log sees who wrote each commit.
func (s *suite) testFeedActor(t *testing.T) {
	st, f := ability[signal.ChangeFeed](t, s)
	want := acted(signal.StreamID{Type: "cart", ID: "actor"})
	for _, c := range want {
		MustAppend(t, st, c)
	}
	assertFeed(t, "Changes(after 0, limit 100)", changes(t, f, 0, 100), want)
}
