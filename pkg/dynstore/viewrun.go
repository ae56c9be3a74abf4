package dynstore

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/signalforgo/signal/pkg/signal"
)

// A projection run too large for one transaction (more than 99 documents
// or about 4 MB) is committed in steps, with the effect of one atomic
// commit. It is a two-phase commit whose decision lives in one item:
//
//  1. run item r#<id>: state "pending", the subscriber, stream and
//     checkpoint move, the number of journal pages, its start time.
//  2. journal pages j#<id>#<n>: every document write, with the version
//     it was read at (so anyone can finish the run from the table alone).
//  3. locks: each document gets lk = <id>, conditioned on its version
//     (or absence) and on no other lock, in key order, 100 to a
//     transaction; a new document is created as a placeholder holding
//     only the lock. Other runs' writes are conditioned on there being no
//     lock, so they cannot slip in between.
//  4. commit: one transaction turns the run "committed" and moves the
//     checkpoint, marking it with the run's id. This is the decision:
//     before it the run can be aborted, after it only completed.
//  5. apply: each document gets its new data (or is deleted) and loses
//     the lock, conditioned on holding it, so applying twice is harmless.
//  6. finish: the checkpoint's mark, the run item and the pages go.
//
// A crash, a timeout or a lost answer can stop this anywhere; whoever
// meets the leftovers resolves them: a checkpoint's mark (LoadCheckpoint)
// or a lock (a write that failed on it) leads to the run item. A
// committed run is completed (steps 5 and 6); a pending one older than
// the lease is aborted (the run item deleted, the locks released); a
// missing one was aborted or has finished, and a lock it left is released.
// Aborting deletes the run item only while it is pending, and committing
// changes it only while it is pending, so of an abort and a commit
// racing exactly one wins.
//
// Cost, for n documents: n locks in transactions of 100 (2 WCU each),
// n applying writes (plain UpdateItem, 1 WCU per KB), the pages (about
// one write per 300 KB), the run item, a two-item transaction and the
// clean-up: about 3n WCU, versus 2n+2 for a run that fits one
// transaction.

const (
	// runLease is how long a pending run may take before another worker
	// may abort it (a live owner then finds its commit refused and
	// retries). A run of signal.MaxViewWrites documents takes seconds.
	runLease = time.Minute
	// runTTL is when DynamoDB's time to live removes a run's pages and an
	// uncommitted run item that nobody resolved (the views table's TTL
	// attribute is "expires").
	runTTL = 7 * 24 * time.Hour
	// journalPageBytes is what one journal page holds, under the 400 KB
	// item limit (a document of up to signal.MaxCommitBytes takes a page).
	journalPageBytes = 300 << 10
	// runParallel bounds the requests a run has in flight.
	runParallel = 16

	runPending   = "pending"
	runCommitted = "committed"
)

// Attributes of run items and journal pages.
const (
	attrState   = "st"
	attrFrom    = "from"
	attrTo      = "to"
	attrPages   = "pages"
	attrCreated = "created"
	attrWrites  = "w"
)

func runPK(id string) string            { return "r#" + id }
func journalPK(id string, n int) string { return "j#" + id + "#" + strconv.Itoa(n) }

// viewRun is a multi-step commit.
type viewRun struct {
	id      string
	c       signal.ViewCommit
	pages   int
	created time.Time
	state   string
}

