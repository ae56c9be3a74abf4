package dynstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/pkg/signal"
)

// maxTransactItems is DynamoDB's limit on the items of one TransactWriteItems.
const maxTransactItems = 100

// Names and ids never contain '#', so these keys are unambiguous.
func viewPK(name, key string) string { return "v#" + name + "#" + key }
func checkpointPK(sub string, s signal.StreamID) string {
	return "c#" + sub + "#" + s.Type + "#" + s.ID
}

// LoadCheckpoint implements signal.CheckpointStore: one strongly
// consistent GetItem; 0 when there is none.
func (s *Store) LoadCheckpoint(ctx context.Context, subscriber string, id signal.StreamID) (int64, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(s.tables.Views),
		Key:                  map[string]types.AttributeValue{attrPK: str(checkpointPK(subscriber, id))},
		ConsistentRead:       aws.Bool(true),
		ProjectionExpression: aws.String(attrPos),
	})
	if err != nil {
		return 0, mapError("dynstore.load checkpoint", id, err)
	}
	if len(out.Item) == 0 {
		return 0, nil
	}
	pos, err := getN(out.Item, attrPos)
	if err != nil {
		return 0, &signal.Error{Kind: signal.KindInternal, Op: "dynstore.load checkpoint", Stream: id, Message: "malformed checkpoint item", Err: err}
	}
	return pos, nil
}

// checkpointPut is the conditional write moving a checkpoint from -> to.
func (s *Store) checkpointPut(sub string, id signal.StreamID, from, to int64) *types.Put {
	cond := "pos = :from"
	if from == 0 {
		cond = "attribute_not_exists(pk) OR pos = :from"
	}
	return &types.Put{
		TableName: aws.String(s.tables.Views),
		Item: map[string]types.AttributeValue{
			attrPK: str(checkpointPK(sub, id)), attrKind: str(KindCheckpoint),
			attrSub: str(sub), attrStream: str(streamKey(id)), attrPos: num(to),
		},
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: map[string]types.AttributeValue{":from": num(from)},
	}
}

// SaveCheckpoint implements signal.CheckpointStore with one conditional PutItem.
func (s *Store) SaveCheckpoint(ctx context.Context, subscriber string, id signal.StreamID, from, to int64) error {
	const op = "dynstore.save checkpoint"
	if to <= from {
		return signal.Errorf(signal.KindInvalid, op, "checkpoint must move forward (%d -> %d)", from, to)
	}
	p := s.checkpointPut(subscriber, id, from, to)
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item,
		ConditionExpression: p.ConditionExpression, ExpressionAttributeValues: p.ExpressionAttributeValues})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return &signal.Error{Kind: signal.KindConflict, Op: op, Stream: id, Message: "checkpoint moved"}
	}
	return mapError(op, id, err)
}

// LoadView implements signal.ViewStore: one strongly consistent GetItem.
func (s *Store) LoadView(ctx context.Context, name, key string) (signal.View, error) {
	const op = "dynstore.load view"
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Views),
		Key:            map[string]types.AttributeValue{attrPK: str(viewPK(name, key))},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return signal.View{}, mapError(op, signal.StreamID{}, err)
	}
	if len(out.Item) == 0 {
		return signal.View{}, signal.Errorf(signal.KindNotFound, op, "no view %s/%s", name, key)
	}
	v := signal.View{Name: name, Key: key}
	var ok bool
	v.Version, err = getN(out.Item, attrVersion)
	v.Data, ok = getBytes(out.Item, attrData)
	if err != nil || !ok {
		return signal.View{}, &signal.Error{Kind: signal.KindInternal, Op: op, Message: fmt.Sprintf("malformed view item %s/%s", name, key), Err: err}
	}
	return v, nil
}

