package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// Encodings of keys and values. Everything variable is length-prefixed
// with a uvarint; payloads are copied byte for byte, never parsed.
//
// Commit value (the stream and first version are in the keys):
//
//	byte     encoding version (1)
//	byte     flags (bit 0: Final; bit 1: a fingerprint follows the ids;
//	         bit 2: an actor follows)
//	uvarint  number of events
//	varint   time, Unix milliseconds
//	str      command id, correlation id, causation id
//	str      fingerprint, only when flag bit 1 is set
//	str      actor, only when flag bit 2 is set
//	per event: str id, str name, varint schema version,
//	           uvarint len(data)+1 (0: nil) and the data
//
// The flags and the event count come first so the stream's head (current
// version, closed) is read from the last commit without decoding it.
// The fingerprint is behind a flag so that a commit without one (every
// commit written before fingerprints existed, and those of generated
// command ids) keeps exactly its old bytes. The actor is behind a flag
// for the same reason: a commit without one (every commit written before
// actors were recorded, and those handled without a principal) has the
// bytes it had before, and an old commit decodes with an empty Actor. A
// release from before the actor reads a commit with one as malformed
// (bytes left over after the events), never as a commit without it.
//
// Snapshot value: be64 version, varint schema version, varint time (Unix
// ms), then the data to the end of the value.

const (
	commitEncoding  = 1
	flagFinal       = 1 << 0
	flagFingerprint = 1 << 1
	flagActor       = 1 << 2
)

var errMalformed = errors.New("malformed value")

// streamKey is type ++ 0x00 ++ id (see the package comment for why it is
// unambiguous).
func streamKey(id signal.StreamID) []byte {
	k := make([]byte, 0, len(id.Type)+1+len(id.ID))
	k = append(k, id.Type...)
	k = append(k, 0)
	return append(k, id.ID...)
}

// parseStreamKey is the inverse of streamKey.
func parseStreamKey(k []byte) (signal.StreamID, error) {
	i := bytes.IndexByte(k, 0)
	if i < 0 {
		return signal.StreamID{}, errMalformed
	}
	return signal.StreamID{Type: string(k[:i]), ID: string(k[i+1:])}, nil
}

// prefixed is uvarint(len(name)) ++ name ++ rest.
func prefixed(name string, rest []byte) []byte {
	k := make([]byte, 0, binary.MaxVarintLen64+len(name)+len(rest))
	k = binary.AppendUvarint(k, uint64(len(name)))
	k = append(k, name...)
	return append(k, rest...)
}

func be64(v uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v)
}

// versionKey is the key of the commit starting at version (>= 1).
func versionKey(version int64) []byte { return be64(uint64(version)) }

// unixMilli is t in whole milliseconds since the epoch, rounded down (also
// before 1970, where time.UnixMilli rounds toward zero).
func unixMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).After(t) {
		ms--
	}
	return ms
}

func fromMilli(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodeCommit encodes c's value (all but its stream and version).
func encodeCommit(c *signal.Commit) []byte {
	n := 2 + 4*binary.MaxVarintLen64 + len(c.CommandID) + len(c.CorrelationID) + len(c.CausationID) + len(c.Fingerprint) + len(c.Actor) + 2*binary.MaxVarintLen64
	for i := range c.Events {
		e := &c.Events[i]
		n += 4*binary.MaxVarintLen64 + len(e.ID) + len(e.Name) + len(e.Data)
	}
	b := make([]byte, 0, n)
	var flags byte
	if c.Final {
		flags |= flagFinal
	}
	if c.Fingerprint != "" {
		flags |= flagFingerprint
	}
	if c.Actor != "" {
		flags |= flagActor
	}
	b = append(b, commitEncoding, flags)
	b = binary.AppendUvarint(b, uint64(len(c.Events)))
	b = binary.AppendVarint(b, unixMilli(c.Time))
	b = appendStr(b, c.CommandID)
	b = appendStr(b, c.CorrelationID)
	b = appendStr(b, c.CausationID)
	if c.Fingerprint != "" {
		b = appendStr(b, c.Fingerprint)
	}
	if c.Actor != "" {
		b = appendStr(b, c.Actor)
	}
	for i := range c.Events {
		e := &c.Events[i]
		b = appendStr(b, e.ID)
		b = appendStr(b, e.Name)
		b = binary.AppendVarint(b, int64(e.SchemaVersion))
		if e.Data == nil {
			b = append(b, 0)
		} else {
			b = binary.AppendUvarint(b, uint64(len(e.Data))+1)
			b = append(b, e.Data...)
		}
	}
	return b
}

// commitHead reads a commit value's event count and Final flag.
func commitHead(v []byte) (events int64, final bool, err error) {
	if len(v) < 3 || v[0] != commitEncoding {
		return 0, false, errMalformed
	}
	n, w := binary.Uvarint(v[2:])
	if w <= 0 || n == 0 || n > 1<<20 {
		return 0, false, errMalformed
	}
	return int64(n), v[1]&flagFinal != 0, nil
}

// reader decodes a value; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errMalformed
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errMalformed
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errMalformed
		return nil
	}
	// The three-index slice keeps an append by a caller from writing into
	// the next field.
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) str() string { return string(r.bytes(r.uvarint())) }

