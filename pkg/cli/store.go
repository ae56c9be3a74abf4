package cli

import (
	"context"
	"fmt"
	"log/slog"
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
	// prepare makes what the store needs before dev serves: DynamoDB's
	// tables, if missing. A no-op for the other stores.
	prepare func(ctx context.Context) error
	// project runs svc's subscribers over what is appended, until ctx
	// ends or it fails: from the change feed of the embedded or Postgres
	// store (resuming at the position it remembers), from the events
	// table's stream on DynamoDB.
	project func(ctx context.Context, svc *signal.Service, logger *slog.Logger) error
	close   func() error
	// dyn, client and streams are set on DynamoDB only.
	dyn     *dynstore.Store
	client  *dynamodb.Client
	streams *dynamodbstreams.Client
	desc    string
}

// Every store the commands open can read its whole log (rebuild).
var (
	_ signal.LogScanner = (*boltstore.Store)(nil)
	_ signal.LogScanner = (*pgstore.Store)(nil)
	_ signal.LogScanner = (*dynstore.Store)(nil)
)

func (s *openedStore) Close() error {
	if s.close != nil {
		return s.close()
	}
	return nil
}

// openStore opens the store o chooses: Postgres with -postgres, DynamoDB
// with -dynamodb-endpoint (a usage error with both), else the embedded
// store in o.dataDir, created if missing.
func openStore(ctx context.Context, o storeOptions) (*openedStore, error) {
	if o.postgres != "" {
		if o.endpoint != "" {
			return nil, fmt.Errorf("%w: choose -postgres or -dynamodb-endpoint, not both", errUsage)
		}
		p, err := pgstore.Open(ctx, o.postgres)
		if err != nil {
			return nil, err
		}
		return feedStore(p, p, o, p.Close, "Postgres"), nil
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
		return feedStore(b, b, o, b.Close, "embedded store "+path), nil
	}
	return openDynamo(ctx, o)
}

// feedStore is an opened store whose subscribers follow its change feed,
// remembering the position in a file of o.dataDir.
func feedStore(st signal.Store, feed signal.ChangeFeed, o storeOptions, closeFn func() error, desc string) *openedStore {
	return &openedStore{
		store:   st,
		prepare: func(context.Context) error { return nil },
		project: func(ctx context.Context, svc *signal.Service, logger *slog.Logger) error {
			return projectFromFeed(ctx, feed, positionFile(o), svc, logger)
		},
		close: closeFn,
		desc:  desc,
	}
}

// openDynamo opens the DynamoDB tables of o at o.endpoint, with the AWS
// settings of o.getenv.
func openDynamo(ctx context.Context, o storeOptions) (*openedStore, error) {
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
	st := &openedStore{store: d, dyn: d, client: client, streams: dynamodbstreams.NewFromConfig(cfg),
		desc: fmt.Sprintf("DynamoDB at %s (tables %s, %s)", o.endpoint, tables.Events, tables.Views)}
	st.prepare = func(ctx context.Context) error { return dynstore.CreateTables(ctx, client, d.Tables()) }
	st.project = func(ctx context.Context, svc *signal.Service, logger *slog.Logger) error {
		return projectFromStream(ctx, st, svc, logger)
	}
	return st, nil
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
