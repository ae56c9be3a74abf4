package signal

import (
	"regexp"
	"testing"
)

// TestNewIDs: newIDs makes n different version 7 UUIDs stamped with the
// given milliseconds, end to end.
func TestNewIDs(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	const ms = 0x0123_4567_89ab // 48 bits
	seen := map[string]bool{}
	for _, n := range []int{1, 2, 3, 100} {
		ids := newIDs(ms, n)
		if len(ids) != n*idLen {
			t.Fatalf("%d ids take %d bytes, want %d", n, len(ids), n*idLen)
		}
		for i := range n {
			id := idAt(ids, i)
			if !re.MatchString(id) || seen[id] {
				t.Fatalf("bad or repeated id %q", id)
			}
			if id[:13] != "01234567-89ab" {
				t.Fatalf("id %q is not stamped with %x", id, ms)
			}
			seen[id] = true
		}
	}
}
