package dynstore

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/pkg/signal"
)

// The events table's item layout stays in this package; a reader of the
// table's stream (package dynstream) decodes the items it carries with
// DecodeCommitItem, so it needs no attribute name.

// DecodeCommitItem decodes an item of the events table as a stream image
// or a read returns it. Outcomes:
//   - (commit, true, nil): an item of kind "commit" that DecodeCommit reads.
//   - (zero, false, nil): an item of another kind (snapshot, tombstone, the
//     items of a large projection run).
//   - (zero, false, err): an item without a string "kind" attribute (never
//     skipped like a snapshot: it could be a commit that lost its kind, and
//     dropping a commit silently would corrupt every projection), or a
//     commit item DecodeCommit rejects. err is a *signal.Error of
//     KindInternal whose Message says what is wrong and whose Stream is the
//     item's stream when its pk could be read.
//
// It never panics, whatever the item holds.
func DecodeCommitItem(item map[string]types.AttributeValue) (signal.Commit, bool, error) {
	pk, _ := getS(item, attrPK)
	stream, _ := parseStreamKey(pk)
	kind, ok := item[attrKind].(*types.AttributeValueMemberS)
	if !ok {
		return signal.Commit{}, false, &signal.Error{Kind: signal.KindInternal, Op: "dynstore.Decode", Stream: stream,
			Message: fmt.Sprintf("item %q has no string attribute %q", pk, attrKind)}
	}
	if kind.Value != KindCommit {
		return signal.Commit{}, false, nil
	}
	c, err := DecodeCommit(item)
	if err != nil {
		var de *signal.Error
		if !errors.As(err, &de) {
			de = &signal.Error{Kind: signal.KindInternal, Op: "dynstore.Decode", Message: err.Error()}
		}
		out := *de
		out.Stream = stream
		return signal.Commit{}, false, &out
	}
	return c, true, nil
}

// EncodeCommitItem returns the events-table item Append writes for c, the
// inverse of DecodeCommitItem, for tests and tools that build stream
// records without a table. It does not check c: an invalid commit gives an
// item DecodeCommitItem rejects.
func EncodeCommitItem(c *signal.Commit) map[string]types.AttributeValue {
	return commitItem(c)
}
