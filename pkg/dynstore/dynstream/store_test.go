package dynstream

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
)

var tableSeq atomic.Int64

// testStore is a dynstore.Store on fresh tables in moto_server (or
// AWS_ENDPOINT_URL), with a meter on its client and the client itself for
// direct reads: what the store's own tests use, for the tests here that
// drive a store's stream.
type testStore struct {
	*dynstore.Store
	client *dynamodb.Client
	tables dynstore.Tables
	meter  *dynstore.Meter
}

func newTestStore(t testing.TB) *testStore {
	t.Helper()
	meter := dynstore.NewMeter()
	client := dynamodb.NewFromConfig(motoserver.Config(t), dynstore.ClientOptions(meter))
	n := tableSeq.Add(1)
	tables := dynstore.Tables{Events: fmt.Sprintf("dynstream-events-%d-%d", os.Getpid(), n), Views: fmt.Sprintf("dynstream-views-%d-%d", os.Getpid(), n)}
	if err := dynstore.CreateTables(t.Context(), client, tables); err != nil {
		t.Fatal(err)
	}
	st, err := dynstore.New(client, tables)
	if err != nil {
		t.Fatal(err)
	}
	meter.Reset()
	return &testStore{Store: st, client: client, tables: tables, meter: meter}
}
