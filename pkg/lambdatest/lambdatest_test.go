package lambdatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalforgo/signal/internal/testsupport"
)

// binDir holds the fixtures, built once per test binary: a link is a
// second or so, and most tests want the same two.
var (
	binDir string
	builds sync.Map // package dir -> *built
)

type built struct {
	once sync.Once
	path string
	err  string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdatest-test-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	testsupport.Main(m, func() { os.RemoveAll(dir) })
}

// fixture returns the bootstrap of ./testdata/<name>, building it on first use.
func fixture(t *testing.T, name string) string {
	t.Helper()
	Binary(t) // no RIE, no point building
	v, _ := builds.LoadOrStore(name, &built{})
	b := v.(*built)
	b.once.Do(func() {
		dir := filepath.Join(binDir, name)
		// Build fails its t; a recorder keeps one failed build from
		// reporting in whichever test happened to build first only.
		rec := &recorder{TB: t}
		run(func() { b.path = Build(rec, "./testdata/"+name, dir) })
		b.err = rec.msg
	})
	if b.err != "" {
		t.Fatalf("build testdata/%s: %s", name, b.err)
	}
	return b.path
}

// recorder is a testing.TB whose Fatal and Skip are recorded rather than
// acted on, to test what Binary and Build do to a test. Like the real ones
// they end the calling goroutine.
type recorder struct {
	testing.TB
	kind, msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.kind, r.msg = "fatal", fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) {
	r.kind, r.msg = "fatal", fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.kind, r.msg = "skip", fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f on a goroutine of its own, for the recorder's Goexit.
func run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestBinaryMissingSkipsOrFailsUnderCI(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-rie")
	t.Setenv("AWS_LAMBDA_RIE", missing)

	t.Setenv("CI", "")
	r := &recorder{TB: t}
	run(func() { Binary(r) })
	if r.kind != "skip" || !strings.Contains(r.msg, missing) {
		t.Errorf("outside CI: got %s %q, want a skip naming %s", r.kind, r.msg, missing)
	}
	for _, hint := range []string{"make tools", "go install " + RIEModule + "/cmd/aws-lambda-rie@" + RIEVersion, "AWS_LAMBDA_RIE"} {
		if !strings.Contains(r.msg, hint) {
			t.Errorf("the message does not say how to install RIE (%q): %s", hint, r.msg)
		}
	}

	t.Setenv("CI", "true")
	r = &recorder{TB: t}
	run(func() { Binary(r) })
	if r.kind != "fatal" || !strings.Contains(r.msg, missing) {
		t.Errorf("under CI=true: got %s %q, want a failure naming %s", r.kind, r.msg, missing)
	}

	// A directory is not a binary either.
	t.Setenv("AWS_LAMBDA_RIE", t.TempDir())
	r = &recorder{TB: t}
	run(func() { Binary(r) })
	if r.kind != "fatal" {
		t.Errorf("AWS_LAMBDA_RIE naming a directory: got %s %q, want a failure", r.kind, r.msg)
	}
}

func TestBinaryFindsToolsDirAboveWorkingDir(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RIE", "")
	t.Setenv("PATH", "")
	root := t.TempDir()
	bin := filepath.Join(root, ".tools", "bin", binaryName)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "internal", "pkg")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	if got, err := findBinary(); err != nil || got != bin {
		t.Errorf("findBinary from %s = %q, %v; want %s", sub, got, err, bin)
	}

	// The search stops at the module root: a .tools above it is another
	// project's.
	inner := filepath.Join(root, "nested")
	if err := os.MkdirAll(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inner, "go.mod"), []byte("module y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(inner)
	if got, err := findBinary(); err == nil {
		t.Errorf("findBinary from a module without .tools = %q, want not found", got)
	}

	// PATH is the last resort.
	onPath := t.TempDir()
	if err := os.WriteFile(filepath.Join(onPath, binaryName), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", onPath)
	if got, err := findBinary(); err != nil || got != filepath.Join(onPath, binaryName) {
		t.Errorf("findBinary with RIE on PATH = %q, %v", got, err)
	}
}

// TestVersionIsTheMakefiles: the version the messages name is the one
// `make tools` installs and the tests run.
func TestVersionIsTheMakefiles(t *testing.T) {
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RIE_MODULE  := " + RIEModule + "\n", "RIE_VERSION := " + RIEVersion + "\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the Makefile has no line %q", strings.TrimSpace(want))
		}
	}
}

