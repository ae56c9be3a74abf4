package tab

import (
	"context"
	"slices"

	"github.com/signalforgo/signal/pkg/signal"
)

// IssueReceiptPolicyName is the name the policy keeps its checkpoints under.
const IssueReceiptPolicyName = "issue-receipt"

// IssueReceiptPolicy returns a new policy that issues a receipt when a
// tab is paid: IssueReceipt to the receipt with the tab's id, so a tab
// has at most one receipt and a redelivered event is a duplicate.
func IssueReceiptPolicy() *signal.Policy {
	return &signal.Policy{
		Name: IssueReceiptPolicyName,
		On:   []signal.PolicyHandler{signal.React(issueOnPayment)},
	}
}

func issueOnPayment(_ context.Context, ev signal.Event, e TabPaid) ([]signal.Send, error) {
	return []signal.Send{
		ReceiptType.To(ev.AggregateID, IssueReceipt{Lines: slices.Clone(e.Lines), Total: e.Total}),
	}, nil
}