// commitRun commits c in steps (see above). It returns nil once every
// document is written; ErrConflict when it was aborted (nothing written);
// another error when a step failed: the run is then either aborted or,
// past the commit, completed by whoever meets it next.
func (s *Store) commitRun(ctx context.Context, c *signal.ViewCommit) error {
	const op = "dynstore.CommitViews"
	// Every run locks documents in the same order (see lock).
	writes := slices.Clone(c.Writes)
	slices.SortFunc(writes, func(a, b signal.ViewWrite) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Key, b.Key))
	})
	pages := journalPages(writes)
	r := &viewRun{id: signal.NewID(), c: *c, pages: len(pages), created: time.Now(), state: runPending}
	r.c.Writes = writes
	if err := s.putRun(ctx, r); err != nil {
		return mapError(op, c.Stream, err)
	}
	if err := s.crash("run"); err != nil {
		return err
	}
	if err := s.putPages(ctx, r, pages); err != nil {
		return s.abandon(ctx, r, mapError(op, c.Stream, err))
	}
	if err := s.crash("pages"); err != nil {
		return err
	}
	if err := s.lock(ctx, r); err != nil {
		return s.abandon(ctx, r, err)
	}
	if err := s.crash("locks"); err != nil {
		return err
	}
	if err := s.decide(ctx, r); err != nil {
		return err
	}
	if err := s.crash("commit"); err != nil {
		return err
	}
	return s.complete(ctx, r)
}

// crash lets tests stop a run after a step as a crash would: nothing
// more is done, not even clean-up. nil outside tests.
func (s *Store) crash(step string) error {
	if s.runHook == nil {
		return nil
	}
	return s.runHook(step)
}

// journalPages splits the writes into pages of at most journalPageBytes.
func journalPages(writes []signal.ViewWrite) [][]signal.ViewWrite {
	var pages [][]signal.ViewWrite
	size := journalPageBytes
	for _, w := range writes {
		n := len(w.Data) + len(w.Name) + len(w.Key) + 64
		if size+n > journalPageBytes {
			pages, size = append(pages, nil), 0
		}
		pages[len(pages)-1] = append(pages[len(pages)-1], w)
		size += n
	}
	return pages
}

func (s *Store) putRun(ctx context.Context, r *viewRun) error {
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.tables.Views),
		Item: map[string]types.AttributeValue{
			attrPK: str(runPK(r.id)), attrKind: str(KindRun), attrState: str(runPending),
			attrSub: str(r.c.Subscriber), attrStream: str(streamKey(r.c.Stream)),
			attrFrom: num(r.c.From), attrTo: num(r.c.To), attrPages: num(int64(r.pages)),
			attrCreated: num(r.created.UnixMilli()), attrExpires: num(r.created.Add(runTTL).Unix()),
		},
	})
	return err
}

func (s *Store) putPages(ctx context.Context, r *viewRun, pages [][]signal.ViewWrite) error {
	expires := num(r.created.Add(runTTL).Unix())
	return s.each(ctx, len(pages), func(ctx context.Context, n int) error {
		ws := make([]types.AttributeValue, len(pages[n]))
		for i, w := range pages[n] {
			m := map[string]types.AttributeValue{"n": str(w.Name), "k": str(w.Key), "e": num(w.ExpectedVersion)}
			if w.Data != nil {
				m["d"] = payload(w.Data)
			}
			ws[i] = &types.AttributeValueMemberM{Value: m}
		}
		_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.tables.Views), Item: map[string]types.AttributeValue{
			attrPK: str(journalPK(r.id, n)), attrKind: str(KindJournal), attrRun: str(r.id),
			attrWrites: &types.AttributeValueMemberL{Value: ws}, attrExpires: expires,
		}})
		return err
	})
}

// lock takes every document's lock, in key order, in transactions of
// up to 100: a transaction takes all of its locks or none. Two runs that
// want the same documents therefore never hold half of each other's: the
// one that fails has locked only keys before the one it failed on, which
// the other, further along the same order, no longer needs. On a conflict
// lock resolves the run holding the document, if another does, and
// answers ErrConflict.
func (s *Store) lock(ctx context.Context, r *viewRun) error {
	const op = "dynstore.CommitViews"
	for start := 0; start < len(r.c.Writes); start += maxTransactItems {
		chunk := r.c.Writes[start:min(start+maxTransactItems, len(r.c.Writes))]
		items := make([]types.TransactWriteItem, len(chunk))
		for i, w := range chunk {
			items[i] = types.TransactWriteItem{Update: s.lockUpdate(w, r.id)}
		}
		_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items,
			// An SDK retry of a transaction that landed succeeds.
			ClientRequestToken: aws.String(requestToken(r.id, start))})
		var tce *types.TransactionCanceledException
		switch {
		case err == nil:
			continue
		case errors.As(err, &tce) && ownLocks(tce, r.id):
			continue // an earlier attempt of this transaction landed
		case tce != nil:
			for i, reason := range tce.CancellationReasons {
				if aws.ToString(reason.Code) == "ConditionalCheckFailed" {
					s.resolveRunOf(ctx, reason.Item)
					return &signal.Error{Kind: signal.KindConflict, Op: op, Stream: r.c.Stream,
						Message: fmt.Sprintf("view %s/%s changed", chunk[i].Name, chunk[i].Key), Err: err}
				}
			}
		}
		// Canceled for another reason (throttled, a concurrent
		// transaction) or not sent: no lock of this transaction is held.
		return mapError(op, r.c.Stream, err)
	}
	return nil
}