// decodeCommit decodes the commit of stream starting at version from v.
// v may be bbolt's memory: the result shares nothing with it (the value
// is copied once and the payloads are slices of the copy).
func decodeCommit(stream signal.StreamID, version int64, v []byte) (signal.Commit, error) {
	nev, final, err := commitHead(v)
	if err != nil {
		return signal.Commit{}, err
	}
	r := reader{b: bytes.Clone(v[2:])}
	r.uvarint() // the event count, read above
	c := signal.Commit{Stream: stream, Version: version, Final: final}
	c.Time = fromMilli(r.varint())
	c.CommandID = r.str()
	c.CorrelationID = r.str()
	c.CausationID = r.str()
	if v[1]&flagFingerprint != 0 {
		c.Fingerprint = r.str()
	}
	if v[1]&flagActor != 0 {
		c.Actor = r.str()
	}
	if nev > int64(len(v)) { // every event takes at least 4 bytes
		return signal.Commit{}, errMalformed
	}
	c.Events = make([]signal.RawEvent, nev)
	for i := range c.Events {
		e := &c.Events[i]
		e.ID = r.str()
		e.Name = r.str()
		e.SchemaVersion = int(r.varint())
		if n := r.uvarint(); n > 0 {
			e.Data = r.bytes(n - 1)
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errMalformed
	}
	if r.err != nil {
		return signal.Commit{}, r.err
	}
	return c, nil
}

func encodeSnapshot(s *signal.Snapshot) []byte {
	b := make([]byte, 0, 8+2*binary.MaxVarintLen64+len(s.Data))
	b = binary.BigEndian.AppendUint64(b, uint64(s.Version))
	b = binary.AppendVarint(b, int64(s.SchemaVersion))
	b = binary.AppendVarint(b, unixMilli(s.Time))
	return append(b, s.Data...)
}

// snapshotVersion reads the version of an encoded snapshot.
func snapshotVersion(v []byte) (int64, error) {
	if len(v) < 8 {
		return 0, errMalformed
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

func decodeSnapshot(stream signal.StreamID, v []byte) (signal.Snapshot, error) {
	version, err := snapshotVersion(v)
	if err != nil {
		return signal.Snapshot{}, err
	}
	r := reader{b: v[8:]}
	s := signal.Snapshot{Stream: stream, Version: version}
	s.SchemaVersion = int(r.varint())
	s.Time = fromMilli(r.varint())
	if r.err != nil {
		return signal.Snapshot{}, r.err
	}
	s.Data = bytes.Clone(r.b)
	if s.Data == nil {
		s.Data = []byte{}
	}
	return s, nil
}

// A view document's value is be64(version) ++ data.
func encodeView(version int64, data []byte) []byte {
	b := make([]byte, 0, 8+len(data))
	b = binary.BigEndian.AppendUint64(b, uint64(version))
	return append(b, data...)
}

func viewVersion(v []byte) (int64, error) {
	if len(v) < 8 {
		return 0, errMalformed
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}
