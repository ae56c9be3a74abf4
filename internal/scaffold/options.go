package scaffold

import (
	"errors"
	"fmt"
	"go/token"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/module"
)

// Options say what to generate.
type Options struct {
	// Module is the new project's module path, e.g. example.com/bank.
	// Required; golang.org/x/mod/module.CheckPath must accept it.
	Module string
	// Name names the service: its domain package, cmd/<Name>, the App's
	// name and the stack's. Default: the module path's last element
	// (before a /vN suffix), lower-cased, without what is not a letter or
	// a digit. It must match ^[a-z][a-z0-9]{0,29}$ and be neither a Go
	// keyword nor a name the generated files already import or use.
	Name string
	// Replace, when set, is the path of a local checkout of
	// github.com/signalforgo/signal: go.mod and infra/go.mod get replace
	// directives to it (and to its infra/), for unreleased versions and
	// tests. A relative path is made absolute; it must hold the
	// framework's go.mod.
	Replace string
	// Progress, when set, gets one line per file written.
	Progress io.Writer
}

// nameRE is a service name: a lower-case Go package name without
// underscores, short enough for the stack's resource names.
var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,29}$`)

// reserved are names the generated files use for something else: the
// packages they import, the project's own folders, main.
var reserved = []string{
	"signal", "signaltest", "lambdafn", "lambdatest", "dynamotest", "cli",
	"context", "errors", "testing", "fmt", "os", "strings", "json", "filepath", "memstore", "slices",
	"main", "cmd", "functions", "infra", "e2e", "localstack", "dist", "awscdk", "jsii",
}

// resolved returns o with Name defaulted and Replace absolute, or an error
// saying what is wrong and how to fix it.
func (o Options) resolved() (Options, error) {
	if o.Module == "" {
		return o, errors.New("no module path: give one, e.g. -module example.com/bank")
	}
	if err := module.CheckPath(o.Module); err != nil {
		return o, fmt.Errorf("module path %q is invalid: %w", o.Module, err)
	}
	if o.Name == "" {
		o.Name = defaultName(o.Module)
	}
	if err := checkName(o.Name); err != nil {
		return o, err
	}
	if o.Replace != "" {
		abs, err := checkReplace(o.Replace)
		if err != nil {
			return o, err
		}
		o.Replace = abs
	}
	return o, nil
}

// defaultName derives the service's name from a module path.
func defaultName(mod string) string {
	base := path.Base(mod)
	if _, major, ok := module.SplitPathVersion(mod); ok && major != "" {
		base = path.Base(strings.TrimSuffix(mod, major))
	}
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func checkName(name string) error {
	switch {
	case !nameRE.MatchString(name):
		return fmt.Errorf("service name %q is invalid: want a lower-case letter, then up to 29 lower-case letters or digits (set it with -name)", name)
	case token.IsKeyword(name) || slices.Contains(reserved, name):
		return fmt.Errorf("service name %q is taken by Go or by the generated code: choose another with -name", name)
	}
	return nil
}

// checkReplace returns the absolute path of a checkout of the framework.
func checkReplace(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("replace path %q: %w", dir, err)
	}
	mod, err := readModulePath(filepath.Join(abs, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("replace path %q is not a checkout of %s: %w", dir, SignalModule, err)
	}
	if mod != SignalModule {
		return "", fmt.Errorf("replace path %q holds module %s, not %s", dir, mod, SignalModule)
	}
	return abs, nil
}
