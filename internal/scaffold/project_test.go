package scaffold

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signalforgo/signal/internal/syncbuf"
)

// projectTimeout bounds the generated project's `make test`: a warm build
// cache takes well under a minute, a cold one compiles the AWS SDK and
// the CDK's Go bindings.
const projectTimeout = 15 * time.Minute

// TestGeneratedProject is `signal new` as a user runs it: a project
// generated outside this repository, on this checkout (Replace), tidied,
// whose own `make test` passes (vet, its tests, its bootstraps, its stack
// synthesized and asserted, a command through its function under RIE
// against moto_server), and whose `make dev` serves its aggregate. It
// fails when a public API the templates use changes without them.
func TestGeneratedProject(t *testing.T) {
	root, err := filepath.Abs(checkout)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bank")
	if rel, err := filepath.Rel(root, dir); err != nil || !strings.HasPrefix(rel, "..") {
		t.Fatalf("the project %s must be outside the repository %s", dir, root)
	}
	if err := Generate(dir, Options{Module: "example.com/bank", Replace: root}); err != nil {
		t.Fatal(err)
	}
	var out syncbuf.Buffer
	if err := Tidy(dir, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	run(t, dir, "make", "test")
	t.Run("dev", func(t *testing.T) { devServes(t, dir) })
}

// projectEnv is the environment of the project's commands: this one's
// (GOCACHE, GOMODCACHE, AWS_LAMBDA_RIE, CI...) without what make passes
// to its children, since the project's make is not a sub-make of ours.
func projectEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// run runs a command in dir; its output is in the test's log when it
// fails.
func run(t *testing.T, dir string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), projectTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, projectEnv()
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in the generated project: %v after %s\n%s", name, strings.Join(args, " "), err, time.Since(start).Round(time.Second), out)
	}
	t.Logf("%s %s: passed in %s", name, strings.Join(args, " "), time.Since(start).Round(time.Second))
}

var servingRE = regexp.MustCompile(`serving (http://\S+)`)

// devServes starts `make dev` on a free port, opens an account through it
// (201), then interrupts it.
func devServes(t *testing.T, dir string) {
	cmd := exec.Command("make", "--no-print-directory", "dev", "SIGNAL_ADDR=127.0.0.1:0")
	cmd.Dir, cmd.Env = dir, append(projectEnv(), "SIGNAL_LOG_LEVEL=warn")
	// Its own process group: make, go run and the server get the
	// interrupt together, as from a terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logs syncbuf.Buffer
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer stopGroup(t, cmd, done, &logs)

	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			_, _ = logs.Write([]byte(sc.Text() + "\n"))
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	var url string
	select {
	case url = <-found:
	case err := <-done:
		t.Fatalf("make dev ended before serving: %v\n%s", err, logs.String())
	case <-time.After(3 * time.Minute):
		t.Fatalf("make dev did not say where it serves within 3 minutes\n%s", logs.String())
	}
	req, err := http.NewRequestWithContext(t.Context(), "POST", url+"/aggregates/account/acc-1/Open", strings.NewReader(`{"owner":"ada"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST Open through make dev: %d, want 201\n%s", resp.StatusCode, logs.String())
	}
}

// stopGroup interrupts the process group of cmd and waits for it; what is
// left after 20 s is killed and the test fails.
func stopGroup(t *testing.T, cmd *exec.Cmd, done <-chan error, logs *syncbuf.Buffer) {
	t.Helper()
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
		t.Errorf("make dev did not stop within 20 s of an interrupt\n%s", logs.String())
	}
}
