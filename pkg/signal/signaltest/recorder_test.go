package signaltest_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that records the failures the kit reports
// instead of failing the test, so the tests can check them. Fatalf stops
// the scenario as testing does: with runtime.Goexit, in the goroutine run
// gives it.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatal  string
	done   bool // the scenario ran to its end
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fail()             { r.Errorf("Fail called") }
func (r *recorder) FailNow()          { r.Fatalf("FailNow called") }

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errors) > 0 || r.fatal != ""
}

// run runs scenario against a recorder in a goroutine of its own.
func run(t *testing.T, scenario func(t testing.TB)) *recorder {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		scenario(r)
		r.done = true
	}()
	<-done
	return r
}

// wantError checks that the scenario ran to its end and reported exactly
// one failure (Errorf), containing every part.
func (r *recorder) wantError(t *testing.T, parts ...string) {
	t.Helper()
	if r.fatal != "" {
		t.Fatalf("want one Errorf, got Fatalf:\n%s", r.fatal)
	}
	if !r.done {
		t.Fatalf("the scenario did not run to its end")
	}
	if len(r.errors) != 1 {
		t.Fatalf("want one failure, got %d:\n%s", len(r.errors), strings.Join(r.errors, "\n---\n"))
	}
	t.Log("\n" + r.errors[0])
	contains(t, r.errors[0], parts...)
}

// wantFatal checks that the scenario was stopped by a Fatalf containing
// every part, after no other failure.
func (r *recorder) wantFatal(t *testing.T, parts ...string) {
	t.Helper()
	if r.done || r.fatal == "" {
		t.Fatalf("want the scenario stopped by Fatalf; failures: %q", r.errors)
	}
	if len(r.errors) > 0 {
		t.Errorf("want only the Fatalf, got also:\n%s", strings.Join(r.errors, "\n---\n"))
	}
	t.Log("\n" + r.fatal)
	contains(t, r.fatal, parts...)
}

func (r *recorder) wantNothing(t *testing.T) {
	t.Helper()
	if !r.done || r.fatal != "" || len(r.errors) > 0 {
		t.Fatalf("want no failure, got:\n%s\n%s", strings.Join(r.errors, "\n---\n"), r.fatal)
	}
}

func contains(t *testing.T, msg string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("the failure does not contain %q:\n%s", p, msg)
		}
	}
}
