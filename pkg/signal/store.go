package signal

import (
	"context"
	"iter"
	"time"
)

// Store is the contract every storage adapter implements: an append-only
// log of commits per stream with an optimistic version condition. It is
// deliberately small; further abilities are separate interfaces a store may
// also implement (SnapshotStore, CheckpointStore, ViewStore, ChangeFeed,
// LogScanner), discovered with a type assertion as database/sql does with
// its drivers.
//
// Every adapter must pass the suite in signal/storetest.
type Store interface {
	// Append writes c atomically: all its events or none. It succeeds only
	// if the stream's version is exactly c.Version-1.
	//
	// Callers append only at a version they read as the end of a commit
	// (or 1 for a new stream). A store that can cheaply tell that
	// c.Version would leave a gap or start inside an earlier commit
	// returns ErrInvalid; one keyed by first version (DynamoDB) cannot,
	// and relies on this rule, which the Service always follows.
	//
	// Stores keep Commit.Time to at least the millisecond and return it in
	// UTC, and keep every RawEvent.Data byte for byte (no re-encoding).
	//
	// Outcomes:
	//   - nil: the commit is durable; Load will return it.
	//   - ErrInvalid or ErrTooLarge: ValidateCommit refuses c, before
	//     anything else is looked at: an invalid stream, no events, a
	//     Version below 1, a command id, fingerprint, correlation,
	//     causation or event id or an event name that some store could
	//     not hold (ErrInvalid); more than MaxEventsPerCommit events or
	//     MaxCommitBytes (ErrTooLarge). Nothing written.
	//   - AppendConflict (ErrConflict, with a Conflict; also ErrExists
	//     when c.Version is 1): a commit already exists at c.Version, with
	//     that commit in Conflict.Existing where the store has it. Nothing
	//     written.
	//     This is the answer also when the stream has been closed since
	//     (or by that very commit): a taken version is a conflict, never
	//     ErrClosed. It is what the write itself reveals (DynamoDB's
	//     conditional PutItem sees only the item at its own key, and the
	//     tombstone marking closure is after the final commit), so no
	//     store needs another read to answer. And it is what the Service
	//     needs: it folds Existing and, once it reaches the final commit,
	//     refuses with ErrClosed itself, unless that commit is the
	//     command's own (a repeated request, or a write whose answer was
	//     lost), which it answers as the success it was.
	//   - ErrClosed: no commit is at c.Version, and the stream ended
	//     with a Final commit before it. Nothing written.
	//   - ErrUnavailable: the store could not be reached or timed out; the
	//     commit may or may not have been written (the Service resolves
	//     this by CommandID on its next read).
	//   - any other error: the store is broken (ErrInternal).
	//
	// Append may retain c; the caller must not modify it afterwards.
	Append(ctx context.Context, c Commit) error

	// Load yields the stream's commits whose Version (first version) is
	// greater than after, in version order; a commit that starts at or
	// before after is not yielded even if it ends past it. A stream that does not exist yields nothing. An
	// error is yielded once, as the last pair, and ends the sequence.
	// Yielded commits are shared: callers must not modify them.
	Load(ctx context.Context, stream StreamID, after int64) iter.Seq2[Commit, error]
}

// Snapshot is a stream's folded state at a version, encoded.
type Snapshot struct {
	Stream  StreamID
	Version int64
	// SchemaVersion is the aggregate type's StateVersion when the snapshot
	// was taken; a snapshot of another schema is ignored on load.
	SchemaVersion int
	Data          []byte
	Time          time.Time
}

// SnapshotStore is the ability to keep the latest snapshot of a stream, so
// loading a long stream reads one snapshot and only the commits after it.
type SnapshotStore interface {
	// LoadSnapshot returns the stream's latest snapshot, or ErrNotFound.
	// The caller must not modify the returned Data.
	LoadSnapshot(ctx context.Context, stream StreamID) (Snapshot, error)
	// SaveSnapshot stores s unless a snapshot at s.Version or later is
	// already stored, in which case it keeps that one and returns nil: a
	// late writer never replaces a newer snapshot. ErrTooLarge when s.Data
	// exceeds MaxCommitBytes.
	SaveSnapshot(ctx context.Context, s Snapshot) error
}

