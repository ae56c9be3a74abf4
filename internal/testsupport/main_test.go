package testsupport

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The helper mode of this test binary, chosen by helperEnv: the binary
// runs only TestHelper, which fails or passes as told, and the stops of
// TestMain append their names to the file named by stopLogEnv.
const (
	helperEnv  = "TESTSUPPORT_HELPER" // "fail" or "pass"
	stopLogEnv = "TESTSUPPORT_STOP_LOG"
)

// TestMain uses Main only in helper mode: were Main to lose a failure's
// exit code, the binary that tests it would lose its own with it.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		Main(m, logStop("first"), logStop("second"))
	}
	os.Exit(m.Run())
}

// logStop returns a stop that appends name to the stop log.
func logStop(name string) func() {
	return func() {
		f, err := os.OpenFile(os.Getenv(stopLogEnv), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			panic(err)
		}
		defer f.Close()
		if _, err := f.WriteString(name + "\n"); err != nil {
			panic(err)
		}
	}
}

// TestHelper is the helper mode's test; outside it, it passes at once.
func TestHelper(t *testing.T) {
	if os.Getenv(helperEnv) == "fail" {
		t.Error("failing on purpose")
	}
}

// TestMainExitsWithTheTestsCodeAfterTheStops runs this binary in helper
// mode: Main exits with 0 when the test passed and 1 when it failed, after
// calling both stops in order either way.
func TestMainExitsWithTheTestsCodeAfterTheStops(t *testing.T) {
	for _, tc := range []struct {
		mode     string
		wantCode int
	}{{"pass", 0}, {"fail", 1}} {
		t.Run(tc.mode, func(t *testing.T) {
			stopLog := filepath.Join(t.TempDir(), "stops")
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnv+"="+tc.mode, stopLogEnv+"="+stopLog)
			out, err := cmd.CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tc.wantCode, out)
			}
			stops, err := os.ReadFile(stopLog)
			if err != nil || string(stops) != "first\nsecond\n" {
				t.Errorf("stops called: %q (%v), want %q", stops, err, "first\nsecond\n")
			}
		})
	}
}
