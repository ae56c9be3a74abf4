package dynstore

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/signalforgo/signal/internal/testsupport"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
)

func TestMain(m *testing.M) { testsupport.Main(m, motoserver.Stop) }

var tableSeq atomic.Int64

// testStore is a Store on fresh tables in moto_server (or AWS_ENDPOINT_URL),
// with a meter on its client and the client itself for direct reads.
type testStore struct {
	*Store
	client *dynamodb.Client
	meter  *Meter
}

func newTestStore(t testing.TB) *testStore {
	t.Helper()
	meter := NewMeter()
	client := dynamodb.NewFromConfig(motoserver.Config(t), ClientOptions(meter))
	n := tableSeq.Add(1)
	tables := Tables{Events: fmt.Sprintf("events-%d-%d", os.Getpid(), n), Views: fmt.Sprintf("views-%d-%d", os.Getpid(), n)}
	if err := CreateTables(t.Context(), client, tables); err != nil {
		t.Fatal(err)
	}
	// Idempotent: a second call finds them.
	if err := CreateTables(t.Context(), client, tables); err != nil {
		t.Fatal(err)
	}
	st, err := New(client, tables)
	if err != nil {
		t.Fatal(err)
	}
	meter.Reset()
	return &testStore{Store: st, client: client, meter: meter}
}
