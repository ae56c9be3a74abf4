package dynstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"iter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/pkg/signal"
)

// Store is the DynamoDB signal.Store, with snapshots (also read with the
// commits after them in one Query: signal.LatestLoader), checkpoints and
// views. It has no change feed (signal.ChangeFeed): DynamoDB's is its
// stream, read by the Lambda event source mapping or by the Poller, whose
// positions are per shard rather than one global sequence.
type Store struct {
	api    API
	tables Tables
	// For tests: runHook, when it returns an error for a step, stops a
	// multi-step projection run there as a crash would (viewrun.go);
	// runLease overrides how long a pending run is left alone.
	runHook  func(step string) error
	runLease time.Duration
}

// New returns a Store on the given tables. Build client with
// ClientOptions so it has the tuned retryer. The tables must exist
// (CreateTables, or the CDK app).
func New(client API, tables Tables) (*Store, error) {
	if client == nil || tables.Events == "" || tables.Views == "" {
		return nil, errors.New("dynstore.New: a client and both table names are required")
	}
	return &Store{api: client, tables: tables}, nil
}

// Tables returns the table names the store uses.
func (s *Store) Tables() Tables { return s.tables }

const condNew = "attribute_not_exists(pk)"

// Append implements signal.Store with one conditional PutItem, or, for a
// Final commit, one transaction writing the commit and a tombstone at the
// next version (closure is rare; the hot path never uses a transaction).
// A conflict carries the item found (ALL_OLD) as its Conflict.Existing;
// finding a tombstone there means the stream is closed (ErrClosed).
func (s *Store) Append(ctx context.Context, c signal.Commit) error {
	const op = "dynstore.Append"
	if err := signal.ValidateCommit(op, &c); err != nil {
		return err
	}
	if c.Final {
		return s.appendFinal(ctx, &c)
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.tables.Events),
		Item:                                commitItem(&c),
		ConditionExpression:                 aws.String(condNew),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return conflict(&c, ccf.Item)
	}
	return mapError(op, c.Stream, err)
}

func (s *Store) appendFinal(ctx context.Context, c *signal.Commit) error {
	_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(s.tables.Events), Item: commitItem(c),
				ConditionExpression: aws.String(condNew), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
			{Put: &types.Put{TableName: aws.String(s.tables.Events), Item: tombstoneItem(c),
				ConditionExpression: aws.String(condNew)}},
		},
		// The SDK may retry a transaction whose first attempt landed; the
		// token (from the commit's first event id, unique per attempt)
		// makes that retry a no-op for 10 minutes instead of a failure.
		ClientRequestToken: aws.String(finalToken(c)),
	})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				if i == 0 {
					return conflict(c, r.Item)
				}
				return signal.DecideAppend("dynstore.Append", c, signal.AppendPoint{Taken: true})
			}
		}
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "TransactionConflict" {
				return signal.DecideAppend("dynstore.Append", c, signal.AppendPoint{Taken: true})
			}
		}
	}
	return mapError("dynstore.Append", c.Stream, err)
}

// finalToken is the ClientRequestToken of a final commit's transaction:
// its first event id when that fits DynamoDB's token (1 to 36 characters;
// a generated id, a UUID, always does), else a digest of it of 36 hex
// digits. Event ids may be up to signal.MaxIDBytes of any Unicode, which
// DynamoDB would refuse as a token (a ValidationException: the close
// would fail as internal).
func finalToken(c *signal.Commit) string {
	id := c.Events[0].ID
	if len(id) <= 36 && printableASCII(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:18])
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// conflict turns the item found at the commit's key into the contract's
// error with signal.DecideAppend: a tombstone there is the end of a
// closed stream just before c.Version; anything else takes the version
// (a commit is handed back as Existing when it decodes).
func conflict(c *signal.Commit, found map[string]types.AttributeValue) error {
	at := signal.AppendPoint{Taken: true}
	switch ItemKind(found) {
	case KindTombstone:
		at = signal.AppendPoint{Last: c.Version - 1, Closed: true}
	case KindCommit:
		if existing, err := DecodeCommit(found); err == nil {
			at.Existing = &existing
		}
	}
	return signal.DecideAppend("dynstore.Append", c, at)
}

// Load implements signal.Store: a strongly consistent Query of sk from
// after+1 to the highest version, paginated, skipping tombstones (and an
// old table's snapshot at sk = 0 for a negative after); the snapshot at
// the tip, above every version, is never read. A stream signal.Readable
// refuses is not queried: its key could name another stream once encoded
// (invalid UTF-8 goes over the wire as U+FFFD).
func (s *Store) Load(ctx context.Context, id signal.StreamID, after int64) iter.Seq2[signal.Commit, error] {
	return func(yield func(signal.Commit, error) bool) {
		if !signal.Readable(id) || after >= maxVersionSK {
			return
		}
		for c, err := range s.loadRange(ctx, "dynstore.Load", id, after+1, maxVersionSK) {
			if !yield(c, err) || err != nil {
				return
			}
		}
	}
}

// loadRange yields the stream's commits whose sk is from lo to hi, in
// order, with a strongly consistent paginated Query; an error (attributed
// to op) is yielded once, as the last pair.
func (s *Store) loadRange(ctx context.Context, op string, id signal.StreamID, lo, hi int64) iter.Seq2[signal.Commit, error] {
	return func(yield func(signal.Commit, error) bool) {
		p := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
			TableName:              aws.String(s.tables.Events),
			KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(streamKey(id)), ":lo": num(lo), ":hi": num(hi),
			},
			ConsistentRead: aws.Bool(true),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				yield(signal.Commit{}, mapError(op, id, err))
				return
			}
			for _, item := range page.Items {
				if ItemKind(item) != KindCommit {
					continue
				}
				c, err := DecodeCommit(item)
				if !yield(c, err) || err != nil {
					return
				}
			}
		}
	}
}
