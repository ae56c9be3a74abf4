package scaffold

import (
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
)

// Tidy runs `go mod tidy` in a generated project and then in its infra/
// (a module of its own), so both have their go.sum. It prints a line per
// step to progress and passes the go command's output through to it.
//
// Outcomes: nil, both tidy; an error naming the step that failed (the go
// command's own messages are above it in progress) or saying that there
// is no go command.
func Tidy(dir string, progress io.Writer) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("go mod tidy: no go command on PATH: %w", err)
	}
	for _, step := range []struct{ dir, name string }{
		{dir, "go mod tidy"},
		{filepath.Join(dir, "infra"), "go mod tidy (infra/)"},
	} {
		fmt.Fprintf(progress, "%s\n", step.name)
		cmd := exec.Command(goCmd, "mod", "tidy")
		cmd.Dir = step.dir
		cmd.Stdout, cmd.Stderr = progress, progress
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s in %s failed: %w", step.name, step.dir, err)
		}
	}
	return nil
}
