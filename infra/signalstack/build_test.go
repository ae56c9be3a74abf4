package signalstack

// Props.Build and the prebuilt check: real go builds (a tiny module in
// testdata, and this repository's own functions with the defaults), real
// synths, and the errors a user sees instead of the CDK's panic.

import (
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// newStack synthesizes props in a fresh app, turning a panic into a test
// failure: New must report every problem as an error.
func newStack(t *testing.T, props Props) (tp *template, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("NewStack panicked: %v", r)
		}
	}()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:enable-path-metadata": true}})
	stack, _, err := NewStack(app, "Signal", nil, &props)
	if err != nil {
		return nil, err
	}
	tt := assertions.Template_FromStack(stack, nil)
	j := *tt.ToJSON()
	tp = &template{T: tt, Resources: map[string]map[string]any{}, Props: props}
	for id, r := range j["Resources"].(map[string]any) {
		tp.Resources[id] = r.(map[string]any)
	}
	return tp, nil
}

// assetKeys returns each function's code asset key, failing unless the
// three differ.
func assetKeys(t *testing.T, tp *template) map[string]string {
	t.Helper()
	keys := map[string]string{}
	seen := map[string]bool{}
	for _, fn := range []string{"Command", "Query", "Projector"} {
		key, _ := tp.props(t, tp.id(t, fn+"/Resource"))["Code"].(map[string]any)["S3Key"].(string)
		if !strings.HasSuffix(key, ".zip") || seen[key] {
			t.Errorf("%s: code %q is not its own zip asset", fn, key)
		}
		seen[key] = true
		keys[fn] = key
	}
	return keys
}

// checkELF: path is a static linux executable for machine.
func checkELF(t *testing.T, path string, machine elf.Machine) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	if f.Machine != machine || f.Type != elf.ET_EXEC {
		t.Errorf("%s: %v %v, want a %v executable", path, f.Machine, f.Type, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is dynamically linked (CGO_ENABLED=0 was not applied)", path)
		}
	}
	if s := f.Section(".symtab"); s != nil {
		t.Errorf("%s has a symbol table (-ldflags=-s was not applied)", path)
	}
}

func TestBuildTestModule(t *testing.T) {
	for _, tc := range []struct {
		arch    string
		machine elf.Machine
	}{{"arm64", elf.EM_AARCH64}, {"amd64", elf.EM_X86_64}} {
		out := t.TempDir()
		tp, err := newStack(t, Props{Arch: tc.arch, Build: &GoBuild{ModuleDir: "testdata/fnmod", OutDir: out}})
		if err != nil {
			t.Fatalf("%s: %v", tc.arch, err)
		}
		for _, fn := range functionNames {
			checkELF(t, filepath.Join(out, fn, "bootstrap"), tc.machine)
			entries, _ := os.ReadDir(filepath.Join(out, fn))
			if len(entries) != 1 {
				t.Errorf("%s: %s holds %d files, want only bootstrap (the whole directory is the asset)", tc.arch, fn, len(entries))
			}
		}
		assetKeys(t, tp)
	}
}

// The zero GoBuild builds this repository's functions/{command,query,projector}
// (ModuleDir ".." from infra/, "../.." from this package's directory),
// into the app's cloud assembly.
func TestBuildRepositoryFunctions(t *testing.T) {
	outdir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: &outdir})
	stack := awscdk.NewStack(app, jsii.String("Signal"), nil)
	s, err := New(stack, "Signal", &Props{Build: &GoBuild{ModuleDir: "../.."}})
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob(filepath.Join(outdir, "signal-build-*"))
	if len(dirs) != 1 || !strings.HasSuffix(dirs[0], "signal-build-"+*s.Node().Addr()) {
		t.Fatalf("build directories in the assembly: %v, want signal-build-%s", dirs, *s.Node().Addr())
	}
	for _, fn := range functionNames {
		checkELF(t, filepath.Join(dirs[0], fn, "bootstrap"), elf.EM_AARCH64)
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build GoBuild
		want  []string
	}{
		{"compile error", GoBuild{ModuleDir: "testdata/fnmod", Command: "./broken"},
			[]string{"building the command function", "go build ./broken", "undefinedFunction"}},
		{"no such package", GoBuild{ModuleDir: "testdata/fnmod", Projector: "./functions/nope"},
			[]string{"building the projector function", "./functions/nope"}},
		{"no such module dir", GoBuild{ModuleDir: "testdata/nope"},
			[]string{"building the command function", `ModuleDir "testdata/nope" is not a directory`}},
	} {
		tc.build.OutDir = t.TempDir()
		_, err := newStack(t, Props{Build: &tc.build})
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
	}
}

// Missing prebuilt bootstraps are an error naming each missing file and
// what to run, where the CDK would panic with "Cannot find asset".
func TestMissingBootstraps(t *testing.T) {
	empty := t.TempDir()
	partial := t.TempDir()
	if err := os.MkdirAll(filepath.Join(partial, "command"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(partial, "command", "bootstrap"), []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A directory named bootstrap is not a bootstrap.
	if err := os.MkdirAll(filepath.Join(partial, "query", "bootstrap"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir           string
		missing, have []string
	}{
		{empty, []string{"command", "query", "projector"}, nil},
		{partial, []string{"query", "projector"}, []string{"command"}},
	} {
		_, err := newStack(t, Props{CodeDir: tc.dir})
		if err == nil {
			t.Errorf("%s: no error", tc.dir)
			continue
		}
		msg := err.Error()
		for _, w := range []string{"not found", "make build", "Props.Build", "build=true", "Props.CodeDir"} {
			if !strings.Contains(msg, w) {
				t.Errorf("error %q lacks %q", msg, w)
			}
		}
		for _, fn := range tc.missing {
			if !strings.Contains(msg, filepath.Join(tc.dir, fn, "bootstrap")) {
				t.Errorf("error %q does not name %s", msg, fn)
			}
		}
		for _, fn := range tc.have {
			if strings.Contains(msg, filepath.Join(tc.dir, fn, "bootstrap")) {
				t.Errorf("error %q names %s, which is there", msg, fn)
			}
		}
	}
}
