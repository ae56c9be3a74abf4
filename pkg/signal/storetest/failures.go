package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// ---- checkpoints: bad input and recorded failures ----

// invalidCheckpoints are subscriber and stream names every
// CheckpointStore method refuses with ErrInvalid.
var invalidCheckpoints = []struct {
	name       string
	subscriber string
	stream     signal.StreamID
}{
	{"empty subscriber", "", signal.StreamID{Type: "cart", ID: "c1"}},
	{"subscriber starting with a digit", "1proj", signal.StreamID{Type: "cart", ID: "c1"}},
	{"subscriber with '#'", "pro#j", signal.StreamID{Type: "cart", ID: "c1"}},
	{"subscriber with NUL", "pro\x00j", signal.StreamID{Type: "cart", ID: "c1"}},
	{"empty stream type", "proj", signal.StreamID{Type: "", ID: "c1"}},
	{"stream type with '#'", "proj", signal.StreamID{Type: "ca#rt", ID: "c1"}},
	{"empty stream id", "proj", signal.StreamID{Type: "cart", ID: ""}},
	{"stream id with '/'", "proj", signal.StreamID{Type: "cart", ID: "c/1"}},
	{"stream id with NUL", "proj", signal.StreamID{Type: "cart", ID: "c\x001"}},
	{"stream id of invalid UTF-8", "proj", signal.StreamID{Type: "cart", ID: "c\xff"}},
}

func (s *suite) testCheckpointInvalid(t *testing.T) {
	_, cs := ability[signal.CheckpointStore](t, s)
	for _, tc := range invalidCheckpoints {
		_, err := cs.LoadCheckpoint(t.Context(), tc.subscriber, tc.stream)
		wantErr(t, err, signal.ErrInvalid, "LoadCheckpoint with %s", tc.name)
		err = cs.SaveCheckpoint(t.Context(), tc.subscriber, tc.stream, 0, 1)
		wantErr(t, err, signal.ErrInvalid, "SaveCheckpoint with %s", tc.name)
		err = cs.RecordFailure(t.Context(), failure(tc.subscriber, tc.stream, 1, 1, false))
		wantErr(t, err, signal.ErrInvalid, "RecordFailure with %s", tc.name)
	}
	fs, err := cs.Failures(t.Context())
	if err != nil || len(fs) != 0 {
		t.Errorf("Failures() after refused writes = %v, %v; want none", fs, err)
	}
}

func failure(sub string, stream signal.StreamID, version int64, attempts int, parked bool) signal.Failure {
	return signal.Failure{Subscriber: sub, Stream: stream, Version: version, Attempts: attempts, Parked: parked,
		Error: fmt.Sprintf("%s failed on %s at %d (attempt %d): ünïcode ✓", sub, stream, version, attempts),
		Time:  time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC).Add(time.Duration(attempts) * time.Second)}
}

func assertFailure(t *testing.T, cs signal.CheckpointStore, sub string, stream signal.StreamID, version int64, want *signal.Failure, when string) {
	t.Helper()
	cp, err := cs.LoadCheckpoint(t.Context(), sub, stream)
	if err != nil {
		t.Fatalf("LoadCheckpoint(%q, %s) %s = %v", sub, sname(stream), when, err)
	}
	if cp.Version != version {
		t.Errorf("LoadCheckpoint(%q, %s).Version %s = %d, want %d", sub, sname(stream), when, cp.Version, version)
	}
	switch {
	case want == nil && cp.Failure != nil:
		t.Errorf("LoadCheckpoint(%q, %s).Failure %s = %+v, want none", sub, sname(stream), when, *cp.Failure)
	case want != nil && cp.Failure == nil:
		t.Errorf("LoadCheckpoint(%q, %s).Failure %s = nil, want %+v", sub, sname(stream), when, *want)
	case want != nil:
		sameFailure(t, *cp.Failure, *want, fmt.Sprintf("LoadCheckpoint(%q, %s).Failure %s", sub, sname(stream), when))
	}
}

