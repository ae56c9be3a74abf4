package signalstack

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
)

// GoBuild makes the construct build the three functions from main
// packages of a Go module, with the local go toolchain (no Docker), when
// the app is synthesized. Each is built with GOOS=linux, GOARCH from
// Props.Arch, CGO_ENABLED=0 and `-tags lambda.norpc -trimpath -ldflags=-s -w`
// into <OutDir>/<function>/bootstrap, which becomes the function's code
// asset. The build is reproducible (-trimpath), so unchanged code is an
// unchanged asset and `cdk diff` shows no change. The zero value builds
// ./functions/{command,query,projector} of the module in "..".
type GoBuild struct {
	// ModuleDir is the directory the go command runs in: the user's module
	// (its go.mod, or a directory inside it). Relative paths are relative
	// to the app's working directory (infra/, where the CDK CLI runs it).
	// Default "..".
	ModuleDir string
	// Command, Query and Projector are the main packages of the three
	// functions, as `go build` takes them (relative to ModuleDir, or
	// import paths). Defaults "./functions/command", "./functions/query",
	// "./functions/projector".
	Command, Query, Projector string
	// OutDir receives <function>/bootstrap. Default: a directory in the
	// app's cloud assembly (cdk.out/signal-build-<construct address>),
	// or a new temporary directory when the construct is in no CDK stage.
	OutDir string
}

// Defaults of GoBuild.
const (
	DefaultModuleDir        = ".."
	DefaultCommandPackage   = "./functions/command"
	DefaultQueryPackage     = "./functions/query"
	DefaultProjectorPackage = "./functions/projector"
)

func (b GoBuild) withDefaults() GoBuild {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&b.ModuleDir, DefaultModuleDir)
	def(&b.Command, DefaultCommandPackage)
	def(&b.Query, DefaultQueryPackage)
	def(&b.Projector, DefaultProjectorPackage)
	return b
}

// functionNames are the three functions in construct order.
var functionNames = []string{CommandFunction, QueryFunction, ProjectorFunction}

// codeDirs returns the directory holding each function's bootstrap, by
// function name: built now when p.Build is set, else p.CodeDir/<function>
// after checking that every bootstrap is there. Any failure is an error
// that says what to run; nothing panics.
func codeDirs(c constructs.Construct, p *Props) (map[string]string, error) {
	if p.Build == nil {
		return prebuilt(p.CodeDir)
	}
	b := p.Build.withDefaults()
	out := b.OutDir
	if out == "" {
		var err error
		if out, err = defaultOutDir(c); err != nil {
			return nil, err
		}
	}
	pkgs := map[string]string{CommandFunction: b.Command, QueryFunction: b.Query, ProjectorFunction: b.Projector}
	dirs := map[string]string{}
	for _, fn := range functionNames {
		dir := filepath.Join(out, fn)
		if err := goBuild(b.ModuleDir, pkgs[fn], filepath.Join(dir, "bootstrap"), p.Arch); err != nil {
			return nil, fmt.Errorf("signalstack: building the %s function: %w", fn, err)
		}
		dirs[fn] = dir
	}
	return dirs, nil
}

// prebuilt checks for codeDir/<function>/bootstrap before any asset is
// declared: the CDK would panic ("Cannot find asset") on a missing one.
func prebuilt(codeDir string) (map[string]string, error) {
	dirs := map[string]string{}
	var missing []string
	for _, fn := range functionNames {
		dir := filepath.Join(codeDir, fn)
		if st, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil || !st.Mode().IsRegular() {
			missing = append(missing, filepath.Join(dir, "bootstrap"))
		}
		dirs[fn] = dir
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("signalstack: %s not found: run `make build`, set Props.CodeDir (context codeDir=DIR) to where <function>/bootstrap are, or set Props.Build (context build=true) to build them at synth",
			strings.Join(missing, ", "))
	}
	return dirs, nil
}

// defaultOutDir is a directory in the cloud assembly, named after the
// construct's address so that two constructs in one app never share one;
// outside a stage, a new temporary directory.
func defaultOutDir(c constructs.Construct) (string, error) {
	if stage := awscdk.Stage_Of(c); stage != nil && stage.Outdir() != nil {
		return filepath.Join(*stage.Outdir(), "signal-build-"+*c.Node().Addr()), nil
	}
	dir, err := os.MkdirTemp("", "signal-build-")
	if err != nil {
		return "", fmt.Errorf("signalstack: build directory: %w", err)
	}
	return dir, nil
}

// goBuild builds pkg in moduleDir into out for linux/arch, static and
// stripped. The error carries the go command's output, which names the
// failing file and line.
func goBuild(moduleDir, pkg, out, arch string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go command is not installed or not on PATH (%w); install Go, or build the bootstraps yourself and set Props.CodeDir", err)
	}
	if st, err := os.Stat(moduleDir); err != nil || !st.IsDir() {
		return fmt.Errorf("GoBuild.ModuleDir %q is not a directory (relative paths are relative to %s)", moduleDir, workingDir())
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	cmd := exec.Command(goBin, "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", abs, pkg)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("`GOOS=linux GOARCH=%s CGO_ENABLED=0 go build %s` in %s failed:\n%s", arch, pkg, moduleDir, strings.TrimSpace(output.String()))
		}
		return fmt.Errorf("go build %s: %w", pkg, err)
	}
	return nil
}

func workingDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "the working directory"
	}
	return wd
}
