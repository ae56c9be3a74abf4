package app

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/signal"
)

func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, err := FromEnv(env(nil)); err == nil || !strings.Contains(err.Error(), "EVENTS_TABLE, VIEWS_TABLE") {
		t.Fatalf("missing tables: %v", err)
	}
	s, err := FromEnv(env(map[string]string{"EVENTS_TABLE": "e", "VIEWS_TABLE": "v", "LOG_LEVEL": "debug", "CORS_ALLOW_ORIGINS": " https://a.example , *,", "AWS_LAMBDA_FUNCTION_NAME": "cmd"}))
	if err != nil || s.Tables.Events != "e" || s.Tables.Views != "v" || s.LogLevel != slog.LevelDebug || len(s.CORSOrigins) != 2 || s.CORSOrigins[1] != "*" || s.Function != "cmd" {
		t.Fatalf("%+v %v", s, err)
	}
	if _, err := FromEnv(env(map[string]string{"EVENTS_TABLE": "e", "VIEWS_TABLE": "v", "LOG_LEVEL": "loud"})); err == nil {
		t.Fatal("bad LOG_LEVEL accepted")
	}
}

func TestNewBuildsWithoutNetwork(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	var out bytes.Buffer
	a, err := New(t.Context(), Settings{Tables: dynstore.Tables{Events: "e", Views: "v"}, Function: "f"}, true, &out)
	if err != nil || a.Service == nil || a.Store.Tables().Events != "e" {
		t.Fatalf("%+v %v", a, err)
	}
}

func TestPoolDelta(t *testing.T) {
	var d PoolDelta
	d.Metrics(signal.PoolStats{Hits: 5, Conflicts: 1})
	m := d.Metrics(signal.PoolStats{Hits: 7, Misses: 1, Conflicts: 1, Retries: 2})
	got := map[string]float64{}
	for _, x := range m {
		got[x.Name] = x.Value
	}
	if got["PoolHits"] != 2 || got["PoolMisses"] != 1 || got["Conflicts"] != 0 || got["Retries"] != 2 {
		t.Fatalf("%v", got)
	}
}
