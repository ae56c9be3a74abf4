package dynstore

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// API is the part of the DynamoDB client a Store uses; *dynamodb.Client
// satisfies it, and so does any wrapper (tracing, fault injection).
type API interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Retryer is the SDK's standard retryer tuned for a request path inside a
// Lambda invocation: it retries throttling, 5xx and network errors with
// jittered exponential backoff, at most 5 attempts and 1 s between them,
// and without the client-side retry quota, which under sustained
// throttling would fail requests outright instead of backing off.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 5
		o.MaxBackoff = time.Second
		o.RateLimiter = ratelimit.None
	})
}

// ClientOptions returns the options a Store's client should be built
// with: the tuned Retryer and, when m is not nil, the meter.
//
//	client := dynamodb.NewFromConfig(cfg, dynstore.ClientOptions(meter))
func ClientOptions(m *Meter) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.Retryer = Retryer()
		if m != nil {
			o.APIOptions = append(o.APIOptions, m.Middleware)
		}
	}
}
