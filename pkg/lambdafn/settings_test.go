package lambdafn

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/httpapi"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvNamesEveryMissingVariable(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "missing environment: EVENTS_TABLE, VIEWS_TABLE"},
		{map[string]string{"EVENTS_TABLE": "e"}, "missing environment: VIEWS_TABLE"},
		{map[string]string{"VIEWS_TABLE": "v"}, "missing environment: EVENTS_TABLE"},
	} {
		if _, err := FromEnv(env(tc.env)); err == nil || err.Error() != tc.want {
			t.Errorf("%v: got %v, want %q", tc.env, err, tc.want)
		}
	}
}

func TestFromEnvReadsEverySetting(t *testing.T) {
	s, err := FromEnv(env(map[string]string{"EVENTS_TABLE": "e", "VIEWS_TABLE": "v", "LOG_LEVEL": "debug",
		"CORS_ALLOW_ORIGINS": " https://a.example , *,", "AWS_LAMBDA_FUNCTION_NAME": "cmd", "DEAD_LETTER_QUEUE_URL": "http://q",
		"AUTH_TENANT_CLAIM": "custom:tenant", "AUTH_GROUPS_CLAIM": "roles"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Tables.Events != "e" || s.Tables.Views != "v" || s.LogLevel != slog.LevelDebug || s.Function != "cmd" || s.DeadLetterQueue != "http://q" {
		t.Errorf("%+v", s)
	}
	if s.Auth.TenantClaim != "custom:tenant" || s.Auth.GroupsClaim != "roles" {
		t.Errorf("Auth %+v", s.Auth)
	}
	if !slices.Equal(s.CORSOrigins, []string{"https://a.example", "*"}) {
		t.Errorf("CORSOrigins %q", s.CORSOrigins)
	}
}

func TestFromEnvDefaults(t *testing.T) {
	s, err := FromEnv(env(map[string]string{"EVENTS_TABLE": "e", "VIEWS_TABLE": "v"}))
	if err != nil || s.LogLevel != slog.LevelInfo || s.CORSOrigins != nil || s.Function != "" || s.DeadLetterQueue != "" || s.Auth != (httpapi.AuthConfig{}) {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestFromEnvRefusesABadLogLevel(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"EVENTS_TABLE": "e", "VIEWS_TABLE": "v", "LOG_LEVEL": "loud"}))
	if err == nil || !strings.HasPrefix(err.Error(), "LOG_LEVEL: ") {
		t.Fatalf("got %v", err)
	}
}
