package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// ---- view batches (signal.ViewBatcher) ----

func (s *suite) batchTests() []namedTest {
	return []namedTest{
		{"Applies", s.testBatchApplies},
		{"LoadCheckpoints", s.testBatchLoadCheckpoints},
		{"LoadCheckpointsInvalid", s.testBatchLoadInvalid},
		{"CheckpointsOnly", s.testBatchCheckpointsOnly},
		{"ConflictChangesNothing", s.testBatchConflict},
		{"InvalidChangesNothing", s.testBatchInvalid},
		{"Delete", s.testBatchDelete},
		{"ConcurrentBatchesOneWins", s.testBatchConcurrent},
	}
}

// The streams a batch moves beside the fixture's cart#c (at 2): cart#d,
// whose checkpoint setUpBatch puts at 5, and order#e, which has none.
var (
	batchD = signal.StreamID{Type: "cart", ID: "d"}
	batchE = signal.StreamID{Type: "order", ID: "e"}
)

// setUpBatch is setUpViews with subscriber "proj"'s checkpoint on batchD
// at 5.
func setUpBatch(t *testing.T, vb signal.ViewBatcher) viewFixture {
	t.Helper()
	f := setUpViews(t, vb)
	saveCheckpoint(t, vb, "proj", batchD, 0, 5)
	return f
}

// validBatch moves the three streams of setUpBatch and writes a document
// every cart shares (sku-sales/sku-1), one of the fixture's own
// (cart-summary/c1) and two new ones: every variation the tests make of
// it starts from a batch that works on its own.
func validBatch(f viewFixture) signal.ViewBatch {
	return signal.ViewBatch{
		Subscriber: "proj",
		Moves: []signal.CheckpointMove{
			{Stream: f.stream, From: 2, To: 4},
			{Stream: batchD, From: 5, To: 7},
			{Stream: batchE, From: 0, To: 1},
		},
		Writes: []signal.ViewWrite{
			{Name: "sku-sales", Key: "sku-1", Data: []byte(`{"units":5,"revenue":49.95}`), ExpectedVersion: 1},
			{Name: "cart-summary", Key: "c1", Data: []byte(`{"batched":"c"}`), ExpectedVersion: 1},
			{Name: "cart-summary", Key: "d", Data: []byte(`{"batched":"d"}`), ExpectedVersion: 0},
			{Name: "order-summary", Key: "e", Data: []byte(`{"batched":"e"}`), ExpectedVersion: 0},
		},
	}
}

// assertBatchUnchanged checks the store is as setUpBatch left it; when
// says what was tried since.
func assertBatchUnchanged(t *testing.T, vb signal.ViewBatcher, f viewFixture, when string) {
	t.Helper()
	f.assertUnchanged(t, vb, when)
	assertNoView(t, vb, "cart-summary", "d", when)
	assertNoView(t, vb, "order-summary", "e", when)
	assertFailure(t, vb, "proj", batchD, 5, nil, when)
	assertFailure(t, vb, "proj", batchE, 0, nil, when)
}

func commitBatch(t *testing.T, vb signal.ViewBatcher, b signal.ViewBatch) {
	t.Helper()
	if err := vb.CommitViewBatch(t.Context(), b); err != nil {
		t.Fatalf("CommitViewBatch(%q, %d moves, %d writes) = %v, want nil", b.Subscriber, len(b.Moves), len(b.Writes), err)
	}
}

func (s *suite) testBatchApplies(t *testing.T) {
	_, vb := ability[signal.ViewBatcher](t, s)
	f := setUpBatch(t, vb)
	b := validBatch(f)
	commitBatch(t, vb, b)
	for _, w := range b.Writes {
		assertView(t, vb, w.Name, w.Key, w.Data, w.ExpectedVersion+1, "after CommitViewBatch")
	}
	assertView(t, vb, "cart-summary", "c2", f.b, 1, "after a CommitViewBatch that did not write it")
	for _, m := range b.Moves {
		assertCheckpoint(t, vb, "proj", m.Stream, m.To)
	}

	// The next batch goes on from there, and so do CommitViews and
	// SaveCheckpoint: they share the checkpoints and the documents.
	commitBatch(t, vb, signal.ViewBatch{Subscriber: "proj", Moves: []signal.CheckpointMove{
		{Stream: batchE, From: 1, To: 3}, {Stream: batchD, From: 7, To: 8},
	}, Writes: []signal.ViewWrite{{Name: "sku-sales", Key: "sku-1", Data: f.c, ExpectedVersion: 2}}})
	assertView(t, vb, "sku-sales", "sku-1", f.c, 3, "after a second CommitViewBatch")
	commitViews(t, vb, signal.ViewCommit{Subscriber: "proj", Stream: batchE, From: 3, To: 4,
		Writes: []signal.ViewWrite{{Name: "sku-sales", Key: "sku-1", Data: f.a, ExpectedVersion: 3}}})
	saveCheckpoint(t, vb, "proj", batchD, 8, 9)
	err := vb.CommitViewBatch(t.Context(), signal.ViewBatch{Subscriber: "proj", Moves: []signal.CheckpointMove{{Stream: batchE, From: 3, To: 5}}})
	wantErr(t, err, signal.ErrConflict, "CommitViewBatch(From 3) after CommitViews moved it to 4")
	assertView(t, vb, "sku-sales", "sku-1", f.a, 4, "after CommitViews")
	assertCheckpoint(t, vb, "proj", batchE, 4)
	assertCheckpoint(t, vb, "proj", batchD, 9)
	assertCheckpoint(t, vb, "proj", f.stream, 4)
}