// ownLocks reports whether a lock transaction failed only because every
// document already holds this run's lock: an earlier attempt landed and
// its answer was lost (the SDK retried past ClientRequestToken's reach,
// or the endpoint does not keep tokens).
func ownLocks(tce *types.TransactionCanceledException, run string) bool {
	for _, reason := range tce.CancellationReasons {
		if held, _ := getS(reason.Item, attrLock); aws.ToString(reason.Code) != "ConditionalCheckFailed" || held != run {
			return false
		}
	}
	return len(tce.CancellationReasons) > 0
}

// lockUpdate takes one document's lock if it is still at the version
// read (or still absent: then a placeholder holding the lock is created)
// and not locked by another run.
func (s *Store) lockUpdate(w signal.ViewWrite, run string) *types.Update {
	u := &types.Update{
		TableName:        aws.String(s.tables.Views),
		Key:              map[string]types.AttributeValue{attrPK: str(viewPK(w.Name, w.Key))},
		UpdateExpression: aws.String("SET #lk = :run, #kind = :kind, #view = :name, #key = :key"),
		ExpressionAttributeNames: map[string]string{"#lk": attrLock, "#kind": attrKind,
			"#view": attrViewName, "#key": attrViewKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":run": str(run),
			":kind": str(KindView), ":name": str(w.Name), ":key": str(w.Key)},
		ConditionExpression:                 aws.String(condNew),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if w.ExpectedVersion > 0 {
		u.ConditionExpression = aws.String("ver = :ver AND attribute_not_exists(#lk)")
		u.ExpressionAttributeValues[":ver"] = num(w.ExpectedVersion)
	}
	return u
}

// requestToken derives a transaction's ClientRequestToken (at most 36
// characters) from the run and the transaction's place in it.
func requestToken(run string, n int) string {
	sum := sha256.Sum256([]byte(run + "#" + strconv.Itoa(n)))
	return hex.EncodeToString(sum[:16])
}

// decide commits the run: the run item turns "committed" and the
// checkpoint moves, in one transaction. On an answer that leaves the
// outcome unknown it reads the run item to learn it.
func (s *Store) decide(ctx context.Context, r *viewRun) error {
	const op = "dynstore.CommitViews"
	cond, vals := checkpointCondition(r.c.From)
	vals[":to"], vals[":run"], vals[":kind"] = num(r.c.To), str(r.id), str(KindCheckpoint)
	vals[":sub"], vals[":stream"] = str(r.c.Subscriber), str(streamKey(r.c.Stream))
	_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName:                 aws.String(s.tables.Views),
				Key:                       map[string]types.AttributeValue{attrPK: str(runPK(r.id))},
				UpdateExpression:          aws.String("SET #st = :committed REMOVE #exp"),
				ConditionExpression:       aws.String("#st = :pending"),
				ExpressionAttributeNames:  map[string]string{"#st": attrState, "#exp": attrExpires},
				ExpressionAttributeValues: map[string]types.AttributeValue{":committed": str(runCommitted), ":pending": str(runPending)},
			}},
			{Update: &types.Update{
				TableName:                 aws.String(s.tables.Views),
				Key:                       map[string]types.AttributeValue{attrPK: str(checkpointPK(r.c.Subscriber, r.c.Stream))},
				UpdateExpression:          aws.String("SET pos = :to, #run = :run, #kind = :kind, #sub = :sub, #stream = :stream REMOVE #fail"),
				ConditionExpression:       aws.String(cond),
				ExpressionAttributeNames:  map[string]string{"#run": attrRun, "#kind": attrKind, "#sub": attrSub, "#stream": attrStream, "#fail": attrFailure},
				ExpressionAttributeValues: vals,
			}},
		},
		// The SDK may retry a transaction whose first attempt landed; the
		// token makes that retry succeed instead of failing its conditions.
		ClientRequestToken: aws.String(r.id),
	})
	var tce *types.TransactionCanceledException
	canceled := errors.As(err, &tce)
	switch {
	case err == nil:
		r.state = runCommitted
		return nil
	case canceled && len(tce.CancellationReasons) == 2 && aws.ToString(tce.CancellationReasons[0].Code) == "None" &&
		aws.ToString(tce.CancellationReasons[1].Code) == "ConditionalCheckFailed":
		// The checkpoint moved: another worker got there first.
		return s.abandon(ctx, r, &signal.Error{Kind: signal.KindConflict, Op: op, Stream: r.c.Stream, Message: "checkpoint moved", Err: err})
	}
	// Unknown outcome, or the run is no longer pending: this attempt's
	// answer was lost after it committed, or another worker aborted the
	// run (it took too long, and that worker releases the locks). The
	// run item says which.
	got, gerr := s.loadRun(ctx, r.id)
	switch {
	case gerr != nil: // still unknown; whoever meets the run next resolves it
		return &signal.Error{Kind: signal.KindUnavailable, Op: op, Stream: r.c.Stream,
			Message: "DynamoDB did not say whether the projection run committed; try again", Err: errors.Join(err, gerr)}
	case got != nil && got.state == runCommitted:
		r.state = runCommitted
		return nil
	case got == nil:
		return &signal.Error{Kind: signal.KindConflict, Op: op, Stream: r.c.Stream, Message: "the run was aborted", Err: err}
	}
	// Still pending: the commit did not happen (throttled, a concurrent
	// transaction, not sent).
	return s.abandon(ctx, r, mapError(op, r.c.Stream, err))
}

