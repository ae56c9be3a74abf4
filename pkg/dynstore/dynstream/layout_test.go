package dynstream

import (
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/internal/testsupport"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/signal"
)

func TestMain(m *testing.M) { testsupport.Main(m, motoserver.Stop) }

// The events table's item layout as its stream carries it. The package
// itself knows none of it (dynstore.DecodeCommitItem does); the tests
// write the names out to build malformed items and items of other kinds,
// so they also pin the format records already in a stream are in.
const (
	attrPK      = "pk"
	attrSK      = "sk"
	attrKind    = "kind"
	attrLast    = "last"
	attrCommand = "cmd"
	attrCorr    = "corr"
	attrTime    = "ts"
	attrEvents  = "ev"
	attrName    = "n"
	attrSchema  = "v"
	attrData    = "d"
	// snapshotSK is the sort key of a stream's snapshot item, the tip
	// (above every version); tables written before it kept it at 0.
	snapshotSK = "10000000000000000000"
)

// snapshotKey is the key of a stream's snapshot item.
func snapshotKey(s signal.StreamID) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(streamKey(s)), attrSK: &types.AttributeValueMemberN{Value: snapshotSK}}
}

// commitItem is the item the store writes for c.
func commitItem(c *signal.Commit) map[string]types.AttributeValue {
	return dynstore.EncodeCommitItem(c)
}

// tombstoneItem is the item the store writes after a final commit c.
func tombstoneItem(c *signal.Commit) map[string]types.AttributeValue {
	item := keyItem(streamKey(c.Stream), c.LastVersion()+1)
	item[attrKind] = str(dynstore.KindTombstone)
	item[attrTime] = num(c.Time.UnixMilli())
	return item
}

func streamKey(s signal.StreamID) string { return s.Type + "#" + s.ID }

func keyItem(pk string, sk int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: num(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
