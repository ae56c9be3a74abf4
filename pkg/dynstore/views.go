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

// DynamoDB's limits on one TransactWriteItems: 100 items and 4 MB in
// all. A projection run that fits (with its checkpoint) is one
// transaction; a longer one is a run of several steps (viewrun.go).
const (
	maxTransactItems = 100
	maxTransactBytes = 4_000_000
	// itemOverhead is what an item costs beyond its data, counted
	// generously (keys, names, attribute names) when sizing a transaction.
	itemOverhead = 1024
)

// Names and ids never contain '#', so these keys are unambiguous.
func viewPK(name, key string) string { return "v#" + name + "#" + key }
func checkpointPK(sub string, s signal.StreamID) string {
	return "c#" + sub + "#" + s.Type + "#" + s.ID
}

// LoadCheckpoint implements signal.CheckpointStore: one strongly
// consistent GetItem. A checkpoint that names a run (a projection run
// committed in several steps whose documents are not all written yet)
// has the run completed first, so the documents are current when the
// dispatcher reads them.
func (s *Store) LoadCheckpoint(ctx context.Context, subscriber string, id signal.StreamID) (signal.Checkpoint, error) {
	const op = "dynstore.LoadCheckpoint"
	if err := signal.ValidateCheckpoint(op, subscriber, id); err != nil {
		return signal.Checkpoint{}, err
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.tables.Views),
		Key:                      map[string]types.AttributeValue{attrPK: str(checkpointPK(subscriber, id))},
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#pos, #fail, #run"),
		ExpressionAttributeNames: map[string]string{"#pos": attrPos, "#fail": attrFailure, "#run": attrRun},
	})
	if err != nil {
		return signal.Checkpoint{}, mapError(op, id, err)
	}
	if len(out.Item) == 0 {
		return signal.Checkpoint{}, nil
	}
	cp, err := decodeCheckpoint(subscriber, id, out.Item)
	if err != nil {
		return signal.Checkpoint{}, &signal.Error{Kind: signal.KindInternal, Op: op, Stream: id, Message: "malformed checkpoint item", Err: err}
	}
	if run, ok := getS(out.Item, attrRun); ok {
		if err := s.resolveRun(ctx, run); err != nil {
			return signal.Checkpoint{}, err
		}
	}
	return cp, nil
}

func decodeCheckpoint(sub string, id signal.StreamID, item map[string]types.AttributeValue) (signal.Checkpoint, error) {
	pos, err := getN(item, attrPos)
	if err != nil {
		return signal.Checkpoint{}, err
	}
	cp := signal.Checkpoint{Version: pos}
	if m, ok := item[attrFailure].(*types.AttributeValueMemberM); ok {
		f := signal.Failure{Subscriber: sub, Stream: id}
		var n, ms int64
		var errs [3]error
		f.Version, errs[0] = getN(m.Value, "v")
		n, errs[1] = getN(m.Value, "n")
		ms, errs[2] = getN(m.Value, "t")
		if err := errors.Join(errs[:]...); err != nil {
			return signal.Checkpoint{}, err
		}
		f.Attempts, f.Time = int(n), timeFromMillis(ms)
		f.Error, _ = getS(m.Value, "e")
		if p, ok := m.Value["p"].(*types.AttributeValueMemberBOOL); ok {
			f.Parked = p.Value
		}
		cp.Failure = &f
	}
	return cp, nil
}

func failureValue(f *signal.Failure) types.AttributeValue {
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"v": num(f.Version), "n": num(int64(f.Attempts)), "e": str(f.Error),
		"t": num(f.Time.UnixMilli()), "p": &types.AttributeValueMemberBOOL{Value: f.Parked},
	}}
}

// checkpointCondition is the condition of every checkpoint move: the
// checkpoint is at `from` (or absent, for 0) and no multi-step run is
// completing on it.
func checkpointCondition(from int64) (string, map[string]types.AttributeValue) {
	cond := "pos = :from AND attribute_not_exists(#run)"
	if from == 0 {
		cond = "(attribute_not_exists(pk) OR pos = :from) AND attribute_not_exists(#run)"
	}
	return cond, map[string]types.AttributeValue{":from": num(from)}
}

