package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/signalforgo/signal/pkg/dynstore"
)

// createTables creates the DynamoDB tables idempotently (local endpoints;
// in AWS the CDK app owns them).
func createTables(ctx context.Context, o storeOptions, out io.Writer) error {
	if o.endpoint == "" {
		return fmt.Errorf("%w: table create needs -dynamodb-endpoint (or AWS_ENDPOINT_URL)", errUsage)
	}
	st, err := openStore(ctx, o)
	if err != nil {
		return err
	}
	if err := dynstore.CreateTables(ctx, st.client, st.dyn.Tables()); err != nil {
		return err
	}
	fmt.Fprintf(out, "tables %s and %s are ready at %s\n", o.eventsTable, o.viewsTable, o.endpoint)
	return nil
}
