package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/signal"
)

// printEvents writes an aggregate's events as JSON lines, oldest first.
func printEvents(ctx context.Context, o storeOptions, typ, id string, out io.Writer, logger *slog.Logger) error {
	st, err := openStore(ctx, o)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := signal.New(signal.Config{Store: st.store, Types: cart.Types(), Logger: logger})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
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
