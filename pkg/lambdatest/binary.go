package lambdatest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The emulator this package is tested with, the one `make tools` installs
// (the Makefile's RIE_MODULE and RIE_VERSION; a test keeps them equal).
const (
	RIEModule  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"
)

const binaryName = "aws-lambda-rie"

// installHint says how to get the emulator, in this repository and outside it.
const installHint = "set AWS_LAMBDA_RIE to its path or put " + binaryName + " on PATH: " +
	"in the Signal repository `make tools` installs it into .tools/bin; elsewhere " +
	"`go install " + RIEModule + "/cmd/" + binaryName + "@" + RIEVersion + "` (into $GOBIN or $HOME/go/bin)"

// Binary returns the path of aws-lambda-rie: $AWS_LAMBDA_RIE when set, else
// .tools/bin/aws-lambda-rie in the working directory or a parent up to the
// module root (where `make tools` puts it), else aws-lambda-rie on PATH.
//
// When there is none, the test is skipped with a message saying how to
// install it, except under CI=true, where the test fails: CI must never
// pass by not testing. An AWS_LAMBDA_RIE that names no executable file
// fails (or skips) the same way; it is never replaced by another RIE, since
// whoever set it meant that one.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := findBinary()
	if err != nil {
		require(t, fmt.Errorf("no %s (%v); %s", binaryName, err, installHint))
	}
	return path
}

// require is what a missing tool does to a test: nothing when err is nil;
// else the test fails under CI=true (CI must never pass by not testing) and
// is skipped otherwise, with err as the message.
func require(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("required under CI=true: %v", err)
	}
	t.Skipf("skipped: %v", err)
}

func findBinary() (string, error) {
	if p := os.Getenv("AWS_LAMBDA_RIE"); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("AWS_LAMBDA_RIE=%s: %w", p, err)
		}
		return p, nil
	}
	if p, ok := toolsBinary(); ok {
		return p, nil
	}
	p, err := exec.LookPath(binaryName)
	if err != nil {
		return "", errors.New("AWS_LAMBDA_RIE is not set, no .tools/bin/" + binaryName + " up to the module root, none on PATH")
	}
	return p, nil
}

// toolsBinary looks for .tools/bin/aws-lambda-rie from the working
// directory up to the module root (the directory with go.mod): a .tools
// above it belongs to some other project.
func toolsBinary() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, ".tools", "bin", binaryName)
		if executable(p) == nil {
			return p, true
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return "", false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}
