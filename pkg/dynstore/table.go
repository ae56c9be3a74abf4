package dynstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Tables names the two tables a Store uses.
type Tables struct {
	// Events holds commits, tombstones and snapshots; its stream feeds the projector.
	Events string
	// Views holds projection documents and subscriber checkpoints.
	Views string
}

// EventsTableInput is the definition of the events table: pk (S) + sk (N),
// on-demand billing, stream NEW_IMAGE. The CDK app declares the same.
func EventsTableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewTypeNewImage,
		},
	}
}

// ViewsTableInput is the definition of the views table: pk (S), on-demand
// billing, no stream.
func ViewsTableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
		},
		BillingMode: types.BillingModePayPerRequest,
	}
}

// TimeToLiveAttribute is the attribute (epoch seconds) the views table's
// time to live reads: what an interrupted projection run leaves behind
// that nobody resolved carries it (pkg/dynstore/viewrun.go).
const TimeToLiveAttribute = attrExpires

// ViewsTimeToLive is the views table's time to live setting. The CDK app
// declares the same; CreateTables applies it.
func ViewsTimeToLive(name string) *dynamodb.UpdateTimeToLiveInput {
	return &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(TimeToLiveAttribute), Enabled: aws.Bool(true)},
	}
}

// TableAPI is what CreateTables needs of a DynamoDB client.
type TableAPI interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// CreateTables creates the events and views tables unless they exist and
// waits until both are active. It is idempotent, for local endpoints
// (moto_server, LocalStack, DynamoDB Local) and `signal table create`; in
// AWS the CDK app owns the tables. An existing events table without a
// NEW_IMAGE stream is an error, since projections would silently stop.
func CreateTables(ctx context.Context, client TableAPI, t Tables) error {
	for _, in := range []*dynamodb.CreateTableInput{EventsTableInput(t.Events), ViewsTableInput(t.Views)} {
		if err := createTable(ctx, client, in); err != nil {
			return err
		}
	}
	return enableTimeToLive(ctx, client, ViewsTimeToLive(t.Views))
}

// enableTimeToLive applies in unless the table has a time to live already.
func enableTimeToLive(ctx context.Context, client TableAPI, in *dynamodb.UpdateTimeToLiveInput) error {
	out, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: in.TableName})
	if err != nil {
		return fmt.Errorf("dynstore: describe time to live of %s: %w", aws.ToString(in.TableName), err)
	}
	if d := out.TimeToLiveDescription; d != nil && (d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	if _, err := client.UpdateTimeToLive(ctx, in); err != nil {
		return fmt.Errorf("dynstore: enable time to live on %s: %w", aws.ToString(in.TableName), err)
	}
	return nil
}

func createTable(ctx context.Context, client TableAPI, in *dynamodb.CreateTableInput) error {
	name := aws.ToString(in.TableName)
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
	var nf *types.ResourceNotFoundException
	switch {
	case err == nil:
		if in.StreamSpecification != nil {
			s := out.Table.StreamSpecification
			if s == nil || !aws.ToBool(s.StreamEnabled) || (s.StreamViewType != types.StreamViewTypeNewImage && s.StreamViewType != types.StreamViewTypeNewAndOldImages) {
				return fmt.Errorf("dynstore: table %s exists without a NEW_IMAGE stream", name)
			}
		}
	case errors.As(err, &nf):
		if _, err := client.CreateTable(ctx, in); err != nil {
			var inUse *types.ResourceInUseException
			if !errors.As(err, &inUse) {
				return fmt.Errorf("dynstore: create table %s: %w", name, err)
			}
		}
	default:
		return fmt.Errorf("dynstore: describe table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, 2*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, 2*time.Minute); err != nil {
		return fmt.Errorf("dynstore: table %s did not become active: %w", name, err)
	}
	return nil
}
