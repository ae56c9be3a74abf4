package signal

import "fmt"

// The checks and decisions every store adapter makes the same way, so that
// a call one store refuses every store refuses, with the same kind and
// message. An adapter calls them; it never writes its own copy. The input
// checks of commits, failures and view commits are ValidateCommit,
// ValidateFailure and ValidateViewCommit.

// AppendPoint is what a store read, in the step that would write c, about
// the place c wants in its stream: the input of DecideAppend.
type AppendPoint struct {
	// Last is the stream's last version: the LastVersion of its last
	// commit, 0 for a stream with no commits. A store that reads only
	// around c.Version (PostgreSQL's commit at or before it, DynamoDB's
	// item at its key) may set the last version of the commit it found
	// there: versions are contiguous, so the answer is the same.
	Last int64
	// Closed: the commit that ends at Last is Final.
	Closed bool
	// Taken: a commit starts at c.Version. A store sets it when it knows
	// (a conditional write that failed on c's key) or when it found
	// Existing.
	Taken bool
	// Existing is the commit that starts at c.Version, where the store
	// has it without another read; nil otherwise. A non-nil Existing
	// implies Taken.
	Existing *Commit
}

// DecideAppend is the version decision table of Store.Append, after
// ValidateCommit has passed c. The first case that holds is the answer:
//   - AppendConflict for c, with at.Existing: a commit starts at
//     c.Version (at.Taken or at.Existing). A taken version is a conflict
//     even in a closed stream (see Store.Append for why).
//   - ErrInvalid: c.Version <= at.Last but no commit starts there
//     ("inside a commit").
//   - ErrClosed: the stream ended with a Final commit (at.Closed).
//   - ErrInvalid: c.Version > at.Last+1 ("would leave a gap").
//   - nil: c continues the stream; the store writes it.
//
// Errors are attributed to op and name c.Stream.
func DecideAppend(op string, c *Commit, at AppendPoint) error {
	switch {
	case at.Taken || at.Existing != nil:
		return AppendConflict(op, c.Stream, c.Version, at.Existing)
	case c.Version <= at.Last:
		return &Error{Kind: KindInvalid, Op: op, Stream: c.Stream, Message: fmt.Sprintf("version %d is inside a commit", c.Version)}
	case at.Closed:
		return &Error{Kind: KindClosed, Op: op, Stream: c.Stream, Message: "stream is closed"}
	case c.Version > at.Last+1:
		return &Error{Kind: KindInvalid, Op: op, Stream: c.Stream, Message: fmt.Sprintf("version %d would leave a gap after %d", c.Version, at.Last)}
	}
	return nil
}

// ValidateSnapshot checks what SnapshotStore.SaveSnapshot must refuse
// before writing anything: an invalid stream (ValidateStream, ErrInvalid)
// or Data over MaxCommitBytes (ErrTooLarge, naming the stream). nil
// means s may be saved.
func ValidateSnapshot(op string, s *Snapshot) error {
	if err := ValidateStream(op, s.Stream); err != nil {
		return err
	}
	if len(s.Data) > MaxCommitBytes {
		return &Error{Kind: KindTooLarge, Op: op, Stream: s.Stream,
			Message: fmt.Sprintf("snapshot of %d bytes exceeds %d bytes", len(s.Data), MaxCommitBytes)}
	}
	return nil
}

// ValidateCheckpointMove checks what CheckpointStore.SaveCheckpoint must
// refuse before writing anything: an invalid subscriber or stream
// (ValidateCheckpoint) or a move that does not go forward (to <= from),
// both ErrInvalid. nil means the store may try the move.
func ValidateCheckpointMove(op, subscriber string, stream StreamID, from, to int64) error {
	if err := ValidateCheckpoint(op, subscriber, stream); err != nil {
		return err
	}
	if to <= from {
		return Errorf(KindInvalid, op, "checkpoint must move forward (%d -> %d)", from, to)
	}
	return nil
}

// ValidateViewKey checks a view document's name (ValidateName) and key
// (ValidateID): ErrInvalid attributed to op, nil when a document may have
// them. ValidateViewCommit checks every write with it, and LoadView uses
// it to answer ErrNotFound (ViewNotFound) for a name or key no commit can
// have written, without reading: a store whose keys join name and key
// ("v#name#key") would otherwise read another document.
func ValidateViewKey(op, name, key string) error {
	if err := ValidateName(name); err != nil {
		return &Error{Kind: KindInvalid, Op: op, Message: "invalid view name: " + PublicMessage(err)}
	}
	if err := ValidateID(key); err != nil {
		return &Error{Kind: KindInvalid, Op: op, Message: "invalid view key: " + PublicMessage(err)}
	}
	return nil
}

// Readable reports whether a stream is one a store can hold
// (ValidateStream passes). Store.Load yields nothing and
// SnapshotStore.LoadSnapshot answers ErrNotFound for a stream that is
// not, without reading: no write could have stored it, and a store whose
// keys join type and id ("type#id") would otherwise read another stream.
func Readable(stream StreamID) bool { return ValidateStream("", stream) == nil }

// SnapshotNotFound is LoadSnapshot's answer when the stream has no
// snapshot: ErrNotFound attributed to op, naming the stream.
func SnapshotNotFound(op string, stream StreamID) error {
	return &Error{Kind: KindNotFound, Op: op, Stream: stream, Message: "no snapshot"}
}

// ViewNotFound is LoadView's answer when there is no such document:
// ErrNotFound attributed to op, naming the document.
func ViewNotFound(op, name, key string) error {
	// Concatenated, not formatted: a projection's first read of every
	// new key answers it.
	return &Error{Kind: KindNotFound, Op: op, Message: "no view " + name + "/" + key}
}

// CheckpointMoved is the answer of SaveCheckpoint, RecordFailure and
// CommitViews when the stored checkpoint is not where the caller read it
// (another worker moved it): ErrConflict attributed to op, naming the
// stream. Nothing was written.
func CheckpointMoved(op string, stream StreamID) error {
	return &Error{Kind: KindConflict, Op: op, Stream: stream, Message: "checkpoint moved"}
}

// ViewChanged is CommitViews's answer when a document is not at its
// ExpectedVersion: ErrConflict attributed to op, naming the stream and
// the document. Nothing was written.
func ViewChanged(op string, stream StreamID, name, key string) error {
	return &Error{Kind: KindConflict, Op: op, Stream: stream, Message: fmt.Sprintf("view %s/%s changed", name, key)}
}
