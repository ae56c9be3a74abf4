package signal

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Limits of one projection run: the document changes a projection makes
// for a run of one stream's events, committed with its checkpoint in one
// CommitViews. The dispatcher splits a longer run at event boundaries and
// refuses a single event whose changes exceed them (the failure is parked
// like any other). Every store commits a run within them with the effect
// of one atomic step; DynamoDB, whose transactions hold 100 items and
// 4 MB, splits it into several (pkg/dynstore).
const (
	// MaxViewWrites bounds the documents one run changes.
	MaxViewWrites = 10_000
	// MaxViewRunBytes bounds the bytes of the documents one run writes.
	MaxViewRunBytes = 32 << 20
)

// ValidateCheckpoint checks a checkpoint's subscriber name (ValidateName)
// and stream (ValidateStream), returning ErrInvalid attributed to op.
// Every CheckpointStore method calls it.
func ValidateCheckpoint(op, subscriber string, stream StreamID) error {
	if err := ValidateName(subscriber); err != nil {
		return &Error{Kind: KindInvalid, Op: op, Message: "invalid subscriber: " + PublicMessage(err)}
	}
	return ValidateStream(op, stream)
}

// ValidateFailure checks what CheckpointStore.RecordFailure must refuse
// (ErrInvalid): an invalid subscriber or stream, a Version or Attempts
// below 1, an Error longer than MaxFailureBytes, not valid UTF-8 or
// holding a NUL (which PostgreSQL's text and jsonb cannot store).
func ValidateFailure(op string, f *Failure) error {
	if err := ValidateCheckpoint(op, f.Subscriber, f.Stream); err != nil {
		return err
	}
	switch {
	case f.Version < 1:
		return Errorf(KindInvalid, op, "a failure needs a version of 1 or more")
	case f.Attempts < 1:
		return Errorf(KindInvalid, op, "a failure needs at least one attempt")
	case len(f.Error) > MaxFailureBytes:
		return Errorf(KindInvalid, op, "a failure's error is longer than %d bytes", MaxFailureBytes)
	case !utf8.ValidString(f.Error) || strings.IndexByte(f.Error, 0) >= 0:
		return Errorf(KindInvalid, op, "a failure's error must be valid UTF-8 without NUL")
	}
	return nil
}

// ValidateViewCommit checks what ViewStore.CommitViews must refuse before
// writing anything: an invalid subscriber or stream, a checkpoint that
// does not move forward, an invalid view name or key (ValidateViewKey), a
// document named twice (ErrInvalid); a document over MaxCommitBytes, more than
// MaxViewWrites writes or more than MaxViewRunBytes in all (ErrTooLarge).
// It returns the total bytes of the documents written.
func ValidateViewCommit(op string, c *ViewCommit) (int, error) {
	if err := ValidateCheckpointMove(op, c.Subscriber, c.Stream, c.From, c.To); err != nil {
		return 0, err
	}
	return validateViewWrites(op, c.Subscriber, c.Stream, c.Writes)
}

// ValidateViewBatch checks what ViewBatcher.CommitViewBatch must refuse
// before writing anything: no moves, an invalid move (as
// ValidateViewCommit), a stream moved twice, and the writes as
// ValidateViewCommit checks them. It returns the total bytes of the
// documents written.
func ValidateViewBatch(op string, b *ViewBatch) (int, error) {
	if len(b.Moves) == 0 {
		return 0, Errorf(KindInvalid, op, "a view batch moves no checkpoint")
	}
	if err := ValidateCheckpoint(op, b.Subscriber, b.Moves[0].Stream); err != nil {
		return 0, err
	}
	for _, m := range b.Moves {
		if err := ValidateStream(op, m.Stream); err != nil {
			return 0, err
		}
		if m.To <= m.From {
			return 0, Errorf(KindInvalid, op, "checkpoint must move forward (%d -> %d)", m.From, m.To)
		}
	}
	if i := repeated(len(b.Moves), func(i int) StreamID { return b.Moves[i].Stream }, &streamSets); i >= 0 {
		return 0, &Error{Kind: KindInvalid, Op: op, Stream: b.Moves[i].Stream, Message: "a view batch moves a stream's checkpoint twice"}
	}
	return validateViewWrites(op, b.Subscriber, StreamID{}, b.Writes)
}

// validateViewWrites checks the writes of a commit or a batch; stream,
// if not zero, is named in the errors that concern the whole run.
func validateViewWrites(op, subscriber string, stream StreamID, writes []ViewWrite) (int, error) {
	if len(writes) > MaxViewWrites {
		return 0, &Error{Kind: KindTooLarge, Op: op, Stream: stream,
			Message: fmt.Sprintf("projection %s changes %d documents, more than the %d one run may", subscriber, len(writes), MaxViewWrites)}
	}
	for i := range writes {
		if err := ValidateViewKey(op, writes[i].Name, writes[i].Key); err != nil {
			return 0, err
		}
	}
	if i := repeated(len(writes), func(i int) viewKey { return viewKey{writes[i].Name, writes[i].Key} }, &docSets); i >= 0 {
		return 0, Errorf(KindInvalid, op, "view %s/%s is written twice in one commit", writes[i].Name, writes[i].Key)
	}
	total := 0
	for i := range writes {
		w := &writes[i]
		if len(w.Data) > MaxCommitBytes {
			return 0, Errorf(KindTooLarge, op, "view %s/%s is %d bytes, more than %d", w.Name, w.Key, len(w.Data), MaxCommitBytes)
		}
		total += len(w.Data)
	}
	if total > MaxViewRunBytes {
		return 0, &Error{Kind: KindTooLarge, Op: op, Stream: stream,
			Message: fmt.Sprintf("projection %s writes %d bytes of documents, more than the %d one run may", subscriber, total, MaxViewRunBytes)}
	}
	return total, nil
}

// Sets for repeated, reused from check to check: a commit of many
// documents or a batch of many streams would otherwise build and drop a
// map each time (in the round-robin projection benchmark, pages of 200,
// 510 B per event without the pools against 402 with them).
var (
	streamSets = sync.Pool{New: func() any { return map[StreamID]struct{}{} }}
	docSets    = sync.Pool{New: func() any { return map[viewKey]struct{}{} }}
)

// Above maxPooledSet keys a set is dropped after use: clearing it costs
// its size at every later check.
const maxPooledSet = 1024

// repeated returns the index of the first of n keys equal to one before
// it, or -1. A few keys are compared with each other; more go through a
// set from sets (a sync.Pool of map[K]struct{}).
func repeated[K comparable](n int, key func(int) K, sets *sync.Pool) int {
	if n <= scanDocs {
		for i := 1; i < n; i++ {
			k := key(i)
			for j := range i {
				if key(j) == k {
					return i
				}
			}
		}
		return -1
	}
	set := sets.Get().(map[K]struct{})
	defer func() {
		if len(set) <= maxPooledSet {
			clear(set)
			sets.Put(set)
		}
	}()
	for i := range n {
		k := key(i)
		if _, ok := set[k]; ok {
			return i
		}
		set[k] = struct{}{}
	}
	return -1
}
