package dynstore

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/pkg/signal"
)

// LoadSnapshot implements signal.SnapshotStore with one strongly
// consistent GetItem of the stream's tip (sk = tipSK). On a table written
// before the tip existed, a stream without one has a second GetItem, of
// its snapshot at sk = 0, until a new snapshot is saved. A stream
// signal.Readable refuses is not read (ErrNotFound), as Load. A snapshot
// item it cannot decode is ErrInternal.
func (s *Store) LoadSnapshot(ctx context.Context, id signal.StreamID) (signal.Snapshot, error) {
	const op = "dynstore.LoadSnapshot"
	if !signal.Readable(id) {
		return signal.Snapshot{}, signal.SnapshotNotFound(op, id)
	}
	for _, key := range []map[string]types.AttributeValue{tipKey(id), keyItem(streamKey(id), legacySnapshotSK)} {
		out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(s.tables.Events),
			Key:            key,
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return signal.Snapshot{}, mapError(op, id, err)
		}
		if len(out.Item) > 0 {
			return decodeSnapshot(op, id, out.Item)
		}
	}
	return signal.Snapshot{}, signal.SnapshotNotFound(op, id)
}

// SaveSnapshot implements signal.SnapshotStore with one PutItem of the
// stream's tip conditioned on there being no snapshot of the same or a
// later version there. (A snapshot left at sk = 0 by an older version of
// this package is not looked at: it is read only while there is no tip.)
func (s *Store) SaveSnapshot(ctx context.Context, snap signal.Snapshot) error {
	const op = "dynstore.SaveSnapshot"
	if err := signal.ValidateSnapshot(op, &snap); err != nil {
		return err
	}
	item := tipKey(snap.Stream)
	item[attrKind] = str(KindSnapshot)
	item[attrVersion] = num(snap.Version)
	item[attrSchemaV] = num(int64(snap.SchemaVersion))
	item[attrTime] = num(snap.Time.UnixMilli())
	item[attrData] = payload(snap.Data)
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.tables.Events),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR ver < :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(snap.Version)},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // a snapshot as new or newer is already there: keep it
	}
	return mapError(op, snap.Stream, err)
}

// decodeSnapshot decodes a snapshot item of stream id, at the tip or at
// sk = 0; a malformed one is ErrInternal attributed to op.
func decodeSnapshot(op string, id signal.StreamID, item map[string]types.AttributeValue) (signal.Snapshot, error) {
	snap := signal.Snapshot{Stream: id}
	var schema, ms int64
	var data bool
	var err error
	snap.Version, err = getN(item, attrVersion)
	if err == nil {
		schema, err = getN(item, attrSchemaV)
	}
	if err == nil {
		ms, err = getN(item, attrTime)
	}
	snap.Data, data = getBytes(item, attrData)
	if err != nil || !data {
		return signal.Snapshot{}, &signal.Error{Kind: signal.KindInternal, Op: op, Stream: id, Message: "malformed snapshot item", Err: err}
	}
	snap.SchemaVersion = int(schema)
	snap.Time = timeFromMillis(ms)
	return snap, nil
}
