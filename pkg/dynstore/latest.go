package dynstore

import (
	"context"
	"iter"
	"math"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/pkg/signal"
)

// LoadLatest implements signal.LatestLoader. Its read is one strongly
// consistent Query of the stream's partition in descending key order,
// limited to expect+2 items (the tip, a tombstone and expect commits; no
// limit for expect <= 0, so up to DynamoDB's 1 MB page): the snapshot at
// the tip comes first, then the commits from the newest down. So a cold
// command costs that one Query and its write when at most expect commits
// follow the snapshot. The Query reads, and is billed for, up to
// the limit (or the page) even past the snapshot's version: the price of
// not knowing that version before reading.
//
// Only when the page ends above the snapshot's version (a short guess, a
// snapshot that was not written, large items filling the page) is the
// rest read, while commits is ranged over: an ascending Query of the
// versions in between, paged like Load. Memory holds at most that one
// page. When the page ends with no tip, one GetItem looks for an old
// table's snapshot at sk = 0 first, so on a table written before the tip
// existed a cold load costs about what it did (the Query, a GetItem, and a
// second Query only when more than expect commits follow that snapshot)
// until a new snapshot is saved; a snapshot at sk = 0 the page reached is
// used as it is.
func (s *Store) LoadLatest(ctx context.Context, id signal.StreamID, expect int) (signal.Snapshot, bool, iter.Seq2[signal.Commit, error]) {
	const op = "dynstore.LoadLatest"
	if !signal.Readable(id) {
		return signal.Snapshot{}, false, noCommits
	}
	top, err := s.readTop(ctx, op, id, expect)
	if err == nil && !top.found && top.below >= legacySnapshotSK {
		top.snap, top.found, err = s.legacySnapshot(ctx, op, id)
	}
	if err != nil {
		return signal.Snapshot{}, false, failedRead(err)
	}
	after := int64(0)
	if top.found {
		after = top.snap.Version
	}
	newest := top.newest
	for len(newest) > 0 && newest[len(newest)-1].Version <= after {
		newest = newest[:len(newest)-1]
	}
	return top.snap, top.found, s.latestCommits(ctx, op, id, after, top.below, newest)
}

// top is what the descending first page of a stream's partition held.
type top struct {
	snap  signal.Snapshot
	found bool
	// newest are the commits read, newest first.
	newest []signal.Commit
	// below is the highest sort key the page did not reach (everything
	// under the last key it read), -1 when it read the whole partition.
	below int64
}

// readTop reads the first page of LoadLatest: a snapshot item and the
// commits in it. The tip comes first, so a snapshot at sk = 0 under it
// in the same page is ignored.
func (s *Store) readTop(ctx context.Context, op string, id signal.StreamID, expect int) (top, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Events),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(streamKey(id))},
		ConsistentRead:            aws.Bool(true),
		ScanIndexForward:          aws.Bool(false),
	}
	if expect > 0 {
		in.Limit = aws.Int32(int32(min(expect, math.MaxInt32-2) + 2))
	}
	out, err := s.api.Query(ctx, in)
	if err != nil {
		return top{}, mapError(op, id, err)
	}
	page := top{below: -1}
	for _, item := range out.Items {
		switch ItemKind(item) {
		case KindSnapshot:
			if !page.found {
				if page.snap, err = decodeSnapshot(op, id, item); err != nil {
					return top{}, err
				}
				page.found = true
			}
		case KindCommit:
			if page.found && covered(item, page.snap.Version) {
				continue // in the snapshot (as is every commit under it): not decoded
			}
			c, err := DecodeCommit(item)
			if err != nil {
				return top{}, err
			}
			page.newest = append(page.newest, c)
		}
	}
	if len(out.LastEvaluatedKey) > 0 {
		page.below = keyBelow(out.LastEvaluatedKey)
	}
	return page, nil
}

// covered reports whether a commit item starts at or before version, so
// a snapshot at version holds it (a malformed sort key is left to
// DecodeCommit to report).
func covered(item map[string]types.AttributeValue, version int64) bool {
	sk, err := getN(item, attrSK)
	return err == nil && sk <= version
}

// keyBelow is the highest version under a key a descending read stopped
// at: one less than its sort key, or every version when it stopped at the
// tip (whose key no int64 holds).
func keyBelow(key map[string]types.AttributeValue) int64 {
	sk, err := getN(key, attrSK)
	if err != nil {
		return maxVersionSK
	}
	return sk - 1
}

// legacySnapshot reads the snapshot an older version of this package kept
// at sk = 0, with one strongly consistent GetItem.
func (s *Store) legacySnapshot(ctx context.Context, op string, id signal.StreamID) (signal.Snapshot, bool, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Events),
		Key:            keyItem(streamKey(id), legacySnapshotSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return signal.Snapshot{}, false, mapError(op, id, err)
	}
	if len(out.Item) == 0 {
		return signal.Snapshot{}, false, nil
	}
	snap, err := decodeSnapshot(op, id, out.Item)
	return snap, err == nil, err
}

// latestCommits yields the commits after version `after`: those from
// after+1 to below that the first page did not reach (read now, in
// order), then the ones it read (newest, newest first), oldest first.
func (s *Store) latestCommits(ctx context.Context, op string, id signal.StreamID, after, below int64, newest []signal.Commit) iter.Seq2[signal.Commit, error] {
	return func(yield func(signal.Commit, error) bool) {
		if after < below {
			for c, err := range s.loadRange(ctx, op, id, after+1, below) {
				if !yield(c, err) || err != nil {
					return
				}
			}
		}
		for _, c := range slices.Backward(newest) {
			if !yield(c, nil) {
				return
			}
		}
	}
}

// noCommits yields nothing.
func noCommits(func(signal.Commit, error) bool) {}

// failedRead yields err as its only pair.
func failedRead(err error) iter.Seq2[signal.Commit, error] {
	return func(yield func(signal.Commit, error) bool) { yield(signal.Commit{}, err) }
}

var _ signal.LatestLoader = (*Store)(nil)
