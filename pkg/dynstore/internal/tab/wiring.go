package tab

import "github.com/signalforgo/signal/pkg/signal"

// Types returns the domain's aggregate types, tab and receipt, for
// signal.Config.Types.
func Types() []signal.AggregateType {
	return []signal.AggregateType{Type, ReceiptType}
}

// Subscribers returns new values of the domain's subscribers, in this
// order: the tab-summary and item-sales projections and the
// issue-receipt policy. Each call returns fresh values.
func Subscribers() []signal.Subscriber {
	return []signal.Subscriber{TabSummaryProjection(), ItemSalesProjection(), IssueReceiptPolicy()}
}