func TestBuildFailureFailsTheTest(t *testing.T) {
	r := &recorder{TB: t}
	run(func() { Build(r, "./testdata/no-such-package", t.TempDir()) })
	if r.kind != "fatal" || !strings.Contains(r.msg, "no-such-package") {
		t.Errorf("got %s %q, want a failure naming the package", r.kind, r.msg)
	}
}

func TestHello(t *testing.T) {
	t.Parallel()
	bootstrap := fixture(t, "hello")
	f := Start(t, bootstrap, nil)

	if _, ok := f.InitDuration(); ok {
		t.Error("InitDuration before any invoke: RIE starts the function on the first invoke")
	}
	for i := range 2 {
		got, err := f.Invoke(ctx(t), map[string]any{"n": i})
		if err != nil {
			t.Fatalf("invoke %d: %v\n%s", i, err, f.Logs())
		}
		if string(got) != `{"ok":true,"function":"hello"}` {
			t.Errorf("invoke %d: got %s", i, got)
		}
	}
	d, ok := f.InitDuration()
	if !ok || d <= 0 || d > 10*time.Second {
		t.Errorf("InitDuration = %v, %v; want a positive duration parsed from:\n%s", d, ok, f.Logs())
	}
	// RIE's REPORT line carries its own (meaningless) Init Duration on the
	// first invoke only; that is how one tells the cold invoke.
	if n := strings.Count(f.Logs(), "Init Duration:"); n != 1 {
		t.Errorf("%d REPORT lines with Init Duration, want 1 (one cold start, one warm invoke)", n)
	}
	if n := strings.Count(f.Logs(), "REPORT RequestId:"); n != 2 {
		t.Errorf("%d REPORT lines, want 2", n)
	}
}

// TestInitDurationIsTheInit checks that InitDuration is the function's
// init, not the figure on RIE's REPORT line, which ignores it.
func TestInitDurationIsTheInit(t *testing.T) {
	t.Parallel()
	const sleep = 300 * time.Millisecond
	f := Start(t, fixture(t, "echo"), map[string]string{"INIT_SLEEP": sleep.String()})
	invokeEcho(t, f, struct{}{})
	d, ok := f.InitDuration()
	if !ok || d < sleep || d > sleep+10*time.Second {
		t.Errorf("InitDuration = %v, %v after an init sleeping %v\n%s", d, ok, sleep, f.Logs())
	}
}

type echoed struct {
	Data      json.RawMessage `json:"data"`
	Function  string          `json:"function"`
	Region    string          `json:"region"`
	Greeting  string          `json:"greeting"`
	RequestID string          `json:"requestId"`
	Invokes   int             `json:"invokes"`
	PID       int             `json:"pid"`
}

func invokeEcho(t *testing.T, f *Function, event any) echoed {
	t.Helper()
	b, err := f.Invoke(ctx(t), event)
	if err != nil {
		t.Fatalf("invoke %s: %v\n%s", f.Name(), err, f.Logs())
	}
	var e echoed
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("response %s: %v", b, err)
	}
	return e
}

