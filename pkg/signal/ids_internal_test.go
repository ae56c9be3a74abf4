package signal

import (
	"fmt"
	"regexp"
	"testing"
	"time"
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

// TestPutHex: the digits are those of %x, zero-padded, for each group
// length of an id.
func TestPutHex(t *testing.T) {
	for _, x := range []uint64{0, 1, 0xab, 0x0123456789abcdef, ^uint64(0), 0xfedcba9876543210} {
		for _, n := range []int{2, 4, 8, 12, 16} {
			s := make([]byte, n)
			putHex(s, x)
			want := fmt.Sprintf("%016x", x)[16-n:]
			if string(s) != want {
				t.Errorf("putHex(%d bytes, %#x) = %s, want %s", n, x, s, want)
			}
		}
	}
}

// TestCommitTimeIsTruncatedNow: buildCommit's time.UnixMilli(ms).UTC()
// is the instant r.now.UTC().Truncate(time.Millisecond), before and after
// the Unix epoch.
func TestCommitTimeIsTruncatedNow(t *testing.T) {
	for _, now := range []time.Time{time.Now(), time.Unix(0, 0), time.Unix(0, -1), time.Unix(-1, 999_999_999),
		time.Date(1, 1, 1, 0, 0, 0, 1_500_000, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.FixedZone("x", 3600)),
		time.Unix(1_700_000_000, 123_456_789)} {
		got, want := time.UnixMilli(now.UnixMilli()).UTC(), now.UTC().Truncate(time.Millisecond)
		if got != want {
			t.Errorf("%v: %v, want %v", now, got, want)
		}
	}
}
