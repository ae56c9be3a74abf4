package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/signalforgo/signal/pkg/signal"
)

// InsecurePrincipalHeader is the request header InsecureDevPrincipal
// takes the caller from, e.g.
//
//	X-Signal-Insecure-Principal: sub=alice; tenant=acme; groups=admin,ops
const InsecurePrincipalHeader = "X-Signal-Insecure-Principal"

// InsecureDevPrincipal is INSECURE by design, for local development only
// (`signal dev -insecure-dev-auth`): it believes whoever sends the
// InsecurePrincipalHeader to be who the header says, so that an App's
// Authorize rule can be exercised locally and in CI as it runs behind
// API Gateway. Anyone who can reach the server can act as anyone. Never
// serve it where others can reach it; deployed functions take the caller
// only from what API Gateway or the function URL verified.
//
// The header is "key=value" pairs separated by ';': sub (the Subject,
// required), iss (Issuer), tenant (Tenant), groups (Groups, separated by
// ','), scope (Scopes, separated by spaces); every pair, those included,
// is also a claim (Principal.Claims). A request with one such header
// reaches next with that principal in its context
// (signal.WithPrincipal); one without it reaches next as it is
// (anonymous, unless an outer middleware set a principal). A malformed
// header (no sub, a pair without '=', a key given twice, the header
// given twice) is answered 400 invalid with the API's JSON error, and
// next does not run. logger (nil: slog.Default()) gets a line per refusal.
func InsecureDevPrincipal(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := r.Header.Values(InsecurePrincipalHeader)
		if len(values) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		p, err := parseDevPrincipal(values)
		if err != nil {
			refuse(w, r, logger, http.StatusBadRequest, "invalid", InsecurePrincipalHeader+": "+err.Error(),
				"http request refused: a malformed insecure dev principal")
			return
		}
		next.ServeHTTP(w, r.WithContext(signal.WithPrincipal(r.Context(), p)))
	})
}

// parseDevPrincipal reads the principal of the header's values (see
// InsecureDevPrincipal); the error says what is wrong, quoting at most
// maxEchoBytes of the header.
func parseDevPrincipal(values []string) (*signal.Principal, error) {
	if len(values) > 1 {
		return nil, fmt.Errorf("the header is given %d times, want once", len(values))
	}
	p := &signal.Principal{Claims: map[string]string{}}
	for _, pair := range strings.Split(values[0], ";") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch _, dup := p.Claims[k]; {
		case !ok || k == "":
			return nil, fmt.Errorf("%q is not a key=value pair (sub=alice; tenant=acme; groups=admin,ops)", truncate(pair, maxEchoBytes))
		case dup:
			return nil, fmt.Errorf("%q is given twice", truncate(k, maxEchoBytes))
		}
		p.Claims[k] = v
	}
	p.Subject, p.Issuer, p.Tenant = p.Claims["sub"], p.Claims["iss"], p.Claims["tenant"]
	p.Groups, p.Scopes = claimList(p.Claims["groups"], ','), claimList(p.Claims["scope"], ' ')
	if p.Subject == "" {
		return nil, fmt.Errorf("no sub: the header needs at least sub=<subject>, e.g. sub=alice")
	}
	return p, nil
}