// checkpointPut is the conditional write moving a checkpoint from -> to.
// It replaces the item, so any recorded failure goes with it.
func (s *Store) checkpointPut(sub string, id signal.StreamID, from, to int64) *types.Put {
	cond, vals := checkpointCondition(from)
	return &types.Put{
		TableName: aws.String(s.tables.Views),
		Item: map[string]types.AttributeValue{
			attrPK: str(checkpointPK(sub, id)), attrKind: str(KindCheckpoint),
			attrSub: str(sub), attrStream: str(streamKey(id)), attrPos: num(to),
		},
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            map[string]string{"#run": attrRun},
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// SaveCheckpoint implements signal.CheckpointStore with one conditional PutItem.
func (s *Store) SaveCheckpoint(ctx context.Context, subscriber string, id signal.StreamID, from, to int64) error {
	const op = "dynstore.SaveCheckpoint"
	if err := signal.ValidateCheckpointMove(op, subscriber, id, from, to); err != nil {
		return err
	}
	p := s.checkpointPut(subscriber, id, from, to)
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item,
		ConditionExpression: p.ConditionExpression, ExpressionAttributeNames: p.ExpressionAttributeNames,
		ExpressionAttributeValues: p.ExpressionAttributeValues, ReturnValuesOnConditionCheckFailure: p.ReturnValuesOnConditionCheckFailure})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		s.resolveRunOf(ctx, ccf.Item)
		return signal.CheckpointMoved(op, id)
	}
	return mapError(op, id, err)
}

// RecordFailure implements signal.CheckpointStore with one conditional
// UpdateItem, which creates the checkpoint at 0 when there is none.
func (s *Store) RecordFailure(ctx context.Context, f signal.Failure) error {
	const op = "dynstore.RecordFailure"
	if err := signal.ValidateFailure(op, &f); err != nil {
		return err
	}
	cond, vals := checkpointCondition(f.Version - 1)
	vals[":kind"], vals[":sub"], vals[":stream"] = str(KindCheckpoint), str(f.Subscriber), str(streamKey(f.Stream))
	vals[":zero"], vals[":fail"] = num(0), failureValue(&f)
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.tables.Views),
		Key:                       map[string]types.AttributeValue{attrPK: str(checkpointPK(f.Subscriber, f.Stream))},
		UpdateExpression:          aws.String("SET #kind = :kind, #sub = :sub, #stream = :stream, pos = if_not_exists(pos, :zero), #fail = :fail"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#kind": attrKind, "#sub": attrSub, "#stream": attrStream, "#fail": attrFailure, "#run": attrRun},
		ExpressionAttributeValues: vals,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return signal.CheckpointMoved(op, f.Stream)
	}
	return mapError(op, f.Stream, err)
}

// Failures implements signal.CheckpointStore with a Scan of the views
// table for checkpoints holding a failure: it reads the whole table, which
// is fine for an operator's listing and nothing else.
func (s *Store) Failures(ctx context.Context) ([]signal.Failure, error) {
	const op = "dynstore.Failures"
	var out []signal.Failure
	err := s.scanViews(ctx, "#kind = :cp AND attribute_exists(#fail)", map[string]string{"#kind": attrKind, "#fail": attrFailure},
		map[string]types.AttributeValue{":cp": str(KindCheckpoint)}, func(item map[string]types.AttributeValue) error {
			sub, _ := getS(item, attrSub)
			sk, _ := getS(item, attrStream)
			id, ok := parseStreamKey(sk)
			cp, err := decodeCheckpoint(sub, id, item)
			if !ok || err != nil || cp.Failure == nil {
				return &signal.Error{Kind: signal.KindInternal, Op: op, Message: "malformed checkpoint item", Err: err}
			}
			out = append(out, *cp.Failure)
			return nil
		})
	if err != nil {
		return nil, mapError(op, signal.StreamID{}, err)
	}
	return out, nil
}

// scanViews hands fn every item of the views table that filter selects,
// read strongly consistent, page by page; it stops at fn's first error.
// It reads the whole table: for operations, never for request paths.
func (s *Store) scanViews(ctx context.Context, filter string, names map[string]string, values map[string]types.AttributeValue, fn func(map[string]types.AttributeValue) error) error {
	p := dynamodb.NewScanPaginator(s.api, &dynamodb.ScanInput{
		TableName:                 aws.String(s.tables.Views),
		FilterExpression:          aws.String(filter),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, item := range page.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
	}
	return nil
}

// LoadView implements signal.ViewStore: one strongly consistent GetItem
// (none for a name or key signal.ValidateViewKey refuses, as Load).
// A document locked by a run that is not complete reads as it was before
// the run (read committed); one the run creates reads as missing.
func (s *Store) LoadView(ctx context.Context, name, key string) (signal.View, error) {
	const op = "dynstore.LoadView"
	if signal.ValidateViewKey(op, name, key) != nil {
		return signal.View{}, signal.ViewNotFound(op, name, key)
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Views),
		Key:            map[string]types.AttributeValue{attrPK: str(viewPK(name, key))},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return signal.View{}, mapError(op, signal.StreamID{}, err)
	}
	// A run's placeholder for a document it creates has no data yet.
	if len(out.Item) == 0 || out.Item[attrData] == nil && out.Item[attrLock] != nil {
		return signal.View{}, signal.ViewNotFound(op, name, key)
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

// CommitViews implements signal.ViewStore. A run that fits one
// transaction with its checkpoint (at most 99 documents and about 4 MB)
// is one TransactWriteItems (a lone checkpoint move, a plain conditional
// PutItem at half the cost); a larger one, up to signal.MaxViewWrites, is
// committed in steps that have the effect of one (viewrun.go).
func (s *Store) CommitViews(ctx context.Context, c signal.ViewCommit) error {
	const op = "dynstore.CommitViews"
	size, err := signal.ValidateViewCommit(op, &c)
	if err != nil {
		return err
	}
	if len(c.Writes) == 0 {
		return s.SaveCheckpoint(ctx, c.Subscriber, c.Stream, c.From, c.To)
	}
	if len(c.Writes)+1 > maxTransactItems || size+itemOverhead*(len(c.Writes)+1) > maxTransactBytes {
		return s.commitRun(ctx, &c)
	}
	items := []types.TransactWriteItem{{Put: s.checkpointPut(c.Subscriber, c.Stream, c.From, c.To)}}
	for _, w := range c.Writes {
		items = append(items, s.viewWrite(w))
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed", "TransactionConflict":
				// A document or the checkpoint held by an unfinished run
				// is resolved now, so the dispatcher's retry finds it free.
				s.resolveRunOf(ctx, r.Item)
				return &signal.Error{Kind: signal.KindConflict, Op: op, Stream: c.Stream, Message: "checkpoint or view changed", Err: err}
			}
		}
	}
	return mapError(op, c.Stream, err)
}

