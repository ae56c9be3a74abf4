package tab

import (
	"errors"
	"fmt"
	"slices"

	"github.com/signalforgo/signal/pkg/signal"
)

// ReceiptTypeName is the receipt aggregate type's name. The issue-receipt
// policy issues one receipt per paid tab, under the tab's id.
const ReceiptTypeName = "receipt"

// ReceiptStatusIssued is the status of a receipt once issued.
const ReceiptStatusIssued = "issued"

// Receipt is the state of a receipt: what a paid tab paid for.
type Receipt struct {
	// TabID is the id of the paid tab, which is the receipt's own id.
	TabID string     `json:"tabId"`
	Lines []BillLine `json:"lines"`
	// Total is the sum of quantity × price over Lines, in cents.
	Total int64 `json:"total"`
	// Status is "" before the receipt is issued, then ReceiptStatusIssued.
	Status string `json:"status"`
}

// IssueReceipt issues the receipt of a paid tab; it creates the receipt
// (genesis). Total, in cents, must be the sum of the lines. It is
// internal: only the issue-receipt policy sends it.
type IssueReceipt struct {
	Lines []BillLine `json:"lines"`
	Total int64      `json:"total"`
}

// ReceiptIssued records an issued receipt.
type ReceiptIssued IssueReceipt

// Receipt errors.
var (
	ErrReceiptExists = errors.New("the receipt is already issued")
	ErrEmptyReceipt  = errors.New("a receipt needs at least one line")
	ErrTooManyOnBill = fmt.Errorf("a receipt may hold at most %d lines", MaxLines)
	ErrDuplicateItem = errors.New("a receipt may list each item once")
	ErrTotalMismatch = errors.New("total is not the sum of the lines")
)

// ReceiptType is the receipt aggregate type. A receipt's id is its tab's id.
var ReceiptType = signal.MustDefine(signal.Spec[Receipt]{
	Name:    ReceiptTypeName,
	Initial: func(tabID string) Receipt { return Receipt{TabID: tabID} },
	Commands: []signal.CommandSpec[Receipt]{
		signal.Decide("IssueReceipt", issueReceipt, signal.Genesis, signal.Internal),
	},
	Events: []signal.EventSpec[Receipt]{
		signal.Evolve("ReceiptIssued", receiptIssued),
	},
})

func issueReceipt(s Receipt, c IssueReceipt) ([]any, error) {
	if s.Status != "" {
		return nil, ErrReceiptExists
	}
	switch {
	case len(c.Lines) == 0:
		return nil, ErrEmptyReceipt
	case len(c.Lines) > MaxLines:
		return nil, ErrTooManyOnBill
	}
	seen := make(map[string]bool, len(c.Lines))
	var total int64
	for _, l := range c.Lines {
		if err := validLine(l.Item, l.Quantity, l.Price); err != nil {
			return nil, err
		}
		if seen[l.Item] {
			return nil, ErrDuplicateItem
		}
		seen[l.Item] = true
		total += l.Quantity * l.Price
	}
	if total != c.Total {
		return nil, ErrTotalMismatch
	}
	return []any{ReceiptIssued{Lines: slices.Clone(c.Lines), Total: c.Total}}, nil
}

// receiptIssued copies the event's lines, so the state shares no slice
// with the event values handed to subscribers.
func receiptIssued(s Receipt, e ReceiptIssued) Receipt {
	return Receipt{TabID: s.TabID, Lines: slices.Clone(e.Lines), Total: e.Total, Status: ReceiptStatusIssued}
}