func TestEnvironmentAndEvents(t *testing.T) {
	bootstrap := fixture(t, "echo")
	t.Setenv("GREETING", "from the test process, not to be seen")

	f := Start(t, bootstrap, map[string]string{"GREETING": "hi", "AWS_LAMBDA_FUNCTION_NAME": "cart-command"})
	e := invokeEcho(t, f, map[string]any{"data": []int{1, 2}})
	if e.Function != "cart-command" || e.Region != "us-east-1" || e.Greeting != "hi" {
		t.Errorf("function saw name %q, region %q, GREETING %q; want cart-command, us-east-1 (default), hi", e.Function, e.Region, e.Greeting)
	}
	if string(e.Data) != "[1,2]" || e.RequestID == "" {
		t.Errorf("got data %s, request id %q", e.Data, e.RequestID)
	}
	// Raw JSON goes through untouched, whether json.RawMessage or []byte.
	if e := invokeEcho(t, f, json.RawMessage(`{"data":"raw"}`)); string(e.Data) != `"raw"` {
		t.Errorf("json.RawMessage event: data %s", e.Data)
	}
	if e := invokeEcho(t, f, []byte(`{"data":{"k":1}}`)); string(e.Data) != `{"k":1}` {
		t.Errorf("[]byte event: data %s", e.Data)
	}

	// The test's own environment does not leak in; the region can be set.
	g := Start(t, bootstrap, map[string]string{"AWS_REGION": "eu-west-1"})
	e = invokeEcho(t, g, struct{}{})
	if e.Greeting != "" || e.Region != "eu-west-1" || e.Function != "echo" {
		t.Errorf("function saw GREETING %q, region %q, name %q; want none, eu-west-1, echo (its directory)", e.Greeting, e.Region, e.Function)
	}
}

func TestErrorsAndCrashes(t *testing.T) {
	t.Parallel()
	f := Start(t, fixture(t, "echo"), nil)

	first := invokeEcho(t, f, map[string]any{"print": "a line from the handler"})
	if !strings.Contains(f.Logs(), "a line from the handler") {
		t.Errorf("the function's stdout is not in Logs:\n%s", f.Logs())
	}

	body, err := f.Invoke(ctx(t), map[string]any{"fail": "boom"})
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.StatusCode != 200 || fe.Message != "boom" || fe.Type != "errorString" {
		t.Fatalf("handler error: got %v (%#v), want a FunctionError with message boom", err, fe)
	}
	if !strings.Contains(string(body), `"errorMessage":"boom"`) {
		t.Errorf("handler error: body %s", body)
	}

	// A result that merely has an errorMessage field is a result.
	if _, err := f.Invoke(ctx(t), map[string]any{"data": map[string]any{"errorMessage": "x", "errorType": "y"}}); err != nil {
		t.Errorf("result containing error-like fields: %v", err)
	}

	// A panic ends the runtime process; RIE answers 502 and starts a new one
	// on the next invoke, like Lambda.
	_, err = f.Invoke(ctx(t), map[string]any{"panic": true})
	if !errors.As(err, &fe) || fe.StatusCode != 502 || fe.Message != "asked to panic" {
		t.Fatalf("panic: got %v, want a 502 FunctionError", err)
	}
	after := invokeEcho(t, f, struct{}{})
	if after.PID == first.PID || after.Invokes != 1 {
		t.Errorf("after the crash: pid %d (was %d), invoke #%d; want a fresh process", after.PID, first.PID, after.Invokes)
	}
	// InitDuration stays the first cold start's.
	if _, ok := f.InitDuration(); !ok {
		t.Error("no InitDuration")
	}
}

func TestInvokesAreSerialized(t *testing.T) {
	t.Parallel()
	f := Start(t, fixture(t, "echo"), nil)
	const n = 8
	seen := make(chan int, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			b, err := f.Invoke(ctx(t), map[string]any{"data": i})
			if err != nil {
				errs <- err
				return
			}
			var e echoed
			if err := json.Unmarshal(b, &e); err != nil {
				errs <- err
				return
			}
			seen <- e.Invokes
		})
	}
	wg.Wait()
	close(seen)
	close(errs)
	// RIE answers an invoke that overlaps another with HTTP 400.
	for err := range errs {
		t.Errorf("concurrent invoke: %v", err)
	}
	counts := map[int]bool{}
	for c := range seen {
		counts[c] = true
	}
	if len(counts) != n {
		t.Errorf("the one runtime process counted invokes %v; want 1..%d, each once", counts, n)
	}
}

// An invoke given up by its caller still runs in RIE; the next one must
// wait for it rather than overlap it, which RIE does not survive.
func TestAbandonedInvoke(t *testing.T) {
	t.Parallel()
	f := Start(t, fixture(t, "echo"), nil)
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := f.Invoke(short, map[string]any{"sleep": "700ms"})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(began) > 600*time.Millisecond {
		t.Fatalf("abandoned invoke: %v after %v; want DeadlineExceeded when ctx ends", err, time.Since(began))
	}
	e := invokeEcho(t, f, struct{}{})
	if e.Invokes != 2 || time.Since(began) < 700*time.Millisecond {
		t.Errorf("next invoke was invoke #%d of the process, answered after %v; want #2, after the first finished", e.Invokes, time.Since(began))
	}
}

