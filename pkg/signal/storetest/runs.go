package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// ---- views: bad input, failures, and runs of any size ----

func (s *suite) testViewInvalid(t *testing.T) {
	_, vs := ability[signal.ViewStore](t, s)
	f := setUpViews(t, vs)
	doc := []byte(`{"bad":true}`)
	good := signal.ViewWrite{Name: "cart-summary", Key: "c9", Data: doc}
	cases := []struct {
		name   string
		commit signal.ViewCommit
	}{
		{"a view name starting with a digit", signal.ViewCommit{Writes: []signal.ViewWrite{good, {Name: "9view", Key: "k", Data: doc}}}},
		{"a view name with '#'", signal.ViewCommit{Writes: []signal.ViewWrite{good, {Name: "vi#ew", Key: "k", Data: doc}}}},
		{"an empty view key", signal.ViewCommit{Writes: []signal.ViewWrite{good, {Name: "cart-summary", Key: "", Data: doc}}}},
		{"a view key with '/'", signal.ViewCommit{Writes: []signal.ViewWrite{good, {Name: "cart-summary", Key: "a/b", Data: doc}}}},
		{"a view key with NUL", signal.ViewCommit{Writes: []signal.ViewWrite{good, {Name: "cart-summary", Key: "a\x00b", Data: doc}}}},
		{"a view key of invalid UTF-8", signal.ViewCommit{Writes: []signal.ViewWrite{good, {Name: "cart-summary", Key: "a\xffb", Data: doc}}}},
		{"a document written twice", signal.ViewCommit{Writes: []signal.ViewWrite{good, good}}},
		{"a checkpoint that does not move", signal.ViewCommit{To: 2, Writes: []signal.ViewWrite{good}}},
	}
	for _, tc := range invalidCheckpoints {
		cases = append(cases, struct {
			name   string
			commit signal.ViewCommit
		}{tc.name, signal.ViewCommit{Subscriber: tc.subscriber, Stream: tc.stream, Writes: []signal.ViewWrite{good}}})
	}
	for _, tc := range cases {
		c := tc.commit
		if c.Subscriber == "" && c.Stream == (signal.StreamID{}) {
			c.Subscriber, c.Stream = "proj", f.stream
		}
		c.From = 2
		if c.To == 0 {
			c.To = 3
		}
		err := vs.CommitViews(t.Context(), c)
		wantErr(t, err, signal.ErrInvalid, "CommitViews with %s", tc.name)
		f.assertUnchanged(t, vs, "after CommitViews with "+tc.name)
	}
}

func (s *suite) testViewClearsFailure(t *testing.T) {
	_, vs := ability[signal.ViewStore](t, s)
	f := setUpViews(t, vs)
	rec := failure("proj", f.stream, 3, 2, true)
	if err := vs.RecordFailure(t.Context(), rec); err != nil {
		t.Fatalf("RecordFailure = %v", err)
	}
	assertFailure(t, vs, "proj", f.stream, 2, &rec, "after RecordFailure")
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 2, To: 4, Writes: []signal.ViewWrite{
		{Name: "cart-summary", Key: "c1", Data: []byte(`{"fixed":true}`), ExpectedVersion: 1},
	}})
	assertFailure(t, vs, "proj", f.stream, 4, nil, "after CommitViews moved the checkpoint")
}

// run builds a commit of n writes: documents k0..k(n-1) of view "bulk",
// each created (ExpectedVersion 0) or updated from version v.
func bulkWrites(n int, tag string, v int64) []signal.ViewWrite {
	ws := make([]signal.ViewWrite, n)
	for i := range ws {
		ws[i] = signal.ViewWrite{Name: "bulk", Key: fmt.Sprint("k", i), Data: bulkDoc(tag, i), ExpectedVersion: v}
	}
	return ws
}

func bulkDoc(tag string, i int) []byte { return fmt.Appendf(nil, `{"tag":%q,"i":%d}`, tag, i) }

