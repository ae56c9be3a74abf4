package moto_test

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/internal/moto"
)

var tables atomic.Int64

func TestMain(m *testing.M) {
	code := m.Run()
	moto.Stop()
	os.Exit(code)
}

// TestConditionalWritesAreAtomic: of many concurrent PutItems on one key,
// each conditioned on the item's absence, exactly one succeeds. DynamoDB
// guarantees it; moto_server (threaded, no lock around check-then-write)
// did not, which let two commits land at one version in the concurrency
// tests now and then. The harness serialises DynamoDB requests for it.
func TestConditionalWritesAreAtomic(t *testing.T) {
	client := dynamodb.NewFromConfig(moto.Config(t))
	table := fmt.Sprintf("atomic-%d-%d", os.Getpid(), tables.Add(1))
	_, err := client.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	const rounds, writers = 30, 32
	for round := range rounds {
		var won atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range writers {
			wg.Go(func() {
				<-start
				_, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{
					TableName: aws.String(table),
					Item: map[string]types.AttributeValue{
						"pk":     &types.AttributeValueMemberS{Value: fmt.Sprint("k", round)},
						"writer": &types.AttributeValueMemberN{Value: fmt.Sprint(w)},
					},
					ConditionExpression: aws.String("attribute_not_exists(pk)"),
				})
				var ccf *types.ConditionalCheckFailedException
				switch {
				case err == nil:
					won.Add(1)
				case !errors.As(err, &ccf):
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := won.Load(); n != 1 {
			t.Fatalf("round %d: %d conditional writes on one absent key succeeded, want 1", round, n)
		}
	}
}
