package lambdatest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// BuildTimeout bounds Build; a cold build cache compiles the AWS SDK.
const BuildTimeout = 5 * time.Minute

// Build compiles the Go main package pkg into dir/bootstrap and returns its
// path. The flags are those of `make build` (GOOS=linux, CGO_ENABLED=0, the
// lambda.norpc tag, -trimpath, -ldflags=-s -w), so that what the test runs
// is what ships, but for the host's architecture, since RIE runs the
// bootstrap on the host. The directory is created if needed; its name is
// the function's default name (see Start).
//
// pkg is what `go build` accepts, resolved from the test's working
// directory (its package directory): an import path, or a directory such
// as ./testdata/hello (packages under testdata can only be named so).
//
// A failed build, or one that exceeds BuildTimeout, fails the test with the
// compiler's output; a missing go command fails it too.
func Build(t testing.TB, pkg string, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("build %s: %v", pkg, err)
	}
	out, err := filepath.Abs(filepath.Join(dir, "bootstrap"))
	if err != nil {
		t.Fatalf("build %s: %v", pkg, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), BuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCommand(), "build",
		"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w",
		"-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// goCommand is the go command of the toolchain running the test when it
// can be found ($GOROOT/bin/go), so that the bootstrap is built with the
// same Go; else go on PATH.
func goCommand() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); executable(p) == nil {
			return p
		}
	}
	return "go"
}