// Checkpoint is a subscriber's progress on one stream.
type Checkpoint struct {
	// Version is the last version the subscriber has processed; 0 if none.
	Version int64
	// Failure is the subscriber's recorded failure on the event after
	// Version; nil when there is none.
	Failure *Failure
}

// Failure records that a subscriber could not process a stream's event.
// The dispatcher keeps one per (subscriber, stream), beside the
// checkpoint, so that a subscriber that keeps failing is parked instead of
// holding back the others.
type Failure struct {
	Subscriber string
	Stream     StreamID
	// Version is the first version not processed: the checkpoint + 1.
	Version int64
	// Attempts counts the deliveries that failed at Version.
	Attempts int
	// Error describes the last failure, for operators: it may hold
	// internal text (never show it to API clients). At most
	// MaxFailureBytes.
	Error string
	// Time is when the last attempt failed.
	Time time.Time
	// Parked means the dispatcher gave up on (Subscriber, Stream): it
	// skips them until Service.Replay processes them.
	Parked bool
}

// MaxFailureBytes bounds Failure.Error.
const MaxFailureBytes = 2048

// CheckpointStore is the ability to remember, per subscriber and stream,
// the last version the subscriber has processed and its standing failure.
// The dispatcher uses it to skip duplicates, detect gaps and park a
// subscriber that keeps failing.
//
// Every method refuses an invalid subscriber name (ValidateName) or stream
// (ValidateStream) with ErrInvalid, writing nothing.
type CheckpointStore interface {
	// LoadCheckpoint returns the subscriber's checkpoint on the stream:
	// Version 0 and no Failure if none was saved.
	LoadCheckpoint(ctx context.Context, subscriber string, stream StreamID) (Checkpoint, error)
	// SaveCheckpoint moves the checkpoint from `from` to `to` and clears
	// its failure. It returns ErrConflict, writing nothing, if the stored
	// checkpoint is not `from` (another worker moved it), and ErrInvalid
	// if to <= from.
	SaveCheckpoint(ctx context.Context, subscriber string, stream StreamID, from, to int64) error
	// RecordFailure stores f as the failure of (f.Subscriber, f.Stream),
	// replacing an earlier one, if the checkpoint is at f.Version-1.
	// ErrConflict, writing nothing, when it is not (the subscriber has
	// moved on); ErrInvalid for f.Version < 1, f.Attempts < 1 or an
	// Error longer than MaxFailureBytes.
	RecordFailure(ctx context.Context, f Failure) error
	// Failures returns every recorded failure, parked or not, in any
	// order (Service.Failures sorts them). A store may read everything it
	// holds to answer (a DynamoDB Scan): it is for operators.
	Failures(ctx context.Context) ([]Failure, error)
}

// View is one projection document.
type View struct {
	Name string
	Key  string
	Data []byte
	// Version is at least 1 and grows with every write, so it serves as the
	// optimistic condition of the next write. A document re-created after a
	// delete starts again at a version of at least 1.
	Version int64
}

// ViewWrite is one document change inside a ViewCommit.
type ViewWrite struct {
	Name string
	Key  string
	// Data is the new document; nil deletes it.
	Data []byte
	// ExpectedVersion is the document's version when it was read, 0 if it
	// did not exist. The write fails unless it still is.
	ExpectedVersion int64
}

// ViewCommit is what a projection produced for a run of one stream's
// events: document writes and the checkpoint move, applied together.
type ViewCommit struct {
	Subscriber string
	Stream     StreamID
	From, To   int64
	Writes     []ViewWrite
}