// viewWrite is one document's conditional write inside a transaction:
// at the version it was read, and not locked by a run.
func (s *Store) viewWrite(w signal.ViewWrite) types.TransactWriteItem {
	table := aws.String(s.tables.Views)
	key := map[string]types.AttributeValue{attrPK: str(viewPK(w.Name, w.Key))}
	allOld := types.ReturnValuesOnConditionCheckFailureAllOld
	if w.ExpectedVersion == 0 {
		// Absent (a run's placeholder counts as present).
		if w.Data == nil { // deleting what is not there: it must still not be
			return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: table, Key: key,
				ConditionExpression: aws.String(condNew), ReturnValuesOnConditionCheckFailure: allOld}}
		}
		return types.TransactWriteItem{Put: &types.Put{TableName: table, Item: viewItem(w),
			ConditionExpression: aws.String(condNew), ReturnValuesOnConditionCheckFailure: allOld}}
	}
	cond := aws.String("ver = :ver AND attribute_not_exists(#lk)")
	names := map[string]string{"#lk": attrLock}
	vals := map[string]types.AttributeValue{":ver": num(w.ExpectedVersion)}
	if w.Data == nil {
		return types.TransactWriteItem{Delete: &types.Delete{TableName: table, Key: key, ConditionExpression: cond,
			ExpressionAttributeNames: names, ExpressionAttributeValues: vals, ReturnValuesOnConditionCheckFailure: allOld}}
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: table, Item: viewItem(w), ConditionExpression: cond,
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals, ReturnValuesOnConditionCheckFailure: allOld}}
}

// viewItem is a document as written: the next version after the one read.
func viewItem(w signal.ViewWrite) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: str(viewPK(w.Name, w.Key)), attrKind: str(KindView),
		attrViewName: str(w.Name), attrViewKey: str(w.Key),
		attrVersion: num(w.ExpectedVersion + 1), attrData: payload(w.Data),
	}
}

// DropView implements signal.ViewStore: a Scan of the views table for the
// view's documents and the subscriber's checkpoints, deleted in batches of
// 25. It reads the whole table, which is fine for a rebuild and nothing else.
func (s *Store) DropView(ctx context.Context, name, subscriber string) error {
	const op = "dynstore.DropView"
	var batch []types.WriteRequest
	flush := func() error {
		for len(batch) > 0 {
			out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.tables.Views: batch}})
			if err != nil {
				return err
			}
			batch = out.UnprocessedItems[s.tables.Views]
			if len(batch) > 0 {
				select {
				case <-time.After(50 * time.Millisecond):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		return nil
	}
	err := s.scanViews(ctx, "(#kind = :view AND #view = :name) OR (#kind = :cp AND #sub = :sub)",
		map[string]string{"#kind": attrKind, "#view": attrViewName, "#sub": attrSub},
		map[string]types.AttributeValue{":view": str(KindView), ":name": str(name), ":cp": str(KindCheckpoint), ":sub": str(subscriber)},
		func(item map[string]types.AttributeValue) error {
			batch = append(batch, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{attrPK: item[attrPK]}}})
			if len(batch) == 25 {
				return flush()
			}
			return nil
		})
	if err == nil {
		err = flush()
	}
	return mapError(op, signal.StreamID{}, err)
}

var (
	_ signal.Store         = (*Store)(nil)
	_ signal.SnapshotStore = (*Store)(nil)
	_ signal.ViewStore     = (*Store)(nil)
)
