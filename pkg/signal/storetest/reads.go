package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// ---- reads of what no write can have stored ----

// unreadableStreams are streams signal.ValidateStream refuses, each a
// way a key could go wrong in some store: too long for a key, not text,
// a separator, nothing at all.
var unreadableStreams = []signal.StreamID{
	{Type: "", ID: "x"},
	{Type: "cart", ID: ""},
	{Type: "2cart", ID: "x"},
	{Type: "cart#x", ID: "x"},
	{Type: "cart", ID: "a#b"},
	{Type: "cart", ID: "a\x00b"},
	{Type: "cart", ID: "a\xffb"},
	{Type: "cart", ID: strings.Repeat("z", 4*signal.MaxIDBytes)},
	{Type: strings.Repeat("t", 4*signal.MaxNameBytes), ID: "x"},
}

// unreadableViews are (name, key) pairs signal.ValidateViewKey refuses.
var unreadableViews = [][2]string{
	{"", "k"},
	{"cart-summary", ""},
	{"cart summary", "k"},
	{"cart#summary", "k"},
	{"cart-summary", "k\x00"},
	{"cart-summary", "k\xff"},
	{"cart-summary", strings.Repeat("k", 4*signal.MaxIDBytes)},
	{strings.Repeat("v", 4*signal.MaxNameBytes), "k"},
}

// twin is a valid stream an encoder could turn an invalid one into: the
// invalid UTF-8 of {cart, "a\xffb"} replaced by U+FFFD, as JSON encoders
// (DynamoDB's wire format among them) do.
var twin = signal.StreamID{Type: "cart", ID: "a\ufffdb"}

// testReadUnreadable: reading a stream no Append can have written yields
// nothing, without an error, as the contract says of a stream that does
// not exist: a caller (an HTTP query, a console link) may hand any id to
// Load, and every store must answer alike, neither failing on a key its
// database refuses nor reading some other stream (the twin).
func (s *suite) testReadUnreadable(t *testing.T) {
	st := s.store(t)
	MustAppend(t, st, Commit(signal.StreamID{Type: "cart", ID: "x"}, 1, 1))
	MustAppend(t, st, Commit(twin, 1, 1))
	for _, id := range unreadableStreams {
		if got := LoadAll(t, st, id, 0); len(got) != 0 {
			t.Errorf("Load(%s) of an invalid stream returned %d commits, want none", sname(id), len(got))
		}
	}
}

// testSnapshotUnreadable: LoadSnapshot of a stream no SaveSnapshot can
// have written answers ErrNotFound, like any stream without a snapshot.
func (s *suite) testSnapshotUnreadable(t *testing.T) {
	_, ss := ability[signal.SnapshotStore](t, s)
	saveSnapshot(t, ss, snapshot(signal.StreamID{Type: "cart", ID: "x"}, 1, 1, []byte(`{}`)))
	saveSnapshot(t, ss, snapshot(twin, 1, 1, []byte(`{}`)))
	for _, id := range unreadableStreams {
		_, err := ss.LoadSnapshot(t.Context(), id)
		wantErr(t, err, signal.ErrNotFound, "LoadSnapshot(%s) of an invalid stream", sname(id))
	}
}

// testViewUnreadable: LoadView of a name or key no CommitViews can have
// written answers ErrNotFound, like any missing document.
func (s *suite) testViewUnreadable(t *testing.T) {
	_, vs := ability[signal.ViewStore](t, s)
	commitViews(t, vs, signal.ViewCommit{Subscriber: "p", Stream: signal.StreamID{Type: "cart", ID: "x"}, From: 0, To: 1,
		Writes: []signal.ViewWrite{{Name: "cart-summary", Key: "k", Data: []byte(`{}`)},
			{Name: "cart-summary", Key: "k\ufffd", Data: []byte(`{}`)}}})
	for _, nk := range unreadableViews {
		_, err := vs.LoadView(t.Context(), nk[0], nk[1])
		wantErr(t, err, signal.ErrNotFound, "LoadView(%s) of an invalid name or key", fmt.Sprintf("%q, %q", short(nk[0]), short(nk[1])))
	}
}

// short keeps long fixture strings out of messages.
func short(s string) string {
	if len(s) > 24 {
		return fmt.Sprintf("%s… (%d bytes)", s[:12], len(s))
	}
	return s
}

// testViewEmptyDocument: a document written with zero bytes (Data
// []byte{}, not nil, which deletes) exists and reads back with a non-nil,
// empty Data, so a caller can tell it from a deletion.
func (s *suite) testViewEmptyDocument(t *testing.T) {
	_, vs := ability[signal.ViewStore](t, s)
	commitViews(t, vs, signal.ViewCommit{Subscriber: "p", Stream: signal.StreamID{Type: "cart", ID: "x"}, From: 0, To: 1,
		Writes: []signal.ViewWrite{{Name: "cart-summary", Key: "empty", Data: []byte{}}}})
	v, err := vs.LoadView(t.Context(), "cart-summary", "empty")
	if err != nil {
		t.Fatalf("LoadView of a document of zero bytes = %v, want it", err)
	}
	if v.Data == nil || len(v.Data) != 0 || v.Version != 1 {
		t.Errorf("LoadView of a document of zero bytes = Data %s (nil: %v), version %d; want empty, non-nil Data at version 1", showBytes(v.Data), v.Data == nil, v.Version)
	}
}
