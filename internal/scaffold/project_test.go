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
// against moto_server), whose `make dev` serves its aggregate, and whose
// `make dev DEV_FLAGS=-insecure-dev-auth` enforces its rule. It
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
	t.Run("dev with the rule", func(t *testing.T) { devAuthorizes(t, dir) })
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

// devServes starts `make dev` on a free port and opens an account through
// it anonymously (201): without -insecure-dev-auth the rule lets
// anonymous callers at accounts that belong to nobody.
func devServes(t *testing.T, dir string) {
	dev := startDev(t, dir)
	dev.want(t, "POST", "/aggregates/account/acc-1/Open", `{"owner":"ada"}`, "", http.StatusCreated)
}

// devAuthorizes starts `make dev DEV_FLAGS=-insecure-dev-auth`, as the
// README says to try the rule: ann's account is hers (200), not bob's
// (403), nor an anonymous caller's (401); an anonymous one is nobody's.
func devAuthorizes(t *testing.T, dir string) {
	dev := startDev(t, dir, "DEV_FLAGS=-insecure-dev-auth")
	dev.want(t, "POST", "/aggregates/account/ann-1/Open", `{"owner":"Ann"}`, "ann", http.StatusCreated)
	dev.want(t, "GET", "/aggregates/account/ann-1", "", "ann", http.StatusOK)
	dev.want(t, "GET", "/aggregates/account/ann-1", "", "bob", http.StatusForbidden)
	dev.want(t, "POST", "/aggregates/account/ann-1/Deposit", `{"amount":5}`, "bob", http.StatusForbidden)
	dev.want(t, "GET", "/aggregates/account/ann-1", "", "", http.StatusUnauthorized)
	dev.want(t, "POST", "/aggregates/account/anon-1/Open", `{"owner":"Nobody"}`, "", http.StatusCreated)
	dev.want(t, "POST", "/aggregates/account/anon-1/Deposit", `{"amount":5}`, "bob", http.StatusOK)
}

// devServer is a running `make dev`: where it serves, what it logged.
type devServer struct {
	url  string
	logs *syncbuf.Buffer
}

// startDev starts `make dev` on a free port with more make variables,
// waits until it says where it serves, and interrupts it when the test
// ends.
func startDev(t *testing.T, dir string, vars ...string) *devServer {
	cmd := exec.Command("make", append([]string{"--no-print-directory", "dev", "SIGNAL_ADDR=127.0.0.1:0"}, vars...)...)
	cmd.Dir, cmd.Env = dir, append(projectEnv(), "SIGNAL_LOG_LEVEL=warn")
	// Its own process group: make, go run and the server get the
	// interrupt together, as from a terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs := &syncbuf.Buffer{}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// done closes when make has ended (waitErr is then its outcome), so
	// both the wait below and stopGroup can see it.
	done, waitErr := make(chan struct{}), error(nil)
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() { stopGroup(t, cmd, done, logs) })

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
	select {
	case url := <-found:
		return &devServer{url: url, logs: logs}
	case <-done:
		t.Fatalf("make dev ended before serving: %v\n%s", waitErr, logs.String())
	case <-time.After(3 * time.Minute):
		t.Fatalf("make dev did not say where it serves within 3 minutes\n%s", logs.String())
	}
	return nil
}

// want sends a request as subject ("" for none, else in the insecure dev
// header) and fails the test unless it is answered status.
func (d *devServer) want(t *testing.T, method, path, body, subject string, status int) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, d.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if subject != "" {
		req.Header.Set("X-Signal-Insecure-Principal", "sub="+subject)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("%s %s as %q through make dev: %d, want %d\n%s", method, path, subject, resp.StatusCode, status, d.logs.String())
	}
}

// stopGroup interrupts the process group of cmd and waits for it; what is
// left after 20 s is killed and the test fails.
func stopGroup(t *testing.T, cmd *exec.Cmd, done <-chan struct{}, logs *syncbuf.Buffer) {
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