func TestTwoFunctionsAtOnce(t *testing.T) {
	t.Parallel()
	bootstrap := fixture(t, "echo")
	a := Start(t, bootstrap, map[string]string{"GREETING": "a"})
	b := Start(t, bootstrap, map[string]string{"GREETING": "b"})
	if a.URL() == b.URL() {
		t.Fatalf("both on %s", a.URL())
	}
	var ra, rb json.RawMessage
	var erra, errb error
	var wg sync.WaitGroup
	wg.Go(func() { ra, erra = a.Invoke(ctx(t), struct{}{}) })
	wg.Go(func() { rb, errb = b.Invoke(ctx(t), struct{}{}) })
	wg.Wait()
	if erra != nil || errb != nil {
		t.Fatalf("invokes: %v, %v", erra, errb)
	}
	var ea, eb echoed
	if err := errors.Join(json.Unmarshal(ra, &ea), json.Unmarshal(rb, &eb)); err != nil {
		t.Fatal(err)
	}
	if ea.Greeting != "a" || eb.Greeting != "b" || ea.PID == eb.PID {
		t.Errorf("a answered %+v, b answered %+v; want each its own process and environment", ea, eb)
	}
	if _, ok := a.InitDuration(); !ok {
		t.Error("a: no InitDuration")
	}
	if _, ok := b.InitDuration(); !ok {
		t.Error("b: no InitDuration")
	}
}

func TestStopEndsEverything(t *testing.T) {
	t.Parallel()
	f := Start(t, fixture(t, "echo"), nil)
	fn := invokeEcho(t, f, struct{}{}).PID
	rie := f.cmd.Process.Pid

	f.Stop()
	f.Stop() // idempotent
	for _, pid := range []int{rie, fn} {
		deadline := time.Now().Add(5 * time.Second)
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d still running after Stop", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if _, err := f.Invoke(ctx(t), struct{}{}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Invoke after Stop: %v, want ErrNotRunning", err)
	}
	// The output survives for inspection.
	if !strings.Contains(f.Logs(), "REPORT RequestId:") {
		t.Errorf("Logs after Stop:\n%s", f.Logs())
	}
}

// TestCleanupEndsEverything: a test that never calls Stop leaves nothing
// running once it ends.
func TestCleanupEndsEverything(t *testing.T) {
	bootstrap := fixture(t, "echo")
	var rie, fn int
	t.Run("user", func(t *testing.T) {
		f := Start(t, bootstrap, nil)
		fn = invokeEcho(t, f, struct{}{}).PID
		rie = f.cmd.Process.Pid
	})
	for _, pid := range []int{rie, fn} {
		deadline := time.Now().Add(5 * time.Second) // SIGKILL takes a moment
		for pid != 0 && alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if pid == 0 || alive(pid) {
			t.Errorf("process %d still running after the test that started it ended", pid)
		}
	}
}

func TestStartRefusesBadInput(t *testing.T) {
	Binary(t)
	notExec := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(notExec, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		bootstrap string
		env       map[string]string
		want      string
	}{
		"missing bootstrap": {filepath.Join(t.TempDir(), "none"), nil, "no such file"},
		"not executable":    {notExec, nil, "not an executable"},
		"a name with =":     {fixture(t, "echo"), map[string]string{"A=B": "c"}, `"A=B"`},
		"an empty name":     {fixture(t, "echo"), map[string]string{"": "c"}, `""`},
	} {
		r := &recorder{TB: t}
		run(func() { Start(r, c.bootstrap, c.env) })
		if r.kind != "fatal" || !strings.Contains(r.msg, c.want) {
			t.Errorf("%s: got %s %q, want a failure saying %s", name, r.kind, r.msg, c.want)
		}
	}
}

