package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/signalforgo/signal/pkg/boltstore"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/pgstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// storeOptions choose the store: the embedded one in dataDir, or DynamoDB
// when an endpoint is given.
type storeOptions struct {
	dataDir     string
	postgres    string
	endpoint    string
	eventsTable string
	viewsTable  string
	// getenv is Run's: the AWS settings of a DynamoDB endpoint come from it.
	getenv func(string) string
}

// openedStore is an open store with what the commands need of it.
type openedStore struct {
	store signal.Store
	// feed is the embedded or Postgres store's change feed; nil on
	// DynamoDB, whose change feed is its stream (dyn is set instead).
	feed    signal.ChangeFeed
	close   func() error
	dyn     *dynstore.Store
	client  *dynamodb.Client
	streams *dynamodbstreams.Client
	desc    string
}

func (s *openedStore) Close() error {
	if s.close != nil {
		return s.close()
	}
	return nil
}

func openStore(ctx context.Context, o storeOptions) (*openedStore, error) {
	if o.postgres != "" {
		if o.endpoint != "" {
			return nil, fmt.Errorf("%w: choose -postgres or -dynamodb-endpoint, not both", errUsage)
		}
		p, err := pgstore.Open(ctx, o.postgres)
		if err != nil {
			return nil, err
		}
		return &openedStore{store: p, feed: p, close: p.Close, desc: "Postgres"}, nil
	}
	if o.endpoint == "" {
		if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
			return nil, err
		}
		path := filepath.Join(o.dataDir, "signal.db")
		b, err := boltstore.Open(path, nil)
		if err != nil {
			return nil, err
		}
		return &openedStore{store: b, feed: b, close: b.Close, desc: "embedded store " + path}, nil
	}
	cfg, err := awsConfig(ctx, o.endpoint, o.getenv)
	if err != nil {
		return nil, err
	}
	client := dynamodb.NewFromConfig(cfg, dynstore.ClientOptions(nil))
	tables := dynstore.Tables{Events: o.eventsTable, Views: o.viewsTable}
	d, err := dynstore.New(client, tables)
	if err != nil {
		return nil, err
	}
	return &openedStore{store: d, dyn: d, client: client, streams: dynamodbstreams.NewFromConfig(cfg),
		desc: fmt.Sprintf("DynamoDB at %s (tables %s, %s)", o.endpoint, tables.Events, tables.Views)}, nil
}

// awsConfig is the SDK's standard configuration pointed at endpoint, with
// the region and credentials of getenv (Run's environment, not the
// process's): AWS_REGION or AWS_DEFAULT_REGION, else us-east-1; the keys
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else the
// profile AWS_PROFILE, else dummy keys, since local endpoints accept any
// credentials and a missing chain would only fail later.
func awsConfig(ctx context.Context, endpoint string, getenv func(string) string) (aws.Config, error) {
	region := or(getenv("AWS_REGION"), or(getenv("AWS_DEFAULT_REGION"), "us-east-1"))
	opts := []func(*config.LoadOptions) error{config.WithBaseEndpoint(endpoint), config.WithRegion(region)}
	switch key, profile := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_PROFILE"); {
	case key != "":
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(key, getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN"))))
	case profile != "":
		opts = append(opts, config.WithSharedConfigProfile(profile))
	default:
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}