// complete applies a committed run's writes and cleans up after it. An
// error leaves the run committed, completed later by whoever meets it.
func (s *Store) complete(ctx context.Context, r *viewRun) error {
	const op = "dynstore.CommitViews"
	if err := s.apply(ctx, r); err != nil {
		return mapError(op, r.c.Stream, err)
	}
	if err := s.crash("apply"); err != nil {
		return err
	}
	s.finish(ctx, r)
	return nil
}

// apply writes every document held by the run and releases its lock.
func (s *Store) apply(ctx context.Context, r *viewRun) error {
	return s.each(ctx, len(r.c.Writes), func(ctx context.Context, i int) error {
		w := r.c.Writes[i]
		key := map[string]types.AttributeValue{attrPK: str(viewPK(w.Name, w.Key))}
		names := map[string]string{"#lk": attrLock}
		vals := map[string]types.AttributeValue{":run": str(r.id)}
		var err error
		if w.Data == nil {
			_, err = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.tables.Views), Key: key,
				ConditionExpression: aws.String("#lk = :run"), ExpressionAttributeNames: names, ExpressionAttributeValues: vals})
		} else {
			names["#d"] = attrData
			vals[":d"], vals[":ver"] = payload(w.Data), num(w.ExpectedVersion+1)
			_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.tables.Views), Key: key,
				UpdateExpression:    aws.String("SET #d = :d, ver = :ver REMOVE #lk"),
				ConditionExpression: aws.String("#lk = :run"), ExpressionAttributeNames: names, ExpressionAttributeValues: vals})
		}
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return nil // applied already, by another worker completing the run
		}
		return err
	})
}

