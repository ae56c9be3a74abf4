package boltstore

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// codecStream and codecTime are the stream and time of the pinned values.
var (
	codecStream = signal.StreamID{Type: "cart", ID: "c-1"}
	codecTime   = time.UnixMilli(1_700_000_000_123).UTC()
)

// pinnedCommit is a commit value written out field by field: flags, then
// the fields between the ids and the events (fingerprint, actor).
func pinnedCommit(flags byte, optional string) []byte {
	return []byte("\x01" + string(flags) + // encoding 1, flags
		"\x01" + // one event
		"\xf6\xa1\xab\xfe\xf9\x62" + // varint 1_700_000_000_123 ms
		"\x05cmd-1" + "\x06corr-1" + "\x00" + // command, correlation, causation ids
		optional +
		"\x02e1" + "\x09ItemAdded" + "\x04" + "\x03{}") // id, name, schema version 2, data
}

// pinnedWant is the commit every pinned value holds, but for fingerprint
// and actor.
func pinnedWant(fingerprint, actor string) signal.Commit {
	return signal.Commit{Stream: codecStream, Version: 1, Time: codecTime,
		CommandID: "cmd-1", CorrelationID: "corr-1", Fingerprint: fingerprint, Actor: actor,
		Events: []signal.RawEvent{{ID: "e1", Name: "ItemAdded", SchemaVersion: 2, Data: []byte(`{}`)}}}
}

// TestCommitEncodingPinned: values written before the actor existed (no
// flag bit 2) still decode, with an empty Actor; a commit without an
// actor is encoded in exactly those old bytes, so the releases before
// the actor read it; a commit with one sets bit 2 and follows the
// fingerprint with it.
func TestCommitEncodingPinned(t *testing.T) {
	cases := []struct {
		name  string
		value []byte
		want  signal.Commit
	}{
		{"before the actor, no fingerprint", pinnedCommit(0x00, ""), pinnedWant("", "")},
		{"before the actor, with a fingerprint", pinnedCommit(0x02, "\x02fp"), pinnedWant("fp", "")},
		{"before the actor, final", pinnedCommit(0x01, ""), func() signal.Commit { c := pinnedWant("", ""); c.Final = true; return c }()},
		{"actor", pinnedCommit(0x04, "\x11policy:open-order"), pinnedWant("", "policy:open-order")},
		{"fingerprint and actor", pinnedCommit(0x06, "\x02fp\x05sub-1"), pinnedWant("fp", "sub-1")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeCommit(codecStream, 1, tc.value)
			if err != nil {
				t.Fatalf("decodeCommit = %v, want the commit", err)
			}
			if d := storetest.DiffCommit(tc.want, got); d != "" {
				t.Errorf("decodeCommit:\n%s", d)
			}
			if enc := encodeCommit(&tc.want); !bytes.Equal(enc, tc.value) {
				t.Errorf("encodeCommit = %q, want %q", enc, tc.value)
			}
		})
	}
}

// TestCommitActorMalformed: a value whose actor flag promises more than it
// holds is malformed, as is an actor left over when the flag is not set.
func TestCommitActorMalformed(t *testing.T) {
	for name, v := range map[string][]byte{
		"flag without the actor":   pinnedCommit(0x04, ""),
		"actor without the flag":   pinnedCommit(0x00, "\x05sub-1"),
		"actor longer than itself": pinnedCommit(0x04, "\x7fsub-1"),
	} {
		if _, err := decodeCommit(codecStream, 1, v); !errors.Is(err, errMalformed) {
			t.Errorf("%s: decodeCommit = %v, want errMalformed", name, err)
		}
	}
}