// assertCheckpoints checks LoadCheckpoints(sub, streams) against want
// and against LoadCheckpoint of each stream.
func assertCheckpoints(t *testing.T, vb signal.ViewBatcher, sub string, streams []signal.StreamID, want []signal.Checkpoint, when string) {
	t.Helper()
	got, err := vb.LoadCheckpoints(t.Context(), sub, streams)
	if err != nil {
		t.Fatalf("LoadCheckpoints(%q, %d streams) %s = %v", sub, len(streams), when, err)
	}
	if len(got) != len(streams) {
		t.Fatalf("LoadCheckpoints(%q, %d streams) %s returned %d checkpoints, want one per stream", sub, len(streams), when, len(got))
	}
	for i, id := range streams {
		what := fmt.Sprintf("LoadCheckpoints(%q)[%d] (%s) %s", sub, i, sname(id), when)
		if got[i].Version != want[i].Version {
			t.Errorf("%s.Version = %d, want %d", what, got[i].Version, want[i].Version)
		}
		switch {
		case want[i].Failure == nil && got[i].Failure != nil:
			t.Errorf("%s.Failure = %+v, want none", what, *got[i].Failure)
		case want[i].Failure != nil && got[i].Failure == nil:
			t.Errorf("%s.Failure = nil, want %+v", what, *want[i].Failure)
		case want[i].Failure != nil:
			sameFailure(t, *got[i].Failure, *want[i].Failure, what+".Failure")
		}
		assertFailure(t, vb, sub, id, want[i].Version, want[i].Failure, when)
	}
}

func (s *suite) testBatchLoadCheckpoints(t *testing.T) {
	_, vb := ability[signal.ViewBatcher](t, s)
	f := setUpBatch(t, vb)
	unknown := signal.StreamID{Type: "cart", ID: "never"}
	untouched := signal.StreamID{Type: "cart", ID: "untouched"}
	failedE, failedU := failure("proj", batchE, 1, 2, true), failure("proj", untouched, 1, 1, false)
	for _, rec := range []signal.Failure{failedE, failedU} {
		if err := vb.RecordFailure(t.Context(), rec); err != nil {
			t.Fatalf("RecordFailure(%s) = %v", sname(rec.Stream), err)
		}
	}
	saveCheckpoint(t, vb, "other", batchE, 0, 9) // another subscriber's: not proj's
	streams := []signal.StreamID{batchE, unknown, f.stream, batchD, untouched}
	assertCheckpoints(t, vb, "proj", streams, []signal.Checkpoint{
		{Version: 0, Failure: &failedE}, {}, {Version: 2}, {Version: 5}, {Version: 0, Failure: &failedU},
	}, "after RecordFailure")
	assertCheckpoints(t, vb, "proj", []signal.StreamID{batchD, f.stream, batchD}, []signal.Checkpoint{
		{Version: 5}, {Version: 2}, {Version: 5},
	}, "with a stream named twice, in another order")
	assertCheckpoints(t, vb, "proj", nil, nil, "of no streams")

	commitBatch(t, vb, validBatch(f))
	assertCheckpoints(t, vb, "proj", streams, []signal.Checkpoint{
		{Version: 1}, {}, {Version: 4}, {Version: 7}, {Version: 0, Failure: &failedU},
	}, "after a CommitViewBatch moved all but the untouched stream")
	assertCheckpoints(t, vb, "other", []signal.StreamID{batchE, f.stream}, []signal.Checkpoint{{Version: 9}, {}},
		"of another subscriber")
}

