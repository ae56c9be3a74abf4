package dynstore

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestMapErrorCanceledTransactions: a transaction DynamoDB cancels says
// why per item; throttling is worth a retry later, a concurrent
// transaction is a lost race, anything else is the store's fault.
func TestMapErrorCanceledTransactions(t *testing.T) {
	for _, tc := range []struct {
		codes []string
		want  signal.Kind
	}{
		{[]string{"None", "ThrottlingError"}, signal.KindUnavailable},
		{[]string{"ProvisionedThroughputExceeded", "None"}, signal.KindUnavailable},
		{[]string{"TransactionConflict", "None"}, signal.KindConflict},
		{[]string{"ValidationError"}, signal.KindInternal},
	} {
		reasons := make([]types.CancellationReason, len(tc.codes))
		for i, c := range tc.codes {
			reasons[i].Code = aws.String(c)
		}
		tce := &types.TransactionCanceledException{Message: aws.String("Transaction cancelled, AWS text"), CancellationReasons: reasons}
		err := mapError("op", signal.StreamID{}, fmt.Errorf("operation error: %w", tce))
		if signal.KindOf(err) != tc.want {
			t.Errorf("canceled for %v: %v, want %v", tc.codes, signal.KindOf(err), tc.want)
		}
		if msg := signal.PublicMessage(err); tc.want != signal.KindInternal && (msg == "" || strings.Contains(msg, "AWS text")) {
			t.Errorf("canceled for %v: public message %q", tc.codes, msg)
		}
	}
}
