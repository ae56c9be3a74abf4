package cart_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/internal/testsupport"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest"
	"github.com/signalforgo/signal/pkg/dynstore/dynstream"
	"github.com/signalforgo/signal/pkg/signal"
)

func TestMain(m *testing.M) { testsupport.Main(m, dynamotest.Stop) }

// TestFullCartPurchaseOnDynamoDB: a cart of MaxLines skus is bought; the
// purchase changes MaxLines sku-sales documents at once, which with the
// projection's checkpoint is more than one DynamoDB transaction holds.
// Fed from the table's stream as the projector is, every sku counts the
// purchase once, and the stream does not stall: a later cart's summary
// and order appear too, redelivery changes nothing, and a rebuild of the
// view from the log gives it again.
func TestFullCartPurchaseOnDynamoDB(t *testing.T) {
	ctx := t.Context()
	client := dynamodb.NewFromConfig(dynamotest.Config(t))
	tables := dynamotest.NewTables(t, "cart")
	st, err := dynstore.New(client, tables)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := signal.New(signal.Config{Store: st, Types: cart.Types(), Subscribers: cart.Subscribers()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range cart.MaxLines {
		if _, err := svc.Handle(ctx, "cart", "full", cart.AddItem{SKU: fmt.Sprint("sku-", i), Quantity: 2, Price: 100 + int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range []any{cart.CompletePurchase{}} {
		if _, err := svc.Handle(ctx, "cart", "full", cmd); err != nil {
			t.Fatal(err)
		}
	}
	// A later cart, bought after the full one.
	for _, cmd := range []any{cart.AddItem{SKU: "sku-0", Quantity: 1, Price: 100}, cart.CompletePurchase{}} {
		if _, err := svc.Handle(ctx, "cart", "later", cmd); err != nil {
			t.Fatal(err)
		}
	}

	arn, err := dynstream.StreamARN(ctx, client, tables.Events)
	if err != nil {
		t.Fatal(err)
	}
	poller := dynstream.NewPoller(dynamodbstreams.NewFromConfig(dynamotest.Config(t)), dynstream.PollerConfig{StreamARN: arn})
	var delivered []signal.Commit
	for idle := 0; idle < 2; { // the policy's orders are new commits: poll until none come
		n, err := poller.Poll(ctx, func(ctx context.Context, batch []signal.Commit) error {
			delivered = append(delivered, batch...)
			return svc.Dispatch(ctx, batch)
		})
		if err != nil {
			t.Fatalf("the stream stalled: %v", err)
		}
		if n == 0 {
			idle++
		}
	}
	check := func(when string) {
		t.Helper()
		for i := range cart.MaxLines {
			doc, _, err := signal.LoadView[cart.SKUSales](ctx, svc, cart.SKUSalesView, fmt.Sprint("sku-", i))
			want := cart.SKUSales{SKU: fmt.Sprint("sku-", i), UnitsSold: 2, Revenue: 2 * (100 + int64(i)), Purchases: 1}
			if i == 0 {
				want.UnitsSold, want.Revenue, want.Purchases = 3, 300, 2
			}
			if err != nil || doc != want {
				t.Fatalf("sku-sales/sku-%d %s = %+v, %v; want %+v", i, when, doc, err, want)
			}
		}
		for _, id := range []string{"full", "later"} {
			if s, _, err := signal.LoadView[cart.CartSummary](ctx, svc, cart.CartSummaryView, id); err != nil || s.Status != "purchased" {
				t.Fatalf("cart-summary/%s %s = %+v, %v; want purchased", id, when, s, err)
			}
			if o, err := svc.Get(ctx, "order", id); err != nil || o.Version == 0 {
				t.Fatalf("order %s %s = %+v, %v; want it opened by the policy", id, when, o, err)
			}
		}
	}
	check("after the stream was drained")
	if err := svc.Dispatch(ctx, delivered); err != nil {
		t.Fatal(err)
	}
	check("after everything was delivered again")
	// signal rebuild on DynamoDB: drop the view, dispatch a Scan of the log.
	if err := st.DropView(ctx, cart.SKUSalesView, cart.SKUSalesView); err != nil {
		t.Fatal(err)
	}
	if err := st.ScanCommits(ctx, 2, func(ctx context.Context, commits []signal.Commit) error {
		return svc.Dispatch(ctx, commits)
	}); err != nil {
		t.Fatalf("rebuilding sku-sales from a Scan: %v", err)
	}
	check("after sku-sales was rebuilt from the log")
	if fs, err := svc.Failures(ctx); err != nil || len(fs) != 0 {
		t.Fatalf("failures: %+v, %v", fs, err)
	}
}
