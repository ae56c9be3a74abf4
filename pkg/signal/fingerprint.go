package signal

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// A command id the caller chose (an HTTP Idempotency-Key, a policy's
// deterministic id) names one request. The Service keeps a fingerprint of
// that request with the id, in the window, in snapshots and in the commit,
// so the same id sent with another request is refused instead of being
// answered with the outcome of a request that was never made. Generated
// ids are unique, so their commands need no fingerprint and pay nothing.
//
// The request is what the command does, not how it was spelt: the
// command's registered name and the JSON encoding of its decoded Go value
// (struct fields in declaration order, map keys sorted), so a retry whose
// body has other whitespace, another key order or fields the command does
// not have is the same request. End has a request of its own, which no
// command can have (names cannot hold '/').

// fingerprintBytes is how much of the SHA-256 a fingerprint keeps: 128
// bits, far past any chance collision among one aggregate's recent
// commands, in 22 characters of base64url.
const fingerprintBytes = 16

// endFingerprint is the fingerprint of every End request. Its text is
// from the days End was called Close; it is stored with commits, so it
// stays.
var endFingerprint = encodeFingerprint(sha256.Sum256([]byte("signal/close")))

// commandFingerprint returns the fingerprint of the command registered as
// name with value cmd, or json.Marshal's error for a value JSON cannot
// encode.
func commandFingerprint(name string, cmd any) (string, error) {
	data, err := json.Marshal(cmd)
	if err != nil {
		return "", err
	}
	// name NUL data; on the stack for the usual small command.
	var buf [256]byte
	b := append(buf[:0], name...)
	b = append(b, 0)
	b = append(b, data...)
	return encodeFingerprint(sha256.Sum256(b)), nil
}

func encodeFingerprint(sum [sha256.Size]byte) string {
	var out [22]byte // base64.RawURLEncoding.EncodedLen(fingerprintBytes)
	base64.RawURLEncoding.Encode(out[:], sum[:fingerprintBytes])
	return string(out[:])
}

// sameRequest reports whether the requests with fingerprints a and b may
// be the same. An empty fingerprint cannot tell (a commit or snapshot
// written before fingerprints existed, or a generated id), and is taken
// to match, which is what every command id meant before.
func sameRequest(a, b string) bool { return a == "" || b == "" || a == b }

// keyReused is the refusal of a command id already used on stream for
// another request. The id is the client's own; it is quoted, and cut short
// so the message stays readable.
func keyReused(stream StreamID, id string) error {
	return &Error{Kind: KindIdempotencyKeyReused, Op: "signal.Handle", Stream: stream,
		Message: fmt.Sprintf("Idempotency-Key %q was already used for a different request to %s %s; send a new request with a new key",
			truncate(id, 64), stream.Type, stream.ID)}
}
