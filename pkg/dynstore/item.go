package dynstore

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/pkg/signal"
)

// Item kinds, stored in the "kind" attribute. The event source mapping of
// the projector filters on kind = "commit".
const (
	KindCommit     = "commit"
	KindTombstone  = "tombstone"
	KindSnapshot   = "snapshot"
	KindView       = "view"
	KindCheckpoint = "checkpoint"
	// KindRun and KindJournal belong to a projection run too large for
	// one transaction (viewrun.go).
	KindRun     = "run"
	KindJournal = "journal"
)

// Attribute names. Short, because they count towards the 400 KB item limit
// once per event.
const (
	attrPK       = "pk"
	attrSK       = "sk"
	attrKind     = "kind"
	attrLast     = "last"
	attrCommand  = "cmd"
	attrFinger   = "fp"
	attrCorr     = "corr"
	attrCause    = "cause"
	attrActor    = "ac"
	attrTime     = "ts"
	attrFinal    = "final"
	attrEvents   = "ev"
	attrEventID  = "id"
	attrName     = "n"
	attrSchema   = "v"
	attrData     = "d"
	attrVersion  = "ver"
	attrSchemaV  = "schema"
	attrViewName = "view"
	attrViewKey  = "key"
	attrSub      = "sub"
	attrStream   = "stream"
	attrPos      = "pos"
	// A checkpoint's recorded failure (a map) and the run it completes.
	attrFailure = "fail"
	attrRun     = "run"
	// A view document's lock: the run that holds it (viewrun.go).
	attrLock = "lk"
	// The expiry DynamoDB's time to live deletes leftovers by (epoch seconds).
	attrExpires = "expires"
)

// A stream's snapshot item, its tip, has the sort key tipSK, 10^19: above
// every commit and tombstone, whose sort keys are versions (int64, at most
// maxVersionSK), so a descending Query of the partition reads the snapshot
// first and then the commits from the newest down, and Load's range of
// versions never reads it. legacySnapshotSK is where snapshots were kept
// before (below every commit): still read when there is no tip, never
// written.
const (
	tipSK            = "10000000000000000000"
	maxVersionSK     = math.MaxInt64
	legacySnapshotSK = 0
)

// tipKey is the key of a stream's snapshot item.
func tipKey(s signal.StreamID) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(streamKey(s)), attrSK: &types.AttributeValueMemberN{Value: tipSK}}
}

func streamKey(s signal.StreamID) string { return s.Type + "#" + s.ID }

func parseStreamKey(pk string) (signal.StreamID, bool) {
	typ, id, ok := strings.Cut(pk, "#")
	if !ok || typ == "" || id == "" {
		return signal.StreamID{}, false
	}
	return signal.StreamID{Type: typ, ID: id}, true
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// payload stores bytes as a string attribute when they are valid UTF-8
// (JSON always is: readable in the console and in stream records) and as
// binary otherwise, so every byte survives either way.
func payload(b []byte) types.AttributeValue {
	if utf8.Valid(b) {
		return &types.AttributeValueMemberS{Value: string(b)}
	}
	return &types.AttributeValueMemberB{Value: b}
}

func keyItem(pk string, sk int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: num(sk)}
}

// commitItem encodes a commit as one events-table item.
func commitItem(c *signal.Commit) map[string]types.AttributeValue {
	item := keyItem(streamKey(c.Stream), c.Version)
	item[attrKind] = str(KindCommit)
	item[attrLast] = num(c.LastVersion())
	item[attrTime] = num(c.Time.UnixMilli())
	if c.CommandID != "" {
		item[attrCommand] = str(c.CommandID)
	}
	if c.Fingerprint != "" {
		item[attrFinger] = str(c.Fingerprint)
	}
	if c.CorrelationID != "" {
		item[attrCorr] = str(c.CorrelationID)
	}
	if c.CausationID != "" {
		item[attrCause] = str(c.CausationID)
	}
	// Absent when empty, as the ids above: a commit without an actor is
	// the item it was before actors were recorded, not a byte (or a WCU)
	// more, and an old item decodes with an empty Actor.
	if c.Actor != "" {
		item[attrActor] = str(c.Actor)
	}
	if c.Final {
		item[attrFinal] = &types.AttributeValueMemberBOOL{Value: true}
	}
	evs := make([]types.AttributeValue, len(c.Events))
	for i := range c.Events {
		e := &c.Events[i]
		evs[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			attrEventID: str(e.ID),
			attrName:    str(e.Name),
			attrSchema:  num(int64(e.SchemaVersion)),
			attrData:    payload(e.Data),
		}}
	}
	item[attrEvents] = &types.AttributeValueMemberL{Value: evs}
	return item
}

