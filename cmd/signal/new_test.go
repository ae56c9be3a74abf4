package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNew: `signal new` writes the project and says what to run next;
// its refusals are usage errors (exit 2) that write nothing. The project
// itself is tested in internal/scaffold (TestGeneratedProject).
func TestNew(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bank")
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"new", dir, "-module", "example.com/bank", "-no-tidy"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"wrote bank/account.go", "wrote infra/go.mod", "cd " + dir, "go mod tidy", "make test", "make dev"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cmd", "bank", "main.go")); err != nil {
		t.Error(err)
	}

	fresh := filepath.Join(t.TempDir(), "x")
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"new", dir, "-module", "example.com/bank"}, 1, "is not empty"},
		{[]string{"new", fresh, "-module", "bank bank"}, 1, "module path"},
		{[]string{"new", fresh}, 1, "no module path"},
		{[]string{"new", fresh, "-module", "example.com/bank", "-name", "Bank"}, 1, "service name"},
		{[]string{"new", fresh, "-module", "example.com/bank", "-replace", t.TempDir()}, 1, "not a checkout"},
		{[]string{"new", "-module", "example.com/bank"}, 2, "one directory"},
		{[]string{"new", fresh, fresh + "2", "-module", "example.com/bank"}, 2, "one directory"},
		{[]string{"new", fresh, "-bogus"}, 2, "flag provided but not defined: -bogus"},
	} {
		out.Reset()
		errOut.Reset()
		if code := run(t.Context(), tt.args, &out, &errOut); code != tt.code || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, %s; want %d and %q", tt.args, code, errOut.String(), tt.code, tt.want)
		}
		if strings.Contains(out.String(), "wrote") {
			t.Errorf("%v: a refusal says it wrote:\n%s", tt.args, out.String())
		}
		if _, err := os.Stat(fresh); !os.IsNotExist(err) {
			t.Fatalf("%v wrote %s", tt.args, fresh)
		}
	}
	out.Reset()
	if code := run(t.Context(), []string{"new", "-h"}, &out, &errOut); code != 0 ||
		strings.Count(out.String(), "usage: signal new DIR -module PATH") != 1 || !strings.Contains(out.String(), "-replace") {
		t.Errorf("new -h: exit %d, %s", code, out.String())
	}
}
