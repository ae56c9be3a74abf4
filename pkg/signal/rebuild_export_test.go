package signal

import (
	"testing"
	"time"
)

// SetRebuildWait makes Rebuild pause d after a page's first failed
// delivery, for the rest of the test, so tests of retries need not wait.
func SetRebuildWait(t testing.TB, d time.Duration) {
	prev := rebuildWait
	rebuildWait = d
	t.Cleanup(func() { rebuildWait = prev })
}