// CommitViews implements signal.ViewStore. The checkpoint move and every
// document write go in one TransactWriteItems (a lone checkpoint move is a
// plain conditional PutItem, at half the cost). A run touching more than
// 99 documents exceeds DynamoDB's transaction limit: ErrTooLarge.
func (s *Store) CommitViews(ctx context.Context, c signal.ViewCommit) error {
	const op = "dynstore.commit views"
	if c.To <= c.From {
		return signal.Errorf(signal.KindInvalid, op, "checkpoint must move forward (%d -> %d)", c.From, c.To)
	}
	if len(c.Writes) == 0 {
		return s.SaveCheckpoint(ctx, c.Subscriber, c.Stream, c.From, c.To)
	}
	if len(c.Writes)+1 > maxTransactItems {
		return signal.Errorf(signal.KindTooLarge, op, "a projection run may change at most %d documents, this one changed %d", maxTransactItems-1, len(c.Writes))
	}
	items := []types.TransactWriteItem{{Put: s.checkpointPut(c.Subscriber, c.Stream, c.From, c.To)}}
	for _, w := range c.Writes {
		if len(w.Data) > signal.MaxCommitBytes {
			return signal.Errorf(signal.KindTooLarge, op, "view %s/%s too large", w.Name, w.Key)
		}
		cond, vals := "attribute_not_exists(pk)", map[string]types.AttributeValue(nil)
		if w.ExpectedVersion > 0 {
			cond, vals = "ver = :ver", map[string]types.AttributeValue{":ver": num(w.ExpectedVersion)}
		}
		key := map[string]types.AttributeValue{attrPK: str(viewPK(w.Name, w.Key))}
		if w.Data == nil {
			if w.ExpectedVersion == 0 {
				// Deleting what is not there: only require it is still absent.
				items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
					TableName: aws.String(s.tables.Views), Key: key, ConditionExpression: aws.String(cond)}})
				continue
			}
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{
				TableName: aws.String(s.tables.Views), Key: key,
				ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}})
			continue
		}
		item := map[string]types.AttributeValue{
			attrPK: str(viewPK(w.Name, w.Key)), attrKind: str(KindView),
			attrViewName: str(w.Name), attrViewKey: str(w.Key),
			attrVersion: num(w.ExpectedVersion + 1), attrData: payload(w.Data),
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.tables.Views), Item: item,
			ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}})
	}
	_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed", "TransactionConflict":
				return &signal.Error{Kind: signal.KindConflict, Op: op, Stream: c.Stream, Message: "checkpoint or view changed", Err: err}
			}
		}
	}
	return mapError(op, c.Stream, err)
}

// DropView implements signal.ViewStore: a Scan of the views table for the
// view's documents and the subscriber's checkpoints, deleted in batches of
// 25. It reads the whole table, which is fine for a rebuild and nothing else.
func (s *Store) DropView(ctx context.Context, name, subscriber string) error {
	const op = "dynstore.drop view"
	p := dynamodb.NewScanPaginator(s.api, &dynamodb.ScanInput{
		TableName:                aws.String(s.tables.Views),
		FilterExpression:         aws.String("(#kind = :view AND #view = :name) OR (#kind = :cp AND #sub = :sub)"),
		ProjectionExpression:     aws.String("#pk"),
		ExpressionAttributeNames: map[string]string{"#kind": attrKind, "#view": attrViewName, "#sub": attrSub, "#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":view": str(KindView), ":name": str(name), ":cp": str(KindCheckpoint), ":sub": str(subscriber),
		},
		ConsistentRead: aws.Bool(true),
	})
	var batch []types.WriteRequest
	flush := func() error {
		for len(batch) > 0 {
			out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.tables.Views: batch}})
			if err != nil {
				return mapError(op, signal.StreamID{}, err)
			}
			batch = out.UnprocessedItems[s.tables.Views]
			if len(batch) > 0 {
				select {
				case <-time.After(50 * time.Millisecond):
				case <-ctx.Done():
					return mapError(op, signal.StreamID{}, ctx.Err())
				}
			}
		}
		return nil
	}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return mapError(op, signal.StreamID{}, err)
		}
		for _, item := range page.Items {
			batch = append(batch, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{attrPK: item[attrPK]}}})
			if len(batch) == 25 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

var (
	_ signal.Store         = (*Store)(nil)
	_ signal.SnapshotStore = (*Store)(nil)
	_ signal.ViewStore     = (*Store)(nil)
)