// assertBulk checks documents k0..k(n-1): each holds want(i) at version
// v(i), or is missing when want(i) is nil.
func assertBulk(t *testing.T, vs signal.ViewStore, n int, want func(i int) ([]byte, int64), when string) {
	t.Helper()
	bad := 0
	for i := range n {
		data, version := want(i)
		v, err := vs.LoadView(t.Context(), "bulk", fmt.Sprint("k", i))
		var ok bool
		if data == nil {
			ok = err != nil && signal.KindOf(err) == signal.KindNotFound
		} else {
			ok = err == nil && bytes.Equal(v.Data, data) && v.Version == version
		}
		if !ok && bad < 5 {
			t.Errorf("bulk/k%d %s = version %d, %s, %v; want version %d, %s", i, when, v.Version, showBytes(v.Data), err, version, showBytes(data))
		}
		if !ok {
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d bulk documents are wrong %s", bad, n, when)
	}
}

// testViewLargeRun: a run of 1,000 document writes, then one of 300
// mixing updates, deletes and creations, each applied whole: DynamoDB's
// transactions hold 100 items, so a store may need several steps, but the
// effect is one commit.
func (s *suite) testViewLargeRun(t *testing.T) {
	const n = 1000
	_, vs := ability[signal.ViewStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "large"}
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: stream, From: 0, To: 1, Writes: bulkWrites(n, "first", 0)})
	assertCheckpoint(t, vs, "proj", stream, 1)
	assertBulk(t, vs, n, func(i int) ([]byte, int64) { return bulkDoc("first", i), 1 }, "after a commit of 1,000 writes")

	// k0..k149 updated, k150..k199 deleted, k200..k999 untouched,
	// k1000..k1079 created, k1080..k1099 deleted while absent.
	var ws []signal.ViewWrite
	for i := range 150 {
		ws = append(ws, signal.ViewWrite{Name: "bulk", Key: fmt.Sprint("k", i), Data: bulkDoc("second", i), ExpectedVersion: 1})
	}
	for i := 150; i < 200; i++ {
		ws = append(ws, signal.ViewWrite{Name: "bulk", Key: fmt.Sprint("k", i), ExpectedVersion: 1})
	}
	for i := 1000; i < 1080; i++ {
		ws = append(ws, signal.ViewWrite{Name: "bulk", Key: fmt.Sprint("k", i), Data: bulkDoc("second", i)})
	}
	for i := 1080; i < 1100; i++ {
		ws = append(ws, signal.ViewWrite{Name: "bulk", Key: fmt.Sprint("k", i)})
	}
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: stream, From: 1, To: 7, Writes: ws})
	assertCheckpoint(t, vs, "proj", stream, 7)
	assertBulk(t, vs, 1100, func(i int) ([]byte, int64) {
		switch {
		case i < 150:
			return bulkDoc("second", i), 2
		case i < 200:
			return nil, 0
		case i < 1000:
			return bulkDoc("first", i), 1
		case i < 1080:
			return bulkDoc("second", i), 1
		}
		return nil, 0
	}, "after a commit of 300 mixed writes")
}

// testViewLargeRunStale: a large run that must fail, on its last document
// or on its checkpoint, writes nothing and leaves nothing in the way.
func (s *suite) testViewLargeRunStale(t *testing.T) {
	const n = 120
	_, vs := ability[signal.ViewStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "large-stale"}
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: stream, From: 0, To: 1, Writes: bulkWrites(n, "first", 0)})
	first := func(i int) ([]byte, int64) { return bulkDoc("first", i), 1 }

	stale := bulkWrites(n, "stale", 1)
	stale[n-1].ExpectedVersion = 2
	err := vs.CommitViews(t.Context(), signal.ViewCommit{Subscriber: "proj", Stream: stream, From: 1, To: 2, Writes: stale})
	wantErr(t, err, signal.ErrConflict, "CommitViews of %d writes, the last at a stale version", n)
	assertBulk(t, vs, n, first, "after a large CommitViews with a stale document")
	assertCheckpoint(t, vs, "proj", stream, 1)

	moved := bulkWrites(n, "moved", 1)
	err = vs.CommitViews(t.Context(), signal.ViewCommit{Subscriber: "proj", Stream: stream, From: 0, To: 2, Writes: moved})
	wantErr(t, err, signal.ErrConflict, "CommitViews of %d writes from a checkpoint that moved", n)
	assertBulk(t, vs, n, first, "after a large CommitViews from a moved checkpoint")
	assertCheckpoint(t, vs, "proj", stream, 1)

	// Nothing is left locked: the same documents commit now, in a large
	// run and in a small one.
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: stream, From: 1, To: 2, Writes: bulkWrites(n, "third", 1)})
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: stream, From: 2, To: 3, Writes: bulkWrites(10, "fourth", 2)})
	assertBulk(t, vs, n, func(i int) ([]byte, int64) {
		if i < 10 {
			return bulkDoc("fourth", i), 3
		}
		return bulkDoc("third", i), 2
	}, "after the valid commits")
}

