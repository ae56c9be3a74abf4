package cli

import (
	"context"
	"encoding/json"

	"github.com/signalforgo/signal/pkg/signal"
)

// printEvents writes an aggregate's events as JSON lines, oldest first.
func (k *kit) printEvents(ctx context.Context, o storeOptions, typ, id string) error {
	if err := knownType(k.app, typ); err != nil {
		return err
	}
	st, err := openStore(ctx, o)
	if err != nil {
		return err
	}
	defer st.Close()
	cfg := k.app.Config(st.store, false)
	// The operator reads the store as it is: the app's rule is for API
	// callers (there is no caller here), and under Tenancy the id is the
	// stored one ("acme|a1").
	cfg.Authorize, cfg.Tenancy = nil, false
	cfg.Logger = k.logger
	svc, err := signal.New(cfg)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(k.stdout)
	for after := int64(0); ; {
		page, err := svc.History(ctx, typ, id, after, 1000)
		if err != nil {
			return err
		}
		for _, ev := range page.Events {
			if err := enc.Encode(ev); err != nil {
				return err
			}
		}
		if page.Next == 0 {
			return nil
		}
		after = page.Next
	}
}
