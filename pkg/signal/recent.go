package signal

// recentCommands remembers the ids of an aggregate's latest commits, the
// window inside which a repeated command id is recognised without a read,
// with the fingerprints of their requests, so that the same id with
// another request is recognised too.
//
// The window grows with the aggregate's commits, doubling up to the
// Service's IdempotencyWindow, then turns over: a pooled aggregate of two
// commits holds two entries (48 bytes each), not a whole window.
type recentCommands struct {
	buf  []recentCommand
	next int // where the next entry goes once buf holds a whole window
}

type recentCommand struct {
	id string
	// fingerprint is the commit's Fingerprint: "" for generated ids and
	// for commits and snapshots from before fingerprints existed.
	fingerprint string
	first, last int64
}

// add remembers the commit of command id, versions first to last, in a
// window of window entries (none when window <= 0, or id is "").
func (r *recentCommands) add(window int, id, fingerprint string, first, last int64) {
	if window <= 0 || id == "" {
		return
	}
	c := recentCommand{id, fingerprint, first, last}
	if len(r.buf) < window {
		if len(r.buf) == cap(r.buf) {
			r.grow(window)
		}
		r.buf = append(r.buf, c)
		return
	}
	r.buf[r.next] = c
	r.next = (r.next + 1) % len(r.buf)
}

// grow doubles buf's capacity, to at most window entries.
func (r *recentCommands) grow(window int) {
	buf := make([]recentCommand, len(r.buf), min(max(2*cap(r.buf), 1), window))
	copy(buf, r.buf)
	r.buf = buf
}

func (r *recentCommands) find(id string) (recentCommand, bool) {
	for i := range r.buf {
		if r.buf[i].id == id {
			return r.buf[i], true
		}
	}
	return recentCommand{}, false
}

// ordered returns the remembered commands oldest first.
func (r *recentCommands) ordered() []recentCommand {
	out := make([]recentCommand, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}