// finish removes the checkpoint's mark, the run item and its pages. It is
// best effort: a mark left behind makes the next LoadCheckpoint complete
// the run again, which finds nothing left to do; pages left behind expire.
func (s *Store) finish(ctx context.Context, r *viewRun) {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.tables.Views),
		Key:                       map[string]types.AttributeValue{attrPK: str(checkpointPK(r.c.Subscriber, r.c.Stream))},
		UpdateExpression:          aws.String("REMOVE #run"),
		ConditionExpression:       aws.String("#run = :run"),
		ExpressionAttributeNames:  map[string]string{"#run": attrRun},
		ExpressionAttributeValues: map[string]types.AttributeValue{":run": str(r.id)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return // the run item stays, for the mark to find
	}
	_ = s.deleteRun(ctx, r, "") // what stays is found by ResolveRuns, or expires
}

// abandon aborts the run the caller owns and returns cause; or, should
// the run have committed after all (an attempt of the commit that landed
// late), completes it.
func (s *Store) abandon(ctx context.Context, r *viewRun, cause error) error {
	if err := s.abort(ctx, r); errors.Is(err, errCommitted) {
		r.state = runCommitted
		return s.complete(ctx, r)
	}
	return cause
}

// errCommitted: abort found the run committed; it must be completed.
var errCommitted = errors.New("the run is committed")

// abort ends a pending run: the run item is deleted, only while it is
// pending, then its locks are released and its pages deleted. It returns
// nil once the run is over (aborted here or before, or finished),
// errCommitted when it turned out committed, another error when the run
// item could not be deleted (the run is then left to whoever meets it
// next). Releasing is best effort: a lock left behind is released by
// whoever meets it, since its run is gone.
func (s *Store) abort(ctx context.Context, r *viewRun) error {
	const op = "dynstore.AbortRun"
	err := s.deleteRun(ctx, r, runPending)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		// No longer pending: committed, or gone already.
		got, gerr := s.loadRun(ctx, r.id)
		switch {
		case gerr != nil:
			return mapError(op, r.c.Stream, gerr)
		case got != nil && got.state == runCommitted:
			return errCommitted
		case got != nil:
			return &signal.Error{Kind: signal.KindInternal, Op: op, Stream: r.c.Stream, Message: fmt.Sprintf("run %s is in state %q", r.id, got.state)}
		}
	} else if err != nil {
		return mapError(op, r.c.Stream, err)
	}
	_ = s.each(ctx, len(r.c.Writes), func(ctx context.Context, i int) error {
		w := r.c.Writes[i]
		s.release(ctx, viewPK(w.Name, w.Key), r.id, w.ExpectedVersion == 0)
		return nil
	})
	for n := range r.pages {
		_, _ = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.tables.Views),
			Key: map[string]types.AttributeValue{attrPK: str(journalPK(r.id, n))}})
	}
	return nil
}

// deleteRun deletes the run item, when state is given only in that state,
// and after a committed run also its pages.
func (s *Store) deleteRun(ctx context.Context, r *viewRun, state string) error {
	in := &dynamodb.DeleteItemInput{TableName: aws.String(s.tables.Views),
		Key: map[string]types.AttributeValue{attrPK: str(runPK(r.id))}}
	if state != "" {
		in.ConditionExpression = aws.String("#st = :st")
		in.ExpressionAttributeNames = map[string]string{"#st": attrState}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":st": str(state)}
	}
	if _, err := s.api.DeleteItem(ctx, in); err != nil {
		return err
	}
	if state == "" {
		for n := range r.pages {
			_, _ = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.tables.Views),
				Key: map[string]types.AttributeValue{attrPK: str(journalPK(r.id, n))}})
		}
	}
	return nil
}