func (s *suite) testBatchLoadInvalid(t *testing.T) {
	_, vb := ability[signal.ViewBatcher](t, s)
	good := signal.StreamID{Type: "cart", ID: "c1"}
	for _, tc := range invalidCheckpoints {
		streams := []signal.StreamID{good, tc.stream}
		_, err := vb.LoadCheckpoints(t.Context(), tc.subscriber, streams)
		wantErr(t, err, signal.ErrInvalid, "LoadCheckpoints with %s", tc.name)
	}
}

func (s *suite) testBatchCheckpointsOnly(t *testing.T) {
	_, vb := ability[signal.ViewBatcher](t, s)
	f := setUpBatch(t, vb)
	commitBatch(t, vb, signal.ViewBatch{Subscriber: "proj", Moves: []signal.CheckpointMove{
		{Stream: batchD, From: 5, To: 6}, {Stream: batchE, From: 0, To: 2},
	}})
	f.assertUnchanged(t, vb, "after a CommitViewBatch with no writes")
	assertCheckpoint(t, vb, "proj", batchD, 6)
	assertCheckpoint(t, vb, "proj", batchE, 2)
	saveCheckpoint(t, vb, "proj", batchE, 2, 3)
	assertCheckpoint(t, vb, "proj", batchE, 3)
}

// badBatches are variations of validBatch a store must refuse, with the
// error it must refuse them with; the store must then be unchanged.
var badBatches = []struct {
	name   string
	change func(b *signal.ViewBatch)
	want   error
}{
	{"the first move's From behind", func(b *signal.ViewBatch) { b.Moves[0].From = 1 }, signal.ErrConflict},
	{"one move's From behind", func(b *signal.ViewBatch) { b.Moves[1].From = 4 }, signal.ErrConflict},
	{"one move's From ahead", func(b *signal.ViewBatch) { b.Moves[1].From = 6 }, signal.ErrConflict},
	{"the last move's From ahead of no checkpoint", func(b *signal.ViewBatch) { b.Moves[2].From, b.Moves[2].To = 1, 2 }, signal.ErrConflict},
	{"a stale ExpectedVersion of a shared document", func(b *signal.ViewBatch) { b.Writes[0].ExpectedVersion = 0 }, signal.ErrConflict},
	{"an ExpectedVersion ahead of a document", func(b *signal.ViewBatch) { b.Writes[1].ExpectedVersion = 2 }, signal.ErrConflict},
	{"an ExpectedVersion for a missing document", func(b *signal.ViewBatch) { b.Writes[3].ExpectedVersion = 1 }, signal.ErrConflict},
	{"a stale delete", func(b *signal.ViewBatch) {
		b.Writes = append(b.Writes, signal.ViewWrite{Name: "cart-summary", Key: "c2", Data: nil, ExpectedVersion: 2})
	}, signal.ErrConflict},
	{"no moves", func(b *signal.ViewBatch) { b.Moves = nil }, signal.ErrInvalid},
	{"a stream moved twice", func(b *signal.ViewBatch) {
		b.Moves = append(b.Moves, signal.CheckpointMove{Stream: batchD, From: 7, To: 8})
	}, signal.ErrInvalid},
	{"a checkpoint standing still", func(b *signal.ViewBatch) { b.Moves[1].To = 5 }, signal.ErrInvalid},
	{"a checkpoint going back", func(b *signal.ViewBatch) { b.Moves[1].To = 4 }, signal.ErrInvalid},
	{"an invalid subscriber", func(b *signal.ViewBatch) { b.Subscriber = "pro#j" }, signal.ErrInvalid},
	{"an invalid stream", func(b *signal.ViewBatch) { b.Moves[2].Stream.ID = "e/1" }, signal.ErrInvalid},
	{"an invalid view name", func(b *signal.ViewBatch) { b.Writes[3].Name = "9view" }, signal.ErrInvalid},
	{"an invalid view key", func(b *signal.ViewBatch) { b.Writes[3].Key = "a/b" }, signal.ErrInvalid},
	{"an empty view key", func(b *signal.ViewBatch) { b.Writes[3].Key = "" }, signal.ErrInvalid},
	{"a document written twice", func(b *signal.ViewBatch) { b.Writes = append(b.Writes, b.Writes[0]) }, signal.ErrInvalid},
	{"a document over MaxCommitBytes", func(b *signal.ViewBatch) { b.Writes[3].Data = jsonBlob(signal.MaxCommitBytes + 1) }, signal.ErrTooLarge},
}

func (s *suite) testBatchConflict(t *testing.T) { s.testBadBatches(t, signal.ErrConflict) }