func sameFailure(t *testing.T, got, want signal.Failure, what string) {
	t.Helper()
	if !got.Time.Equal(want.Time) {
		t.Errorf("%s.Time = %v, want %v", what, got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func (s *suite) testFailureRecorded(t *testing.T) {
	_, cs := ability[signal.CheckpointStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "f1"}
	// A failure on the very first event: the checkpoint is 0, and absent.
	first := failure("proj", stream, 1, 1, false)
	if err := cs.RecordFailure(t.Context(), first); err != nil {
		t.Fatalf("RecordFailure(version 1) with no checkpoint = %v, want nil", err)
	}
	assertFailure(t, cs, "proj", stream, 0, &first, "after RecordFailure")
	assertFailure(t, cs, "other", stream, 0, nil, "of another subscriber")

	parked := failure("proj", stream, 1, 2, true)
	if err := cs.RecordFailure(t.Context(), parked); err != nil {
		t.Fatalf("RecordFailure replacing a failure = %v, want nil", err)
	}
	assertFailure(t, cs, "proj", stream, 0, &parked, "after a second RecordFailure")

	// Moving the checkpoint clears the failure.
	saveCheckpoint(t, cs, "proj", stream, 0, 3)
	assertFailure(t, cs, "proj", stream, 3, nil, "after SaveCheckpoint moved it")
	later := failure("proj", stream, 4, 1, false)
	if err := cs.RecordFailure(t.Context(), later); err != nil {
		t.Fatalf("RecordFailure(version 4) at checkpoint 3 = %v, want nil", err)
	}
	assertFailure(t, cs, "proj", stream, 3, &later, "after RecordFailure at 4")
	// The checkpoint still moves from where it is.
	saveCheckpoint(t, cs, "proj", stream, 3, 5)
	assertFailure(t, cs, "proj", stream, 5, nil, "after SaveCheckpoint cleared the failure at 4")
}

func (s *suite) testFailureConflict(t *testing.T) {
	_, cs := ability[signal.CheckpointStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "f2"}
	saveCheckpoint(t, cs, "proj", stream, 0, 3)
	for _, v := range []int64{1, 3, 5} {
		err := cs.RecordFailure(t.Context(), failure("proj", stream, v, 1, true))
		wantErr(t, err, signal.ErrConflict, "RecordFailure(version %d) with the checkpoint at 3", v)
	}
	assertFailure(t, cs, "proj", stream, 3, nil, "after refused RecordFailures")
	fs, err := cs.Failures(t.Context())
	if err != nil || len(fs) != 0 {
		t.Errorf("Failures() after refused RecordFailures = %v, %v; want none", fs, err)
	}
}

func (s *suite) testFailuresListed(t *testing.T) {
	_, cs := ability[signal.CheckpointStore](t, s)
	want := map[string]signal.Failure{}
	for i, sub := range []string{"proj", "policy", "proj2"} {
		for j, id := range []string{"a", "ab", "b ü"} {
			stream := signal.StreamID{Type: "cart", ID: id}
			if (i+j)%3 == 0 {
				saveCheckpoint(t, cs, sub, stream, 0, 2) // a healthy checkpoint: not listed
				continue
			}
			if j == 2 {
				saveCheckpoint(t, cs, sub, stream, 0, 6)
			}
			cp, err := cs.LoadCheckpoint(t.Context(), sub, stream)
			if err != nil {
				t.Fatal(err)
			}
			f := failure(sub, stream, cp.Version+1, i+1, i == 1)
			if err := cs.RecordFailure(t.Context(), f); err != nil {
				t.Fatalf("RecordFailure(%q, %s) = %v", sub, sname(stream), err)
			}
			want[sub+"/"+id] = f
		}
	}
	got, err := cs.Failures(t.Context())
	if err != nil {
		t.Fatalf("Failures() = %v", err)
	}
	if len(got) != len(want) {
		t.Errorf("Failures() returned %d failures, want %d: %+v", len(got), len(want), got)
	}
	for _, f := range got {
		w, ok := want[f.Subscriber+"/"+f.Stream.ID]
		if !ok {
			t.Errorf("Failures() returned %+v, which was never recorded", f)
			continue
		}
		sameFailure(t, f, w, fmt.Sprintf("Failures() entry for %q on %s", f.Subscriber, sname(f.Stream)))
	}
}

func (s *suite) testFailureInvalid(t *testing.T) {
	_, cs := ability[signal.CheckpointStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "f3"}
	cases := []struct {
		name   string
		change func(f *signal.Failure)
	}{
		{"version 0", func(f *signal.Failure) { f.Version = 0 }},
		{"no attempt", func(f *signal.Failure) { f.Attempts = 0 }},
		{"an error over MaxFailureBytes", func(f *signal.Failure) { f.Error = strings.Repeat("x", signal.MaxFailureBytes+1) }},
		{"an error with NUL", func(f *signal.Failure) { f.Error = "bad\x00text" }},
		{"an error of invalid UTF-8", func(f *signal.Failure) { f.Error = "bad\xfftext" }},
	}
	for _, tc := range cases {
		f := failure("proj", stream, 1, 1, false)
		tc.change(&f)
		err := cs.RecordFailure(t.Context(), f)
		wantErr(t, err, signal.ErrInvalid, "RecordFailure with %s", tc.name)
	}
	assertFailure(t, cs, "proj", stream, 0, nil, "after refused RecordFailures")
	ok := failure("proj", stream, 1, 1, false)
	ok.Error = strings.Repeat("é", signal.MaxFailureBytes/2)
	if err := cs.RecordFailure(t.Context(), ok); err != nil {
		t.Fatalf("RecordFailure with an error of exactly MaxFailureBytes = %v, want nil", err)
	}
	assertFailure(t, cs, "proj", stream, 0, &ok, "after RecordFailure with a long error")
}
