package scaffold

import (
	"bytes"
	"encoding/json"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkout is this repository's root, a valid Replace.
const checkout = "../.."

func TestGenerateRefuses(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no module", Options{}, "no module path"},
		{"a module with a space", Options{Module: "example.com/my bank"}, "invalid"},
		{"a module with a leading dash", Options{Module: "-bank"}, "invalid"},
		{"a module ending in a slash", Options{Module: "example.com/bank/"}, "invalid"},
		{"a module without a dot in its first element", Options{Module: "bank"}, "invalid"},
		{"a module with ..", Options{Module: "example.com/../bank"}, "invalid"},
		{"a name with a capital", Options{Module: "example.com/bank", Name: "Bank"}, "service name"},
		{"a name starting with a digit", Options{Module: "example.com/bank", Name: "1bank"}, "service name"},
		{"a default name that is no name", Options{Module: "example.com/42"}, "service name"},
		{"a Go keyword", Options{Module: "example.com/func"}, "taken"},
		{"a package the code imports", Options{Module: "example.com/signal"}, "taken"},
		{"a replace that is no checkout", Options{Module: "example.com/bank", Replace: "."}, "not a checkout"},
		{"a replace of another module", Options{Module: "example.com/bank", Replace: "testdata/othermodule"}, "holds module example.com/other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "new")
			err := Generate(dir, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Generate(%+v) = %v, want an error with %q", tt.o, err, tt.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("a refused Generate created %s (%v)", dir, err)
			}
		})
	}
}

func TestGenerateRefusesANonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Generate(dir, Options{Module: "example.com/bank"})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Generate into a non-empty dir: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("a refused Generate wrote: %d entries", len(entries))
	}
	file := filepath.Join(dir, "notes.txt")
	if err := Generate(file, Options{Module: "example.com/bank"}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Generate into a file: %v", err)
	}
}

func TestDefaultName(t *testing.T) {
	for mod, want := range map[string]string{
		"example.com/bank":          "bank",
		"example.com/Bank":          "bank",
		"github.com/acme/my-bank":   "mybank",
		"github.com/acme/ledger/v2": "ledger",
	} {
		o, err := Options{Module: mod}.resolved()
		if err != nil || o.Name != want {
			t.Errorf("%s: name %q, %v; want %q", mod, o.Name, err, want)
		}
	}
}

func TestGenerateWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bank")
	var progress bytes.Buffer
	if err := Generate(dir, Options{Module: "example.com/bank", Replace: checkout, Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"go.mod", ".gitignore", "README.md", "Makefile",
		"bank/account.go", "bank/balances.go", "bank/welcome.go", "bank/authorize.go", "bank/app.go",
		"bank/account_test.go", "bank/balances_test.go", "bank/welcome_test.go", "bank/authorize_test.go",
		"functions/command/main.go", "functions/query/main.go", "functions/projector/main.go",
		"cmd/bank/main.go", "e2e/e2e_test.go",
		"infra/go.mod", "infra/main.go", "infra/stack_test.go", "infra/cdk.json", "infra/package.json",
		"localstack/docker-compose.yml", "localstack/deploy.sh",
	} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
		if !strings.Contains(progress.String(), "wrote "+p+"\n") {
			t.Errorf("progress does not name %s:\n%s", p, progress.String())
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "localstack/deploy.sh")); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("deploy.sh is not executable: %v", err)
	}
	root, _ := filepath.Abs(checkout)
	gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	infra, _ := os.ReadFile(filepath.Join(dir, "infra", "go.mod"))
	for _, want := range []string{"module example.com/bank\n", "replace " + SignalModule + " => " + root + "\n"} {
		if !strings.Contains(string(gomod), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, gomod)
		}
	}
	for _, want := range []string{"module example.com/bank/infra\n", SignalModule + " => " + root + "\n", SignalModule + "/infra => " + root + "/infra\n"} {
		if !strings.Contains(string(infra), want) {
			t.Errorf("infra/go.mod lacks %q:\n%s", want, infra)
		}
	}
}