func (s *suite) testBatchInvalid(t *testing.T) {
	s.testBadBatches(t, signal.ErrInvalid)
	s.testBadBatches(t, signal.ErrTooLarge)
}

// testBadBatches tries the badBatches refused with want, each on a store
// of its own, and checks that nothing was written.
func (s *suite) testBadBatches(t *testing.T, want error) {
	for _, tc := range badBatches {
		if tc.want != want {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			_, vb := ability[signal.ViewBatcher](t, s)
			f := setUpBatch(t, vb)
			b := validBatch(f)
			tc.change(&b)
			err := vb.CommitViewBatch(t.Context(), b)
			wantErr(t, err, want, "CommitViewBatch with %s", tc.name)
			assertBatchUnchanged(t, vb, f, "after a CommitViewBatch with "+tc.name)
		})
	}
}

func (s *suite) testBatchDelete(t *testing.T) {
	_, vb := ability[signal.ViewBatcher](t, s)
	f := setUpBatch(t, vb)
	commitBatch(t, vb, signal.ViewBatch{Subscriber: "proj", Moves: []signal.CheckpointMove{
		{Stream: f.stream, From: 2, To: 3}, {Stream: batchD, From: 5, To: 6},
	}, Writes: []signal.ViewWrite{
		{Name: "cart-summary", Key: "c2", Data: nil, ExpectedVersion: 1},
		// Deleting a document that does not exist is a no-op.
		{Name: "cart-summary", Key: "c7", Data: nil, ExpectedVersion: 0},
		{Name: "cart-summary", Key: "d", Data: []byte(`{"d":1}`), ExpectedVersion: 0},
	}})
	assertNoView(t, vb, "cart-summary", "c2", "after a CommitViewBatch deleted it")
	assertNoView(t, vb, "cart-summary", "c7", "after a CommitViewBatch deleted it")
	assertView(t, vb, "cart-summary", "d", []byte(`{"d":1}`), 1, "after the CommitViewBatch that deleted c2")
	assertView(t, vb, "cart-summary", "c1", f.a, 1, "after a CommitViewBatch that did not write it")
	assertCheckpoint(t, vb, "proj", f.stream, 3)
	assertCheckpoint(t, vb, "proj", batchD, 6)

	// A deleted document is new again.
	commitBatch(t, vb, signal.ViewBatch{Subscriber: "proj", Moves: []signal.CheckpointMove{{Stream: batchE, From: 0, To: 1}},
		Writes: []signal.ViewWrite{{Name: "cart-summary", Key: "c2", Data: f.b, ExpectedVersion: 0}}})
	v, err := vb.LoadView(t.Context(), "cart-summary", "c2")
	if err != nil || v.Version < 1 {
		t.Errorf("LoadView of a document re-created by a batch = version %d, %v; want a version >= 1", v.Version, err)
	}
}

// testBatchConcurrent: batches racing from the same checkpoint, each
// also moving a stream and writing a document of its own: one wins, and
// the others write nothing at all, their own stream and document neither.
func (s *suite) testBatchConcurrent(t *testing.T) {
	const workers = 8
	_, vb := ability[signal.ViewBatcher](t, s)
	shared := signal.StreamID{Type: "cart", ID: "batch-race"}
	own := func(w int) signal.StreamID { return signal.StreamID{Type: "cart", ID: fmt.Sprint("own-", w)} }
	data := func(w int) []byte { return fmt.Appendf(nil, `{"worker":%d}`, w) }
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			errs[w] = vb.CommitViewBatch(t.Context(), signal.ViewBatch{Subscriber: "proj",
				Moves: []signal.CheckpointMove{{Stream: own(w), From: 0, To: 1}, {Stream: shared, From: 0, To: 1}},
				Writes: []signal.ViewWrite{
					{Name: "cart-summary", Key: fmt.Sprint("only-", w), Data: data(w)},
					{Name: "cart-summary", Key: "race", Data: data(w)},
				}})
		})
	}
	wg.Wait()
	winner := raceWinner(t, errs, "CommitViewBatch")
	assertView(t, vb, "cart-summary", "race", data(winner), 1)
	for w := range workers {
		if w == winner {
			assertView(t, vb, "cart-summary", fmt.Sprint("only-", w), data(w), 1)
			assertCheckpoint(t, vb, "proj", own(w), 1)
		} else {
			assertNoView(t, vb, "cart-summary", fmt.Sprint("only-", w), "of a batch that lost")
			assertCheckpoint(t, vb, "proj", own(w), 0)
		}
	}
	assertCheckpoint(t, vb, "proj", shared, 1)
}
