package lambdatest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/signalforgo/signal/internal/testsupport"
)

// ReadyTimeout bounds how long Start waits for RIE to accept connections.
const ReadyTimeout = 20 * time.Second

// Function is one running RIE with one function behind it: one simulated
// execution environment. Its methods are safe for concurrent use.
type Function struct {
	name    string
	url     string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed once RIE has exited and been reaped
	client  *http.Client
	ctx     context.Context // of the requests to RIE, cancelled by Stop
	cancel  context.CancelFunc

	// slot holds the one invoke RIE can serve at a time. Invokes queue on it:
	// RIE does not refuse an overlapping invoke (its code means to, with a
	// 400) but dies of a nil-pointer panic, taking the invoke in flight along.
	slot     chan struct{}
	invokes  atomic.Int64 // invokes that reached RIE and got an answer
	stopOnce sync.Once
}

// Start runs bootstrap under its own aws-lambda-rie on free loopback ports
// (127.0.0.1 only), waits until RIE accepts invokes, and stops it, with the
// function, when the test ends (t.Cleanup). RIE starts the bootstrap
// lazily, on the first invoke: that invoke is the cold start.
//
// The function sees a minimal environment, not the test's: PATH, HOME,
// AWS_REGION (us-east-1 unless given), AWS_LAMBDA_FUNCTION_NAME (the
// bootstrap's directory name, or "function", unless given), then env, which
// wins. RIE passes its whole environment on to the function, as Lambda does
// its configuration. RIE's and the function's output (stdout and stderr,
// interleaved as written) go to a file: Logs reads it, and a failed test
// shows its last 64 KiB.
//
// Outcomes: the running Function; the test skipped, or failed under
// CI=true, when there is no RIE (see Binary); the test failed when
// bootstrap is not an executable file, an env name is empty or holds '=',
// or RIE does not start (it is retried twice on new ports when it exits at
// once, as it does when another process took its port).
func Start(t testing.TB, bootstrap string, env map[string]string) *Function {
	t.Helper()
	bin := Binary(t)
	abs, err := filepath.Abs(bootstrap)
	if err != nil {
		t.Fatalf("bootstrap %s: %v", bootstrap, err)
	}
	if err := executable(abs); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	for k := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			t.Fatalf("start %s: environment variable name %q: want a name without '='", bootstrap, k)
		}
	}
	logDir := t.TempDir()
	var f *Function
	for attempt := 1; ; attempt++ {
		f, err = start(bin, abs, env, filepath.Join(logDir, fmt.Sprintf("rie-%d.log", attempt)))
		if err == nil {
			break
		}
		if attempt == 3 || !errors.Is(err, errExited) {
			t.Fatalf("start RIE for %s: %v", bootstrap, err)
		}
	}
	t.Cleanup(func() {
		f.Stop()
		if t.Failed() {
			t.Logf("output of RIE and %s (%s):\n%s", f.name, f.logPath, tail(f.Logs(), 64<<10))
		}
	})
	return f
}

var errExited = errors.New("RIE exited before accepting invokes")

// start launches one RIE and waits for it. A free port is only free until
// someone else takes it (parallel tests, other packages): RIE then exits
// at once, which is errExited, and Start tries new ports.
func start(bin, bootstrap string, env map[string]string, logPath string) (*Function, error) {
	ports, err := testsupport.FreePorts(2)
	if err != nil {
		return nil, err
	}
	apiAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	runtimeAddr := fmt.Sprintf("127.0.0.1:%d", ports[1])
	vars := environment(bootstrap, env)
	args := []string{
		"--runtime-interface-emulator-address", apiAddr,
		"--runtime-api-address", runtimeAddr,
	}
	// InitDuration reads RIE's info-level INIT REPORT line; keep it unless
	// the caller chose a level through the environment.
	if _, ok := vars["LOG_LEVEL"]; !ok {
		args = append(args, "--log-level", "info")
	}
	args = append(args, bootstrap)

	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor

	cmd := exec.Command(bin, args...)
	cmd.Env = environList(vars)
	cmd.Dir = filepath.Dir(bootstrap)
	// One *os.File for both streams: the child writes to it directly, so
	// there is no copying goroutine to outlive RIE and the order of lines is
	// the order of writes. Its own process group lets Stop kill it whole;
	// the parent-death signal takes it down if the test binary dies first.
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	reqCtx, cancel := context.WithCancel(context.Background())
	f := &Function{
		ctx:     reqCtx,
		cancel:  cancel,
		name:    vars["AWS_LAMBDA_FUNCTION_NAME"],
		url:     "http://" + apiAddr + "/2015-03-31/functions/function/invocations",
		logPath: logPath,
		cmd:     cmd,
		done:    make(chan struct{}),
		client:  &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
		slot:    make(chan struct{}, 1),
	}
	go func() {
		_ = cmd.Wait()
		close(f.done)
	}()
	if err := f.waitReady(apiAddr, runtimeAddr); err != nil {
		f.Stop()
		return nil, err
	}
	return f, nil
}

// waitReady waits until RIE accepts connections on both addresses. RIE
// starts the bootstrap only on the first invoke, so that is all there is to
// wait for; the Runtime API address is bound on a goroutine of RIE's own
// (which kills RIE if it cannot), hence both.
func (f *Function) waitReady(addrs ...string) error {
	deadline := time.Now().Add(ReadyTimeout)
	for _, addr := range addrs {
		for {
			select {
			case <-f.done:
				return fmt.Errorf("%w: %v\n%s", errExited, f.cmd.ProcessState, tail(f.Logs(), 4<<10))
			default:
			}
			conn, err := net.DialTimeout("tcp", addr, 250*time.Millisecond)
			if err == nil {
				conn.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("RIE did not accept connections on %s within %v: %v\n%s", addr, ReadyTimeout, err, tail(f.Logs(), 4<<10))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

// environment is the function's environment (see Start).
func environment(bootstrap string, env map[string]string) map[string]string {
	vars := map[string]string{
		"PATH":                     os.Getenv("PATH"),
		"HOME":                     os.Getenv("HOME"),
		"AWS_REGION":               "us-east-1",
		"AWS_LAMBDA_FUNCTION_NAME": defaultName(bootstrap),
	}
	for k, v := range env {
		vars[k] = v
	}
	return vars
}

func environList(vars map[string]string) []string {
	list := make([]string, 0, len(vars))
	for k, v := range vars {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}

// defaultName names the function after the directory holding its bootstrap
// (dist/command/bootstrap is "command"), or "function" for the numbered
// directories of t.TempDir.
func defaultName(bootstrap string) string {
	name := filepath.Base(filepath.Dir(bootstrap))
	if _, err := strconv.Atoi(name); err == nil || name == "." || name == "/" {
		return "function"
	}
	return name
}

// Name is the function's AWS_LAMBDA_FUNCTION_NAME.
func (f *Function) Name() string { return f.name }

// URL is RIE's invoke endpoint, for tests that want to speak HTTP to RIE
// themselves. Invoke serializes invokes; raw requests are not serialized,
// and RIE does not survive two at once.
func (f *Function) URL() string { return f.url }

// Logs returns everything RIE and the function have printed so far, also
// after Stop; a message in parentheses when the log file cannot be read.
func (f *Function) Logs() string {
	b, err := os.ReadFile(f.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", f.logPath, err)
	}
	return string(b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
