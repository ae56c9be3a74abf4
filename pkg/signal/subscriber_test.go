package signal_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

func TestLogObserver(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	f := newFixture(t, func(_ *signal.Spec[Account], c *signal.Config) {
		c.Subscribers, c.InlineDispatch = []signal.Subscriber{signal.LogObserver(logger)}, true
	})
	r := mustHandle(t, f, "a1", Open{Owner: "ann"}, signal.WithCommandID("cmd-1"), signal.WithCorrelation("corr-1", ""))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("one JSON log line expected: %q", buf.String())
	}
	for k, want := range map[string]any{
		"msg": "event", "aggregate_type": "account", "aggregate_id": "a1", "version": 1.0,
		"event": "Opened", "event_id": r.Events[0].ID, "command_id": "cmd-1", "correlation_id": "corr-1",
	} {
		if line[k] != want {
			t.Errorf("log %s = %v, want %v", k, line[k], want)
		}
	}
}
