package lambdafn

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/httpapi"
)

// Settings are what a function reads from its environment (FromEnv).
type Settings struct {
	// Tables: EVENTS_TABLE and VIEWS_TABLE (both required).
	Tables dynstore.Tables
	// LogLevel: LOG_LEVEL (debug, info, warn, error; default info). It
	// applies to the JSON logger lambdafn builds, not to one given with
	// the Logger option.
	LogLevel slog.Level
	// CORSOrigins: CORS_ALLOW_ORIGINS, comma-separated ("*" allows any
	// origin). Empty: no CORS headers, which is the safe default.
	CORSOrigins []string
	// Function: AWS_LAMBDA_FUNCTION_NAME (Lambda sets it), the metrics'
	// Function dimension. Empty: New uses the App's name.
	Function string
	// DeadLetterQueue: DEAD_LETTER_QUEUE_URL (optional), the SQS queue the
	// projector notifies when it parks a subscriber.
	DeadLetterQueue string
	// Auth: AUTH_TENANT_CLAIM and AUTH_GROUPS_CLAIM (both optional), the
	// claims the HTTP functions read the caller's tenant and groups from
	// (httpapi.AuthConfig; empty: no tenant, groups from
	// httpapi.DefaultGroupsClaim). The caller itself is always the one
	// API Gateway or the function URL verified.
	Auth httpapi.AuthConfig
}

// FromEnv reads Settings through getenv (os.Getenv in a function). It
// returns an error naming every missing required variable at once, or
// naming LOG_LEVEL when its value is not a level; otherwise the Settings
// and nil. Blank entries in CORS_ALLOW_ORIGINS are dropped.
func FromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{
		Tables:          dynstore.Tables{Events: getenv("EVENTS_TABLE"), Views: getenv("VIEWS_TABLE")},
		Function:        getenv("AWS_LAMBDA_FUNCTION_NAME"),
		DeadLetterQueue: getenv("DEAD_LETTER_QUEUE_URL"),
		Auth:            httpapi.AuthConfig{TenantClaim: getenv("AUTH_TENANT_CLAIM"), GroupsClaim: getenv("AUTH_GROUPS_CLAIM")},
	}
	var missing []string
	if s.Tables.Events == "" {
		missing = append(missing, "EVENTS_TABLE")
	}
	if s.Tables.Views == "" {
		missing = append(missing, "VIEWS_TABLE")
	}
	if len(missing) > 0 {
		return s, fmt.Errorf("missing environment: %s", strings.Join(missing, ", "))
	}
	if lv := getenv("LOG_LEVEL"); lv != "" {
		if err := s.LogLevel.UnmarshalText([]byte(lv)); err != nil {
			return s, fmt.Errorf("LOG_LEVEL: %w", err)
		}
	}
	for _, o := range strings.Split(getenv("CORS_ALLOW_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			s.CORSOrigins = append(s.CORSOrigins, o)
		}
	}
	return s, nil
}
