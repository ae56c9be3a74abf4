package testbank

import (
	"context"

	"github.com/signalforgo/signal/pkg/signal"
)

// OwnersOnly is a rule of the example's kind (signal.App.Authorize), for
// the kits' auth tests: a caller is needed (401 without one), an
// aggregate belongs to the subject that created it (403 for another),
// policies may do anything, any caller may read views.
func OwnersOnly(_ context.Context, p *signal.Principal, a *signal.Action) error {
	switch {
	case p == nil:
		return signal.Unauthenticated()
	case p.System || a.Kind == signal.ViewAction:
		return nil
	case a.Version > 0 && a.Owner != p.Subject:
		return signal.Forbidden("%s %s belongs to someone else", a.Type, a.ID)
	}
	return nil
}