// release removes a run's lock from a document: a placeholder the run
// created is deleted, an existing document keeps its data.
func (s *Store) release(ctx context.Context, pk, run string, placeholder bool) {
	key := map[string]types.AttributeValue{attrPK: str(pk)}
	names := map[string]string{"#lk": attrLock}
	vals := map[string]types.AttributeValue{":run": str(run)}
	if placeholder {
		names["#d"] = attrData
		_, _ = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.tables.Views), Key: key,
			ConditionExpression: aws.String("#lk = :run AND attribute_not_exists(#d)"), ExpressionAttributeNames: names, ExpressionAttributeValues: vals})
		return
	}
	_, _ = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.tables.Views), Key: key,
		UpdateExpression: aws.String("REMOVE #lk"), ConditionExpression: aws.String("#lk = :run"),
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals})
}

// resolveRunOf resolves the run an item found in a failed condition names
// (a document's lock or a checkpoint's mark), so the caller's retry finds
// the way clear. A lock whose run is gone is released. Best effort.
func (s *Store) resolveRunOf(ctx context.Context, item map[string]types.AttributeValue) {
	lock, locked := getS(item, attrLock)
	run, marked := getS(item, attrRun)
	switch {
	case locked:
		if s.resolveRun(ctx, lock) == nil {
			pk, _ := getS(item, attrPK)
			s.release(ctx, pk, lock, item[attrData] == nil)
		}
	case marked:
		_ = s.resolveRun(ctx, run)
	}
}

// resolveRun brings a run found by another worker to its end: a
// committed run is completed; a pending one is left alone while its lease
// lasts (ErrConflict: try again later) and aborted after; a missing one
// has ended already. nil means the run is over.
func (s *Store) resolveRun(ctx context.Context, id string) error {
	const op = "dynstore.ResolveRun"
	r, err := s.loadRun(ctx, id)
	if err != nil || r == nil {
		return mapError(op, signal.StreamID{}, err)
	}
	if r.state == runPending && time.Since(r.created) < s.lease() {
		return &signal.Error{Kind: signal.KindConflict, Op: op, Stream: r.c.Stream, Message: "a projection run is in progress"}
	}
	if err := s.loadPages(ctx, r); err != nil {
		return err
	}
	if r.state == runPending {
		err := s.abort(ctx, r)
		if !errors.Is(err, errCommitted) {
			return err
		}
		// Its owner committed it while we looked: complete it.
		r.state = runCommitted
	}
	return s.complete(ctx, r)
}

func (s *Store) lease() time.Duration {
	if s.runLease > 0 {
		return s.runLease
	}
	return runLease
}

// loadRun reads a run item; nil when there is none.
func (s *Store) loadRun(ctx context.Context, id string) (*viewRun, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.tables.Views),
		Key: map[string]types.AttributeValue{attrPK: str(runPK(id))}, ConsistentRead: aws.Bool(true)})
	if err != nil || len(out.Item) == 0 {
		return nil, err
	}
	r := &viewRun{id: id}
	var errs [4]error
	var pages, created int64
	r.c.Subscriber, _ = getS(out.Item, attrSub)
	sk, _ := getS(out.Item, attrStream)
	r.c.Stream, _ = parseStreamKey(sk)
	r.state, _ = getS(out.Item, attrState)
	r.c.From, errs[0] = getN(out.Item, attrFrom)
	r.c.To, errs[1] = getN(out.Item, attrTo)
	pages, errs[2] = getN(out.Item, attrPages)
	created, errs[3] = getN(out.Item, attrCreated)
	if err := errors.Join(errs[:]...); err != nil {
		return nil, &signal.Error{Kind: signal.KindInternal, Op: "dynstore.ResolveRun", Message: "malformed run item " + id, Err: err}
	}
	r.pages, r.created = int(pages), timeFromMillis(created)
	return r, nil
}

