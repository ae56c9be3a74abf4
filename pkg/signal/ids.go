package signal

import (
	"math/rand/v2"
	"time"
)

// idLen is the length of a generated id: a UUID in its 36-character form.
const idLen = 36

// NewID returns a random, time-ordered UUID (version 7) as a string: the
// form of generated event and command ids. It draws from the runtime's
// per-thread ChaCha8 generator, seeded by the OS, so it neither locks nor
// makes a system call on the command path.
func NewID() string { return newID(time.Now().UnixMilli()) }

// newID returns one new id stamped with the Unix milliseconds ms: a
// command's generated id, without newIDs's room for two.
func newID(ms int64) string {
	var s [idLen]byte
	putID(s[:], ms)
	return string(s[:])
}

// newIDs returns n new ids stamped with the Unix milliseconds ms, end to
// end in one string of n*idLen bytes (id i is idAt(ids, i)): a commit's
// event ids in one allocation, without a clock reading of their own.
func newIDs(ms int64, n int) string {
	var small [2 * idLen]byte // no buffer of its own for one or two ids
	buf := small[:]
	if n > 2 {
		buf = make([]byte, n*idLen)
	}
	buf = buf[:n*idLen]
	for i := range n {
		putID(buf[i*idLen:(i+1)*idLen], ms)
	}
	return string(buf)
}

// idAt returns the i-th id of a string of ids made by newIDs.
func idAt(ids string, i int) string { return ids[i*idLen : (i+1)*idLen] }

// putID writes a new version 7 UUID stamped with the Unix milliseconds ms
// into s[:idLen]: 48 bits of time, the version, 12 random bits, the
// variant and 62 random bits, in the 8-4-4-4-12 hex form.
func putID(s []byte, ms int64) {
	hi := uint64(ms)<<16 | 0x7000 | rand.Uint64()&0x0fff
	lo := 0x8000_0000_0000_0000 | rand.Uint64()&0x3fff_ffff_ffff_ffff
	_ = s[idLen-1]
	putHex(s[0:8], hi>>32)
	s[8] = '-'
	putHex(s[9:13], hi>>16)
	s[13] = '-'
	putHex(s[14:18], hi)
	s[18] = '-'
	putHex(s[19:23], lo>>48)
	s[23] = '-'
	putHex(s[24:36], lo)
}

// hexPairs holds the two hex digits of every byte value: "000102...ff".
var hexPairs = func() (t [512]byte) {
	const digits = "0123456789abcdef"
	for b := range 256 {
		t[2*b], t[2*b+1] = digits[b>>4], digits[b&0xf]
	}
	return t
}()

// putHex writes the len(s) low hex digits of x into s, most significant
// first; len(s) is even (every group of an id is). A byte's two digits a
// step: a quarter of the steps, on a path every command takes twice.
func putHex(s []byte, x uint64) {
	for i := len(s) - 2; i >= 0; i -= 2 {
		j := 2 * int(x&0xff)
		s[i], s[i+1] = hexPairs[j], hexPairs[j+1]
		x >>= 8
	}
}
