package boltstore

import (
	"context"

	"github.com/signalforgo/signal/pkg/signal"
)

// ScanCommits implements signal.LogScanner by reading the change feed from
// the beginning (signal.ScanChanges): one page after another, whatever
// segments asks, so fn is never called concurrently. Outcomes as
// signal.LogScanner's.
func (s *Store) ScanCommits(ctx context.Context, segments int, fn func(ctx context.Context, commits []signal.Commit) error) error {
	return signal.ScanChanges(ctx, s, fn)
}

var _ signal.LogScanner = (*Store)(nil)