func TestFunc(t *testing.T) {
	t.Parallel()
	f := Start(t, fixture(t, "echo"), map[string]string{"GREETING": "typed"})
	type in struct {
		Data []int  `json:"data"`
		Fail string `json:"fail,omitempty"`
	}
	echo := Func[in, echoed](f)
	got, err := echo(ctx(t), in{Data: []int{3}})
	if err != nil || got.Greeting != "typed" || string(got.Data) != "[3]" {
		t.Fatalf("typed invoke: %+v, %v", got, err)
	}
	var fe *FunctionError
	if _, err := echo(ctx(t), in{Fail: "no"}); !errors.As(err, &fe) || fe.Message != "no" {
		t.Errorf("typed invoke of a failing handler: %v, want a FunctionError", err)
	}
	// A result that does not fit Out is an error naming it.
	if _, err := Func[in, []string](f)(ctx(t), in{}); err == nil || !strings.Contains(err.Error(), `"function":"echo"`) {
		t.Errorf("a result of the wrong shape: %v", err)
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && !strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z")
}

func TestMedian(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		var ds []time.Duration
		for _, x := range xs {
			ds = append(ds, time.Duration(x)*time.Millisecond)
		}
		return ds
	}
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{ms(7), 7 * time.Millisecond},
		{ms(9, 1, 5), 5 * time.Millisecond},
		{ms(4, 1, 3, 2), 2500 * time.Microsecond},
		{ms(2, 2, 100, 2), 2 * time.Millisecond},
	} {
		in := append([]time.Duration(nil), c.in...)
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
		for i := range in {
			if in[i] != c.in[i] {
				t.Errorf("Median reordered its argument: %v", c.in)
				break
			}
		}
	}
}

// TestColdStartBaselines measures the floor for docs/BENCHMARKS.md: the
// init of a bare aws-lambda-go function, and of one that also builds a
// DynamoDB client as every Signal function does. SIGNAL_COLDSTART_N raises
// the number of cold starts (default 5, to keep `make test` quick):
//
//	SIGNAL_COLDSTART_N=50 go test -run TestColdStartBaselines -v ./pkg/lambdatest/
//
// Run alone for figures: other packages' tests running alongside under
// `go test ./...` disturb them. It asserts only sanity.
func TestColdStartBaselines(t *testing.T) {
	n := 5
	if s := os.Getenv("SIGNAL_COLDSTART_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("SIGNAL_COLDSTART_N=%q: want a positive count", s)
		}
		n = v
	}
	// What Lambda gives a function: credentials in the environment, no
	// ~/.aws to read. The SDK's config loading then costs what it costs there.
	env := map[string]string{
		"HOME":                  t.TempDir(),
		"AWS_ACCESS_KEY_ID":     "test",
		"AWS_SECRET_ACCESS_KEY": "test",
		"AWS_SESSION_TOKEN":     "test",
	}
	type result struct {
		size   int64
		median time.Duration
		ds     []time.Duration
	}
	results := map[string]result{}
	for _, name := range []string{"hello", "ddbclient"} {
		bootstrap := fixture(t, name)
		fi, err := os.Stat(bootstrap)
		if err != nil {
			t.Fatal(err)
		}
		ds := ColdStarts(t, bootstrap, env, map[string]any{}, n)
		if len(ds) != n {
			t.Fatalf("%s: %d cold starts, want %d", name, len(ds), n)
		}
		for i, d := range ds {
			if d <= 0 {
				t.Errorf("%s: cold start %d took %v", name, i+1, d)
			}
		}
		r := result{size: fi.Size(), median: Median(ds), ds: ds}
		results[name] = r
		t.Logf("%-9s linux/%s binary %.2f MiB (%d bytes), init median %.2f ms over %d cold starts (min %.2f, max %.2f)",
			name, runtime.GOARCH, float64(r.size)/(1<<20), r.size, msf(r.median), n, msf(minDur(ds)), msf(maxDur(ds)))
	}
	if h, d := results["hello"], results["ddbclient"]; h.size >= d.size {
		t.Errorf("hello (%d bytes) is not smaller than ddbclient (%d bytes): did the SDK get linked into both?", h.size, d.size)
	}
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func minDur(ds []time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds {
		m = min(m, d)
	}
	return m
}

func maxDur(ds []time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
