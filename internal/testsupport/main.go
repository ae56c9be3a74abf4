package testsupport

import (
	"os"
	"testing"
)

// Main is the TestMain of a test binary whose tests share servers started
// on first use (motoserver, pgtest): it runs the tests (m.Run), then calls
// each stop in the order given, whether the tests passed or failed, and
// ends the process with m.Run's exit code: 0 when no test failed, else
// non-zero. It never returns, so deferred calls of the caller do not run.
//
// A test that panics, and the -timeout, end the process inside m.Run: no
// stop runs then. The servers still die with the process (they run with a
// parent-death signal); what a stop would have removed (moto_server's log,
// pgtest's cluster directory) stays until its package cleans up after
// itself (pgtest at its next start).
func Main(m *testing.M, stops ...func()) {
	code := m.Run()
	for _, stop := range stops {
		stop()
	}
	os.Exit(code)
}
