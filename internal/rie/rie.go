// Package rie runs Lambda function binaries the way Lambda does, for tests:
// each Function is one aws-lambda-rie (the AWS Lambda Runtime Interface
// Emulator) on its own free loopback ports, with the function's `bootstrap`
// behind it speaking the real Runtime API. That is one simulated execution
// environment: RIE starts the bootstrap lazily on the first invoke (the cold
// start) and serves one invoke at a time.
//
// Like internal/moto, a missing RIE skips the test, except under CI=true,
// where it fails: CI must never pass by not testing. `make tools` installs
// RIE into ./.tools/bin, where Binary finds it.
//
// Linux only: RIE itself is, and the harness relies on process groups,
// parent-death signals and /proc to leave nothing running behind a test.
package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Bounds on every wait, so that a broken function or emulator fails the
// test instead of hanging it until the go test timeout.
const (
	// ReadyTimeout bounds how long Start waits for RIE to accept connections.
	ReadyTimeout = 20 * time.Second
	// InvokeTimeout bounds an Invoke whose context has no deadline. It covers
	// a cold start, which RIE performs inside the first invoke.
	InvokeTimeout = 30 * time.Second
	// BuildTimeout bounds Build; a cold build cache compiles the AWS SDK.
	BuildTimeout = 5 * time.Minute
	// stopGrace is how long RIE gets to shut its runtime down after SIGTERM
	// before its whole process group is killed.
	stopGrace = 5 * time.Second
	// maxResponse caps what Invoke reads; Lambda's synchronous limit is 6 MB.
	maxResponse = 16 << 20
)

const binaryName = "aws-lambda-rie"

// Binary returns the aws-lambda-rie path: $AWS_LAMBDA_RIE, else
// .tools/bin/aws-lambda-rie found by walking up from the working directory
// to the module root (where `make tools` puts it), else PATH. When it is
// missing the test is skipped, or fails under CI=true.
//
// An AWS_LAMBDA_RIE that names no executable is not silently replaced by
// another RIE: whoever set it meant that one.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := findBinary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("aws-lambda-rie is required under CI: %v", err)
		}
		t.Skipf("no aws-lambda-rie (run `make tools`, or set AWS_LAMBDA_RIE): %v", err)
	}
	return path
}