// testViewLargeRunBytes: fewer than 100 documents but more than
// DynamoDB's 4 MB of one transaction.
func (s *suite) testViewLargeRunBytes(t *testing.T) {
	const n = 20
	_, vs := ability[signal.ViewStore](t, s)
	stream := signal.StreamID{Type: "cart", ID: "large-bytes"}
	ws := make([]signal.ViewWrite, n)
	for i := range ws {
		ws[i] = signal.ViewWrite{Name: "bulk", Key: fmt.Sprint("k", i), Data: jsonBlob(300*1024 + i)}
	}
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: stream, From: 0, To: 1, Writes: ws})
	assertBulk(t, vs, n, func(i int) ([]byte, int64) { return jsonBlob(300*1024 + i), 1 }, "after a commit of 6 MB")
	assertCheckpoint(t, vs, "proj", stream, 1)
}

func (s *suite) testViewRunLimits(t *testing.T) {
	_, vs := ability[signal.ViewStore](t, s)
	f := setUpViews(t, vs)
	err := vs.CommitViews(t.Context(), signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 2, To: 3, Writes: bulkWrites(signal.MaxViewWrites+1, "over", 0)})
	wantErr(t, err, signal.ErrTooLarge, "CommitViews of MaxViewWrites+1 writes")
	f.assertUnchanged(t, vs, "after a CommitViews of too many writes")
	assertNoView(t, vs, "bulk", "k0", "after a CommitViews of too many writes")

	blob := jsonBlob(signal.MaxCommitBytes)
	ws := make([]signal.ViewWrite, signal.MaxViewRunBytes/len(blob)+1)
	for i := range ws {
		ws[i] = signal.ViewWrite{Name: "bulk", Key: fmt.Sprint("k", i), Data: blob}
	}
	err = vs.CommitViews(t.Context(), signal.ViewCommit{Subscriber: "proj", Stream: f.stream, From: 2, To: 3, Writes: ws})
	wantErr(t, err, signal.ErrTooLarge, "CommitViews of more than MaxViewRunBytes")
	f.assertUnchanged(t, vs, "after a CommitViews of too many bytes")
	assertNoView(t, vs, "bulk", "k0", "after a CommitViews of too many bytes")
}

// testViewLargeRunsRacing: large runs of several streams write the same
// documents at once, each from the versions it read. At most one wins;
// the documents are all the winner's, never a mix; no lock is left.
func (s *suite) testViewLargeRunsRacing(t *testing.T) {
	const n, workers = 120, 4
	_, vs := ability[signal.ViewStore](t, s)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			errs[w] = vs.CommitViews(t.Context(), signal.ViewCommit{Subscriber: "proj", Stream: signal.StreamID{Type: "cart", ID: fmt.Sprint("racer-", w)},
				From: 0, To: 1, Writes: bulkWrites(n, fmt.Sprint("worker-", w), 0)})
		})
	}
	wg.Wait()
	winner := -1
	for w, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("workers %d and %d both committed runs creating the same documents; at most one may", winner, w)
		case err == nil:
			winner = w
		default:
			wantErr(t, err, signal.ErrConflict, "CommitViews of worker %d racing others", w)
		}
	}
	tag, version := "", int64(1)
	if winner >= 0 {
		tag = fmt.Sprint("worker-", winner)
	}
	assertBulk(t, vs, n, func(i int) ([]byte, int64) {
		if winner < 0 {
			return nil, 0
		}
		return bulkDoc(tag, i), version
	}, "after racing large runs")
	for w := range workers {
		want := int64(0)
		if w == winner {
			want = 1
		}
		assertCheckpoint(t, vs, "proj", signal.StreamID{Type: "cart", ID: fmt.Sprint("racer-", w)}, want)
	}
	// No lock is left behind: a run over the same documents commits.
	from := int64(0)
	if winner < 0 {
		winner, from = 0, 0
	} else {
		from = 1
	}
	commitViews(t, vs, signal.ViewCommit{Subscriber: "proj", Stream: signal.StreamID{Type: "cart", ID: fmt.Sprint("racer-", winner)},
		From: from, To: from + 1, Writes: bulkWrites(n, "after", from)})
}