func tombstoneItem(c *signal.Commit) map[string]types.AttributeValue {
	item := keyItem(streamKey(c.Stream), c.LastVersion()+1)
	item[attrKind] = str(KindTombstone)
	item[attrTime] = num(c.Time.UnixMilli())
	return item
}

// ItemKind returns the kind attribute of an item, "" if absent.
func ItemKind(item map[string]types.AttributeValue) string {
	s, _ := getS(item, attrKind)
	return s
}

// DecodeCommit decodes an events-table item of kind "commit". Errors are
// *signal.Error of KindInternal naming the item and what is wrong.
func DecodeCommit(item map[string]types.AttributeValue) (signal.Commit, error) {
	pk, _ := getS(item, attrPK)
	fail := func(format string, args ...any) (signal.Commit, error) {
		return signal.Commit{}, &signal.Error{Kind: signal.KindInternal, Op: "dynstore.Decode",
			Message: fmt.Sprintf("malformed commit item %q: %s", pk, fmt.Sprintf(format, args...))}
	}
	if k := ItemKind(item); k != KindCommit {
		return fail("kind is %q, not %q", k, KindCommit)
	}
	stream, ok := parseStreamKey(pk)
	if !ok {
		return fail("pk is not <type>#<id>")
	}
	var c signal.Commit
	var err error
	c.Stream = stream
	if c.Version, err = getN(item, attrSK); err != nil || c.Version < 1 {
		return fail("sk: %v", orBad(err, c.Version))
	}
	last, err := getN(item, attrLast)
	if err != nil {
		return fail("last: %v", err)
	}
	ms, err := getN(item, attrTime)
	if err != nil {
		return fail("ts: %v", err)
	}
	c.Time = timeFromMillis(ms)
	c.CommandID, _ = getS(item, attrCommand)
	c.Fingerprint, _ = getS(item, attrFinger)
	c.CorrelationID, _ = getS(item, attrCorr)
	c.CausationID, _ = getS(item, attrCause)
	c.Actor, _ = getS(item, attrActor)
	if f, ok := item[attrFinal].(*types.AttributeValueMemberBOOL); ok {
		c.Final = f.Value
	}
	l, ok := item[attrEvents].(*types.AttributeValueMemberL)
	if !ok || len(l.Value) == 0 {
		return fail("no events")
	}
	c.Events = make([]signal.RawEvent, len(l.Value))
	for i, av := range l.Value {
		if c.Events[i], err = decodeEvent(av); err != nil {
			return fail("event %d %v", i, err)
		}
	}
	if c.LastVersion() != last {
		return fail("last is %d but %d events start at %d", last, len(c.Events), c.Version)
	}
	return c, nil
}

// decodeEvent decodes one element of a commit item's events list. Its
// errors complete "event <i> ...": what the element lacks.
func decodeEvent(av types.AttributeValue) (signal.RawEvent, error) {
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return signal.RawEvent{}, errors.New("is not a map")
	}
	var e signal.RawEvent
	var okID, okName bool
	e.ID, okID = getS(m.Value, attrEventID)
	e.Name, okName = getS(m.Value, attrName)
	sv, err := getN(m.Value, attrSchema)
	if !okID || !okName || err != nil {
		return signal.RawEvent{}, errors.New("lacks id, name or schema version")
	}
	e.SchemaVersion = int(sv)
	if e.Data, ok = getBytes(m.Value, attrData); !ok {
		return signal.RawEvent{}, errors.New("has no data")
	}
	return e, nil
}

func orBad(err error, v int64) any {
	if err != nil {
		return err
	}
	return fmt.Sprintf("version %d < 1", v)
}

func getS(item map[string]types.AttributeValue, name string) (string, bool) {
	v, ok := item[name].(*types.AttributeValueMemberS)
	if !ok {
		return "", false
	}
	return v.Value, true
}

func getN(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %q is missing or not a number", name)
	}
	return strconv.ParseInt(v.Value, 10, 64)
}

func getBytes(item map[string]types.AttributeValue, name string) ([]byte, bool) {
	switch d := item[name].(type) {
	case *types.AttributeValueMemberS:
		return []byte(d.Value), true
	case *types.AttributeValueMemberB:
		return d.Value, true
	}
	return nil, false
}

func timeFromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