func findBinary() (string, error) {
	if p := os.Getenv("AWS_LAMBDA_RIE"); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("AWS_LAMBDA_RIE=%s: %w", p, err)
		}
		return p, nil
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			p := filepath.Join(dir, ".tools", "bin", binaryName)
			if executable(p) == nil {
				return p, nil
			}
			// go.mod marks the module root: a .tools above it belongs to
			// some other project.
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return exec.LookPath(binaryName)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// Build compiles the Go main package pkg into dir/bootstrap and returns its
// path, with the flags of `make build` (static, no RPC shim, stripped,
// reproducible paths) but for the host's architecture, so that what the test
// runs is what ships, minus the cross-compilation.
//
// pkg is what `go build` accepts, resolved from the test's working directory
// (its package directory): an import path, or a directory such as
// ./testdata/hello. Packages under testdata can only be named by directory.
func Build(t testing.TB, pkg string, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "bootstrap")
	ctx, cancel := context.WithTimeout(context.Background(), BuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build",
		"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w",
		"-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// Function is one running RIE with one function behind it.
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

// Start runs bootstrap under its own RIE on free loopback ports, waits until
// RIE accepts invokes, and stops it when the test ends.
//
// The function sees a minimal environment, not the test's: PATH, HOME,
// AWS_REGION (us-east-1 unless given), AWS_LAMBDA_FUNCTION_NAME (the
// bootstrap's directory name unless given), then env, which wins. RIE passes
// its whole environment on to the function, like Lambda's configuration. RIE's
// and the function's output (stdout and stderr, interleaved as written) are
// kept in a file for Logs, and shown when the test fails.
func Start(t testing.TB, bootstrap string, env map[string]string) *Function {
	t.Helper()
	bin := Binary(t)
	abs, err := filepath.Abs(bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	if err := executable(abs); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	logDir := t.TempDir()

	// A free port is only free until someone else takes it; parallel tests
	// and other packages race for them. RIE exits at once when its address
	// is taken, so that case is retried on new ports.
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

func start(bin, bootstrap string, env map[string]string, logPath string) (*Function, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	apiAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	runtimeAddr := fmt.Sprintf("127.0.0.1:%d", ports[1])

	vars := map[string]string{
		"PATH":                     os.Getenv("PATH"),
		"HOME":                     os.Getenv("HOME"),
		"AWS_REGION":               "us-east-1",
		"AWS_LAMBDA_FUNCTION_NAME": defaultName(bootstrap),
	}
	for k, v := range env {
		vars[k] = v
	}
	environ := make([]string, 0, len(vars))
	for k, v := range vars {
		environ = append(environ, k+"="+v)
	}
	sort.Strings(environ)

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
	cmd.Env = environ
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

	// RIE starts the bootstrap only on the first invoke, so RIE accepting
	// connections is all there is to wait for: on the invoke address and on
	// the Runtime API address, which it binds on a goroutine of its own (and
	// dies if it cannot).
	deadline := time.Now().Add(ReadyTimeout)
	for _, addr := range []string{apiAddr, runtimeAddr} {
		for {
			select {
			case <-f.done:
				return nil, fmt.Errorf("%w: %v\n%s", errExited, cmd.ProcessState, tail(f.Logs(), 4<<10))
			default:
			}
			conn, err := net.DialTimeout("tcp", addr, 250*time.Millisecond)
			if err == nil {
				conn.Close()
				break
			}
			if time.Now().After(deadline) {
				f.Stop()
				return nil, fmt.Errorf("RIE did not accept connections on %s within %v: %v\n%s", addr, ReadyTimeout, err, tail(f.Logs(), 4<<10))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return f, nil
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

// freePorts returns n distinct loopback ports that were free a moment ago.
// The listeners are all open at once so the kernel cannot hand out the same
// port twice.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Name is the function's AWS_LAMBDA_FUNCTION_NAME.
func (f *Function) Name() string { return f.name }

// URL is the invoke endpoint, for tests that want to speak HTTP to RIE
// themselves. Invoke serializes invokes; raw requests are not.
func (f *Function) URL() string { return f.url }

// FunctionError is an invoke that did not produce a result.
type FunctionError struct {
	// StatusCode is RIE's HTTP status: 200 for an error returned by the
	// handler (RIE, unlike Lambda, sets no X-Amz-Function-Error header, so
	// Invoke recognizes the error document), 502 when the function crashed
	// or failed its init, other codes when RIE refused the invoke.
	StatusCode int
	// Type and Message come from the Lambda error document, when there is one.
	Type, Message string
	Body          json.RawMessage
}

func (e *FunctionError) Error() string {
	if e.Type != "" || e.Message != "" {
		return fmt.Sprintf("function error (HTTP %d): %s: %s", e.StatusCode, e.Type, e.Message)
	}
	return fmt.Sprintf("invoke failed: HTTP %d: %s", e.StatusCode, tail(string(e.Body), 1<<10))
}

// Invoke sends event to the function and returns what the handler returned.
// event is marshalled to JSON, except json.RawMessage and []byte, which are
// sent as they are. Invokes wait for each other, as RIE serves one at a time.
// A handler error or crash is a *FunctionError, returned with the body.
// Without a deadline on ctx, InvokeTimeout applies.
//
// When ctx ends first, Invoke returns at once, but RIE is still running the
// invoke (as Lambda would), and the next Invoke waits until it has finished:
// RIE does not survive an overlapping invoke.
func (f *Function) Invoke(ctx context.Context, event any) (json.RawMessage, error) {
	var payload []byte
	switch e := event.(type) {
	case json.RawMessage:
		payload = e
	case []byte:
		payload = e
	default:
		var err error
		if payload, err = json.Marshal(event); err != nil {
			return nil, fmt.Errorf("marshal event: %w", err)
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, InvokeTimeout)
		defer cancel()
	}
	select {
	case <-f.done:
		return nil, f.notRunning()
	default:
	}
	select {
	case f.slot <- struct{}{}:
	case <-f.done:
		return nil, f.notRunning()
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s: waiting for the previous invoke: %w", f.name, ctx.Err())
	}

	// The request belongs to the Function, not to ctx: it holds the slot
	// until RIE answers, RIE's own function timeout fires, or Stop cancels it.
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		defer func() { <-f.slot }()
		var a answer
		a.status, a.body, a.err = f.post(payload)
		answered <- a
	}()
	var a answer
	select {
	case a = <-answered:
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s: %w (RIE is still running it; the next invoke waits for it)", f.name, ctx.Err())
	}
	if a.err != nil {
		select {
		case <-f.done:
			return nil, fmt.Errorf("invoke %s: %w (%v)", f.name, a.err, f.notRunning())
		default:
		}
		return nil, fmt.Errorf("invoke %s: %w", f.name, a.err)
	}
	if d, ok := errorDocument(a.body); ok || a.status != http.StatusOK {
		return a.body, &FunctionError{StatusCode: a.status, Type: d.Type, Message: d.Message, Body: a.body}
	}
	return a.body, nil
}

func (f *Function) post(payload []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodPost, f.url, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, nil, fmt.Errorf("read response: %w", err)
	}
	f.invokes.Add(1)
	return resp.StatusCode, body, nil
}

func (f *Function) notRunning() error {
	return fmt.Errorf("invoke %s: RIE is not running (%v)", f.name, f.cmd.ProcessState)
}

type errorDoc struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// errorDocument reports whether body is the runtime's error document: an
// object with errorMessage and errorType and nothing else but a stackTrace.
// The exact shape keeps a handler result that merely has such a field from
// being taken for an error.
func errorDocument(body []byte) (errorDoc, bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return errorDoc{}, false
	}
	_, hasMsg := fields["errorMessage"]
	_, hasType := fields["errorType"]
	if !hasMsg || !hasType {
		return errorDoc{}, false
	}
	for k := range fields {
		if k != "errorMessage" && k != "errorType" && k != "stackTrace" {
			return errorDoc{}, false
		}
	}
	var d errorDoc
	if json.Unmarshal(body, &d) != nil {
		return errorDoc{}, false
	}
	return d, true
}

// Logs returns everything RIE and the function have printed so far.
func (f *Function) Logs() string {
	b, err := os.ReadFile(f.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", f.logPath, err)
	}
	return string(b)
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// InitDuration returns the cold start of the first init: from RIE starting
// the bootstrap to the function asking for its first event, the span Lambda
// reports as Init Duration. It is false before the first invoke.
//
// It is read from RIE's "INIT REPORT(durationMs: ...)" log line, not from
// the "Init Duration" of RIE's REPORT line: RIE times that around the call
// that only launches init in the background, so it reads 0.02-0.2 ms
// whatever the function does.
func (f *Function) InitDuration() (time.Duration, bool) {
	// The INIT REPORT line is written as init completes, concurrently with
	// the first invoke going ahead; give it a moment to land.
	deadline := time.Now().Add(2 * time.Second)
	for {
		if m := initReport.FindStringSubmatch(f.Logs()); m != nil {
			ms, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				return 0, false
			}
			return time.Duration(ms * float64(time.Millisecond)), true
		}
		if f.invokes.Load() == 0 || time.Now().After(deadline) {
			return 0, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop ends RIE and the function. RIE gets SIGTERM first, on which it kills
// the runtime (in a process group of its own) and exits; what is left after
// stopGrace is killed: RIE's process group, then the runtime's. Stop is
// idempotent; Start arranges for it at the end of the test.
func (f *Function) Stop() {
	f.stopOnce.Do(func() {
		defer f.drain()
		pid := f.cmd.Process.Pid
		select {
		case <-f.done:
			return
		default:
		}
		// Note RIE's children now: once RIE is gone they are no longer
		// recognizable as its children.
		children := childrenOf(pid)
		// Through os.Process, which holds a pidfd: RIE may exit at any moment
		// and its pid must not be mistaken for a successor's.
		_ = f.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-f.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			select {
			case <-f.done:
			case <-time.After(stopGrace):
				// SIGKILL is not refused; only an unkillable (D-state)
				// process gets here. Its reaping goroutine ends when it does.
			}
		}
		for _, c := range children {
			c.kill()
		}
	})
}

// drain ends the request of an invoke still in flight and waits for its
// goroutine, so that none outlives Stop.
func (f *Function) drain() {
	f.cancel()
	select {
	case f.slot <- struct{}{}:
		<-f.slot
	case <-time.After(stopGrace):
	}
	f.client.CloseIdleConnections()
}

// proc identifies a process beyond its pid, which the kernel reuses: the
// start time tells a later process with the same pid apart.
type proc struct {
	pid, pgrp int
	start     string
}

// readProc parses /proc/<pid>/stat. The command name is in parentheses and
// may contain anything, so fields are counted from the last ')'.
func readProc(pid int) (p proc, ppid int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return proc{}, 0, false
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is the state (field 3 of stat); ppid is field 4, pgrp 5,
	// starttime 22.
	if len(fields) < 20 || fields[0] == "Z" {
		return proc{}, 0, false
	}
	ppid, _ = strconv.Atoi(fields[1])
	pgrp, _ := strconv.Atoi(fields[2])
	return proc{pid: pid, pgrp: pgrp, start: fields[19]}, ppid, true
}

func childrenOf(parent int) []proc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ppid, ok := readProc(pid); ok && ppid == parent {
			out = append(out, p)
		}
	}
	return out
}

// kill ends p and, when p leads its own process group (RIE starts the
// runtime that way), the group, provided p is still the process noted.
func (p proc) kill() {
	now, _, ok := readProc(p.pid)
	if !ok || now.start != p.start {
		return
	}
	if p.pgrp == p.pid {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	} else {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// ColdStarts measures n cold starts of bootstrap: each time a fresh RIE, one
// invoke of event, and the Init Duration (see InitDuration). Every invoke
// must succeed.
func ColdStarts(t testing.TB, bootstrap string, env map[string]string, event any, n int) []time.Duration {
	t.Helper()
	ds := make([]time.Duration, 0, n)
	for i := range n {
		f := Start(t, bootstrap, env)
		if _, err := f.Invoke(context.Background(), event); err != nil {
			t.Fatalf("cold start %d of %s: %v", i+1, bootstrap, err)
		}
		d, ok := f.InitDuration()
		if !ok {
			t.Fatalf("cold start %d of %s: no INIT REPORT in RIE's output:\n%s", i+1, bootstrap, tail(f.Logs(), 4<<10))
		}
		ds = append(ds, d)
		// Stop now rather than at the end of the test, so the n runs do not
		// pile up processes and disturb each other's timings.
		f.Stop()
	}
	return ds
}

// Median returns the median of ds (the mean of the middle two for an even
// count), 0 for none. ds is not modified.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}
