package signal

// CommandOption sets a command's metadata or preconditions.
type CommandOption func(*commandOptions)

type commandOptions struct {
	commandID, correlationID, causationID string
	// fingerprint names the request behind a caller-chosen commandID
	// (fingerprint.go); "" for generated ids.
	fingerprint string
	ifVersion   int64 // -1: none
	create      bool
	// actor is the Subject of the run's principal (Commit.Actor).
	actor string
}

// newCommandOptions applies opts. The options live on the heap only when
// there are some, keeping the common call free of that allocation.
func newCommandOptions(opts []CommandOption) commandOptions {
	if len(opts) == 0 {
		return commandOptions{ifVersion: -1}
	}
	o := &commandOptions{ifVersion: -1}
	for _, opt := range opts {
		opt(o)
	}
	return *o
}

// WithCommandID sets the command's id (an HTTP Idempotency-Key, a policy's
// deterministic id). The id names one request on one aggregate: handling
// the same request (same command name and the same command value, or
// End) with the same id again appends nothing and returns the original
// outcome; the same id with a different request fails with
// ErrIdempotencyKeyReused and appends nothing. The same id on another
// aggregate is a command of its own there. Without it (or with "") the
// Service generates a unique id.
//
// The id is at most MaxIDBytes of valid UTF-8 without control characters
// ('#', '/' and dots are fine); any other id fails the command with
// ErrInvalid before anything is read or written.
func WithCommandID(id string) CommandOption { return func(o *commandOptions) { o.commandID = id } }

// WithCorrelation sets the correlation and causation ids recorded with the
// events. Either may be empty (nothing recorded); otherwise each is at
// most MaxIDBytes of valid UTF-8 without control characters, or the
// command fails with ErrInvalid before anything is read or written.
func WithCorrelation(correlationID, causationID string) CommandOption {
	return func(o *commandOptions) { o.correlationID, o.causationID = correlationID, causationID }
}

// IfVersion makes the command fail with ErrPrecondition unless the
// aggregate is at exactly version v (HTTP If-Match). 0 means "does not exist yet".
func IfVersion(v int64) CommandOption { return func(o *commandOptions) { o.ifVersion = v } }