// ViewStore is the ability to keep projection documents and to update them
// together with the projection's checkpoint, so a redelivered event can
// never be applied to a view twice.
type ViewStore interface {
	CheckpointStore
	// LoadView returns a document, or ErrNotFound. The caller must not
	// modify the returned Data.
	LoadView(ctx context.Context, name, key string) (View, error)
	// CommitViews applies every write and moves the checkpoint from c.From
	// to c.To (clearing its failure) with the effect of one atomic step:
	// either all of it happens or none of it, whatever the number of
	// writes up to MaxViewWrites, also when the store must split the
	// commit into several transactions (DynamoDB) and a crash, a timeout
	// or a lost answer falls between them. Each (Name, Key) appears at
	// most once in c.Writes.
	//
	// Outcomes, after ValidateViewCommit's checks (ErrInvalid,
	// ErrTooLarge):
	//   - nil: every write is applied and the checkpoint is at c.To.
	//   - ErrConflict: nothing written; the checkpoint is not c.From or a
	//     document's version is not its ExpectedVersion (or another
	//     commit holds it).
	//   - ErrUnavailable: the store could not be reached; the commit may
	//     have been applied in full or not at all, never in part, and
	//     LoadCheckpoint tells which.
	CommitViews(ctx context.Context, c ViewCommit) error
	// DropView deletes every document of the named view and every
	// checkpoint of the subscriber, so the view can be rebuilt from the log.
	DropView(ctx context.Context, name, subscriber string) error
}

// CheckpointMove is one stream's checkpoint moving from From to To.
type CheckpointMove struct {
	Stream   StreamID
	From, To int64
}

// ViewBatch is what one subscriber produced for the runs of many streams'
// events (a page of a change feed holding many aggregates): every
// stream's checkpoint move and the documents written, applied together.
// With no Writes it only moves checkpoints: how a policy or an observer
// saves a page's progress.
type ViewBatch struct {
	Subscriber string
	Moves      []CheckpointMove
	Writes     []ViewWrite
}

// ViewBatcher is the ability to commit the runs of many streams as one
// atomic step, so that a page of 200 aggregates costs a subscriber one
// store write instead of 200. The dispatcher uses it, when the store has
// it, for a batch holding more than one stream; without it every stream
// is its own CommitViews or SaveCheckpoint. The embedded stores have it;
// DynamoDB, whose transactions hold 100 items, and Postgres, which would
// read the documents one round trip after another where the per-stream
// runs read them in parallel, do not.
type ViewBatcher interface {
	ViewStore
	// LoadCheckpoints returns the subscriber's checkpoints on streams, in
	// their order, as LoadCheckpoint would one by one.
	LoadCheckpoints(ctx context.Context, subscriber string, streams []StreamID) ([]Checkpoint, error)
	// CommitViewBatch applies every write and moves every checkpoint of
	// b.Moves (clearing its failure) with the effect of one atomic step,
	// as CommitViews does for one stream. Outcomes, after
	// ValidateViewBatch's checks (ErrInvalid, ErrTooLarge):
	//   - nil: every write is applied and every checkpoint is at its To.
	//   - ErrConflict: nothing written; a checkpoint is not at its From or
	//     a document's version is not its ExpectedVersion.
	//   - ErrUnavailable: the store could not be reached; the batch may
	//     have been applied in full or not at all, never in part.
	//
	// The caller reuses b.Moves and b.Writes once it returns, so a store
	// keeps nothing of them but copies; each write's Data, though, is
	// never changed after the call (the dispatcher encodes every document
	// anew), so a store may keep it as it is.
	CommitViewBatch(ctx context.Context, b ViewBatch) error
}

// Change is a commit with its position in a store-wide change feed.
type Change struct {
	Position uint64
	Commit   Commit
}

// ChangeFeed is the ability to read every commit of the store in append
// order from a resumable position: the local stand-in for DynamoDB Streams.
type ChangeFeed interface {
	// Changes returns up to limit commits appended after position `after`
	// (0 is the beginning), oldest first. Positions strictly increase but
	// need not be dense. limit <= 0 means 100. Each stream's commits come
	// in version order; across streams the order is the store's own (for
	// Postgres, the order write transactions began). A commit is in the
	// feed once its Append returned nil; a store whose positions are
	// assigned before commit may hold it back briefly (pgstore: until
	// older write transactions end, waiting up to 2 s) so that a reader
	// resuming from a position never skips one.
	Changes(ctx context.Context, after uint64, limit int) ([]Change, error)
	// WaitForChange blocks until a commit after position `after` exists or
	// ctx is done (returning ctx.Err()).
	WaitForChange(ctx context.Context, after uint64) error
}
