package cart

import (
	"context"
	"errors"

	"github.com/signalforgo/signal/pkg/signal"
)

// Authorize is the domain's authorization rule (signal.App.Authorize): a
// cart belongs to the subject that created it (its first commit's actor),
// and only that subject sends it commands, reads its state, its history
// and its cart-summary document; its order (the same id) belongs to the
// same customer. sku-sales documents, totals over every cart, are open to
// every caller the gateway lets through. Policies (the open-order
// policy's OpenOrder) may do anything.
//
// A cart created without a principal (signal dev without
// -insecure-dev-auth, a stack deployed with auth none) belongs to nobody
// and stays open to every caller; with authentication on, which is the
// stack's default, every cart has an owner. A caller without a principal
// asking for an owned cart is answered 401, another subject 403.
func Authorize(ctx context.Context, p *signal.Principal, a *signal.Action) error {
	if p != nil && p.System {
		return nil
	}
	owner, err := ownerOf(ctx, a)
	switch {
	case err != nil:
		return err
	case owner == "":
		return nil
	case p == nil:
		return signal.Unauthenticated()
	case p.Subject != owner:
		return signal.Forbidden("this %s belongs to another customer", targetName(a))
	}
	return nil
}

// ownerOf is the subject a's target belongs to, "" when nobody's.
func ownerOf(ctx context.Context, a *signal.Action) (string, error) {
	switch {
	case a.Kind == signal.ViewAction && a.View == CartSummaryView:
		owner, err := a.OwnerOf(ctx, TypeName, a.Key)
		if errors.Is(err, signal.ErrNotFound) {
			return "", nil // no such cart: the view answers 404
		}
		return owner, err
	case a.Kind == signal.ViewAction:
		return "", nil
	case a.Type == OrderTypeName:
		o, _ := a.State.(Order)
		return o.Customer, nil
	}
	return a.Owner, nil
}

func targetName(a *signal.Action) string {
	if a.Kind == signal.ViewAction {
		return "cart summary"
	}
	return a.Type
}