// The project is secure by default and says so: its App has the rule, its
// rule's test covers 401, 403 and writing nothing, its stack test asserts
// IAM on every route, and its README and Makefile show how to call the
// deployed API and how to try the rule locally.
func TestGeneratedSecurity(t *testing.T) {
	files, err := Render(Options{Module: "example.com/bank"})
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]string{}
	for _, f := range files {
		byPath[f.Path] = string(f.Data)
	}
	for path, wants := range map[string][]string{
		"bank/app.go":            {"Authorize:   Authorize,"},
		"bank/authorize.go":      {"func Authorize(ctx context.Context, p *signal.Principal, a *signal.Action) error", "p.System", "a.Owner", "signal.Unauthenticated()", "signal.Forbidden("},
		"bank/authorize_test.go": {"memstore.New()", `"ann"`, `"bob"`, "signal.ErrForbidden", "signal.ErrUnauthenticated", "a refused %s wrote"},
		"infra/stack_test.go":    {`"AuthorizationType": "AWS_IAM"`, "signalstack.OutputExecuteARN"},
		"Makefile":               {"dev $(DEV_FLAGS)"},
		"README.md": {"make dev DEV_FLAGS=-insecure-dev-auth", "X-Signal-Insecure-Principal: sub=ann", "execute-api:Invoke",
			"ApiExecuteArn", "awscurl --service execute-api", "-c auth=jwt -c jwtIssuer=", "-c auth=cognito", "-c auth=none"},
	} {
		for _, want := range wants {
			if !strings.Contains(byPath[path], want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
	}
}

// Every file is what a person would have written: Go files gofmt-clean,
// no template syntax or generator marker left, the name used throughout.
func TestRenderedFiles(t *testing.T) {
	// The replace path is the checkout's, whatever its directory is called
	// (a worktree named after this package, say): not a marker.
	root, err := filepath.Abs(checkout)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{
		{Module: "example.com/bank", Replace: checkout},
		{Module: "github.com/acme/ledger/v2", Name: "ledger"},
	} {
		files, err := Render(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			text := strings.ReplaceAll(string(f.Data), filepath.ToSlash(root), "CHECKOUT")
			for _, marker := range []string{"{{", "}}", "<no value>", ".tmpl", "scaffold", "generated", "DO NOT EDIT"} {
				if strings.Contains(text, marker) {
					t.Errorf("%s (%s): %q left in it", f.Path, o.Module, marker)
				}
			}
			if strings.Contains(f.Path, "NAME") || strings.Contains(f.Path, "dot-") || strings.HasSuffix(f.Path, ".tmpl") {
				t.Errorf("%s: a template's path", f.Path)
			}
			if strings.HasSuffix(f.Path, ".sh") {
				cmd := exec.Command("bash", "-n")
				cmd.Stdin = bytes.NewReader(f.Data)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s: bash -n: %v\n%s", f.Path, err, out)
				}
			}
			if strings.HasSuffix(f.Path, ".json") && !json.Valid(f.Data) {
				t.Errorf("%s is not valid JSON", f.Path)
			}
			if strings.HasSuffix(f.Path, ".go") {
				formatted, err := format.Source(f.Data)
				if err != nil {
					t.Errorf("%s: %v", f.Path, err)
				} else if !bytes.Equal(formatted, f.Data) {
					t.Errorf("%s is not gofmt-clean", f.Path)
				}
			}
		}
	}
}

// The project's .gitignore ignores what its tools write, none of its own
// files: git adds every file Generate writes.
func TestGitignoreKeepsTheSources(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git: %v", err)
	}
	dir := t.TempDir()
	o := Options{Module: "example.com/bank"}
	if err := Generate(dir, o); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(git, "init", "-q")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	cmd = exec.Command(git, "add", "--dry-run", "-A")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git add: %v", err)
	}
	files, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.Contains(string(out), "add '"+f.Path+"'\n") {
			t.Errorf("git ignores %s:\n%s", f.Path, out)
		}
	}
}
