package signal

import "context"

// LogScanner is the ability to read every commit of the store's log in one
// pass, however old: what rebuilding a view from the beginning needs
// (Service.Rebuild). DynamoDB provides it with a parallel Scan of the
// events table (its stream keeps only 24 hours); a store with a
// ChangeFeed provides it by reading the feed from the beginning
// (ScanChanges).
type LogScanner interface {
	// ScanCommits calls fn with pages of commits until every commit in the
	// store when the scan began has been passed to fn exactly once;
	// commits appended meanwhile may be passed or not. Pages may arrive
	// concurrently (up to `segments` at once, a hint: 0 or less lets the
	// store choose, and a store may use fewer), so fn must be safe for
	// concurrent use; across pages, and within a page across streams,
	// commits come in no particular order, and a stream's commits may be
	// split over pages in any order: the dispatcher sorts each stream's
	// commits and reads the missing ones itself. fn is never called with
	// an empty page, and must not keep or modify the commits.
	//
	// Outcomes:
	//   - nil: every commit was passed to fn, and every fn returned nil.
	//   - fn's error, as fn returned it: the first fn to fail stops the
	//     scan (the context passed to the other pages' fn is cancelled);
	//     no fn is called after it returns.
	//   - a typed store error (ErrUnavailable when the store could not be
	//     reached or ctx ended, ErrInternal for a commit that does not
	//     decode or a broken store): the scan stopped there.
	ScanCommits(ctx context.Context, segments int, fn func(ctx context.Context, commits []Commit) error) error
}

// scanPage is how many commits ScanChanges asks the feed for at a time.
const scanPage = 500

// ScanChanges is LogScanner.ScanCommits for a store with a ChangeFeed: it
// reads feed from position 0 to its end, in pages of up to 500 commits,
// one after the other (so fn is never called concurrently), and passes
// each page to fn. It stops at the first error: fn's, as fn returned it,
// or the feed's, typed as a store error (ErrUnavailable when ctx ended).
// A store implements LogScanner by calling it with itself.
func ScanChanges(ctx context.Context, feed ChangeFeed, fn func(ctx context.Context, commits []Commit) error) error {
	var after uint64
	for {
		if err := ctx.Err(); err != nil {
			return storeError("signal.ScanChanges", StreamID{}, err)
		}
		changes, err := feed.Changes(ctx, after, scanPage)
		if err != nil {
			return storeError("signal.ScanChanges", StreamID{}, err)
		}
		if len(changes) == 0 {
			return nil
		}
		commits := make([]Commit, len(changes))
		for i, c := range changes {
			commits[i] = c.Commit
		}
		if err := fn(ctx, commits); err != nil {
			return err
		}
		after = changes[len(changes)-1].Position
	}
}