// loadPages reads a run's writes from its journal. A pending run may lack
// pages (it stopped before writing them all, so it took no lock).
func (s *Store) loadPages(ctx context.Context, r *viewRun) error {
	const op = "dynstore.ResolveRun"
	pages := make([][]signal.ViewWrite, r.pages)
	err := s.each(ctx, r.pages, func(ctx context.Context, n int) error {
		out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.tables.Views),
			Key: map[string]types.AttributeValue{attrPK: str(journalPK(r.id, n))}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return mapError(op, r.c.Stream, err)
		}
		if len(out.Item) == 0 {
			if r.state == runCommitted {
				return &signal.Error{Kind: signal.KindInternal, Op: op, Stream: r.c.Stream, Message: fmt.Sprintf("journal page %d of committed run %s is missing", n, r.id)}
			}
			return nil
		}
		pages[n], err = decodePage(out.Item)
		if err != nil {
			return &signal.Error{Kind: signal.KindInternal, Op: op, Stream: r.c.Stream, Message: "malformed journal page of run " + r.id, Err: err}
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.c.Writes = []signal.ViewWrite{}
	for _, p := range pages {
		r.c.Writes = append(r.c.Writes, p...)
	}
	return nil
}

func decodePage(item map[string]types.AttributeValue) ([]signal.ViewWrite, error) {
	l, ok := item[attrWrites].(*types.AttributeValueMemberL)
	if !ok {
		return nil, errors.New("no writes")
	}
	out := make([]signal.ViewWrite, len(l.Value))
	for i, v := range l.Value {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			return nil, errors.New("a write is not a map")
		}
		w := &out[i]
		var okN, okK bool
		w.Name, okN = getS(m.Value, "n")
		w.Key, okK = getS(m.Value, "k")
		e, err := getN(m.Value, "e")
		if !okN || !okK || err != nil {
			return nil, fmt.Errorf("write %d is malformed", i)
		}
		w.ExpectedVersion = e
		w.Data, _ = getBytes(m.Value, "d")
	}
	return out, nil
}

// each runs fn for 0..n-1 with at most runParallel at once, stopping at
// the first error.
func (s *Store) each(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runParallel)
	for i := range n {
		g.Go(func() error { return fn(ctx, i) })
	}
	return g.Wait()
}

// RunStats counts what ResolveRuns found and did.
type RunStats struct {
	// Completed and Aborted count the runs brought to their end; Waiting,
	// pending runs still inside their lease (in progress, or stopped less
	// than a minute ago: run it again later).
	Completed, Aborted, Waiting int
	// Released counts locks of ended runs taken off documents.
	Released int
}

// ResolveRuns brings every multi-step projection run that is not over to
// its end, as the dispatcher does for those it meets: a committed run is
// completed, a pending one older than the lease aborted, a lock whose run
// has ended released. It scans the whole views table, so it is for
// operations (after an outage, before a rebuild), not for request paths.
func (s *Store) ResolveRuns(ctx context.Context) (RunStats, error) {
	const op = "dynstore.ResolveRuns"
	var st RunStats
	var locked []map[string]types.AttributeValue
	err := s.scanViews(ctx, "#kind = :run OR attribute_exists(#lk)", map[string]string{"#kind": attrKind, "#lk": attrLock},
		map[string]types.AttributeValue{":run": str(KindRun)}, func(item map[string]types.AttributeValue) error {
			if kind, _ := getS(item, attrKind); kind != KindRun {
				locked = append(locked, item)
				return nil
			}
			pk, _ := getS(item, attrPK)
			state, _ := getS(item, attrState)
			err := s.resolveRun(ctx, strings.TrimPrefix(pk, "r#"))
			switch {
			case errors.Is(err, signal.ErrConflict):
				st.Waiting++
			case err != nil:
				return err
			case state == runCommitted:
				st.Completed++
			default:
				st.Aborted++
			}
			return nil
		})
	if err != nil {
		return st, mapError(op, signal.StreamID{}, err)
	}
	// Locks found before their runs ended are released by those runs;
	// what is still locked by a run that is gone is released here.
	for _, item := range locked {
		lock, _ := getS(item, attrLock)
		r, err := s.loadRun(ctx, lock)
		if err != nil {
			return st, mapError(op, signal.StreamID{}, err)
		}
		if r == nil {
			pk, _ := getS(item, attrPK)
			s.release(ctx, pk, lock, item[attrData] == nil)
			st.Released++
		}
	}
	return st, nil
}
