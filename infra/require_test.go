package main

// The infra module required from another module, as infra/README.md
// tells a user: a project of its own (a root module with three functions,
// an infra module whose main.go is testdata/userapp/main.go, the README's
// example), replace directives to this checkout, `go mod tidy`, then the
// app run as the CDK CLI runs it. It synthesizes with the project's own
// functions built by Props.Build.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRequiredFromAnotherModule(t *testing.T) {
	example, err := os.ReadFile("testdata/userapp/main.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), string(example)) {
		t.Error("README.md does not show testdata/userapp/main.go verbatim: keep the two the same")
	}
	checkout, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	project := t.TempDir()
	write := func(path, content string) {
		t.Helper()
		path = filepath.Join(project, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/shop\n\ngo 1.26.8\n")
	for _, fn := range []string{"command", "query", "projector"} {
		write("functions/"+fn+"/main.go", "package main\n\nfunc main() { println(\""+fn+"\") }\n")
	}
	write("infra/go.mod", "module example.com/shop/infra\n\ngo 1.26.8\n\n"+
		"require github.com/signalforgo/signal/infra v0.0.0-00010101000000-000000000000\n\n"+
		"replace (\n\tgithub.com/signalforgo/signal => "+checkout+"\n\tgithub.com/signalforgo/signal/infra => "+filepath.Join(checkout, "infra")+"\n)\n")
	write("infra/main.go", string(example))

	infra := filepath.Join(project, "infra")
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CDK_OUTDIR="+filepath.Join(infra, "cdk.out"),
		"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	for _, args := range [][]string{{"mod", "tidy"}, {"run", "."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = infra, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	tmpl := readTemplate(t, filepath.Join(infra, "cdk.out", "Shop.template.json"))
	assets := map[string]bool{}
	currency := 0
	for _, r := range tmpl.Resources {
		if r.Type != "AWS::Lambda::Function" {
			continue
		}
		key, _ := r.Properties["Code"].(map[string]any)["S3Key"].(string)
		assets[key] = true
		vars := r.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		if vars["SHOP_CURRENCY"] == "EUR" {
			currency++
		}
	}
	if len(assets) != 3 {
		t.Errorf("%d distinct code assets, want the project's 3 functions", len(assets))
	}
	if currency != 1 {
		t.Errorf("SHOP_CURRENCY on %d functions, want the query function only", currency)
	}
	built, _ := filepath.Glob(filepath.Join(infra, "cdk.out", "signal-build-*", "*", "bootstrap"))
	if len(built) != 3 {
		t.Errorf("built bootstraps %v, want 3 in the cloud assembly", built)
	}
}
