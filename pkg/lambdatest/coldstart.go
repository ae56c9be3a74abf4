package lambdatest

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"
)

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// InitDuration returns the cold start of the first init: from RIE starting
// the bootstrap to the function asking for its first event, the span Lambda
// reports as Init Duration. It is false before the first invoke, and when
// RIE wrote no such line within 2 s of it (a LOG_LEVEL above info hides it).
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

// ColdStarts measures n cold starts of bootstrap: each time a fresh RIE, one
// invoke of event, and the Init Duration (see InitDuration); each RIE is
// stopped before the next starts, so that they do not disturb each other's
// timings. It returns the n durations in the order measured (none for n < 1).
// A failed invoke, or one without an init report, fails the test; so does
// anything that fails Start.
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
