package httpapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/signalforgo/signal/pkg/signal"
)

// Command headers and query parameters.

// commandOptions reads Idempotency-Key, If-Match and X-Correlation-Id;
// a bad or repeated one is a 400.
// The correlation id defaults to the request id, so the events of a
// command can be traced to the request that caused them.
func commandOptions(hdr http.Header, requestID string) ([]signal.CommandOption, error) {
	var opts []signal.CommandOption
	key, ok, err := singleHeader(hdr, "Idempotency-Key")
	if err != nil {
		return nil, err
	}
	if ok {
		if err := signal.ValidateID(key); err != nil {
			return nil, invalid("invalid Idempotency-Key: %s", signal.PublicMessage(err))
		}
		opts = append(opts, signal.WithCommandID(key))
	}
	im, ok, err := singleHeader(hdr, "If-Match")
	if err != nil {
		return nil, err
	}
	if ok {
		v, err := parseIfMatch(im)
		if err != nil {
			return nil, err
		}
		opts = append(opts, signal.IfVersion(v))
	}
	corr, ok, err := singleHeader(hdr, "X-Correlation-Id")
	if err != nil {
		return nil, err
	}
	if ok {
		if err := signal.ValidateID(corr); err != nil {
			return nil, invalid("invalid X-Correlation-Id: %s", signal.PublicMessage(err))
		}
	} else {
		corr = requestID
	}
	if corr != "" && len(corr) <= signal.MaxIDBytes {
		opts = append(opts, signal.WithCorrelation(corr, ""))
	}
	return opts, nil
}

// singleHeader returns a header's one value, trimmed. Repeating the
// header is an error: which value counts would be a guess.
func singleHeader(hdr http.Header, name string) (string, bool, error) {
	vs := hdr.Values(name)
	switch len(vs) {
	case 0:
		return "", false, nil
	case 1:
		return strings.TrimSpace(vs[0]), true, nil
	}
	return "", false, invalid("the %s header is given more than once", name)
}

// parseIfMatch reads the version of an If-Match header: "5", 5 or W/"5".
// "0" means the aggregate must not exist yet.
func parseIfMatch(v string) (int64, error) {
	s := v
	quoted := len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"'
	if rest, weak := strings.CutPrefix(s, "W/"); weak {
		s = rest
		quoted = len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"'
		if !quoted {
			return 0, invalid(`If-Match must be a version, like "3"`)
		}
	}
	if quoted {
		s = s[1 : len(s)-1]
	}
	n, ok := parseDigits(s)
	if !ok {
		return 0, invalid(`If-Match must be a version, like "3"`)
	}
	return n, nil
}

// parseDigits parses a non-negative decimal integer of plain digits.
func parseDigits(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func parseQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, invalid("the query string is malformed")
	}
	return q, nil
}

// intParam reads an integer query parameter of at least min; ok is
// false when it is absent.
func intParam(q url.Values, name string, min int64) (n int64, ok bool, err error) {
	vs, ok := q[name]
	if !ok {
		return 0, false, nil
	}
	if len(vs) != 1 {
		return 0, false, invalid("%s is given more than once", name)
	}
	n, valid := parseDigits(vs[0])
	if !valid || n < min {
		return 0, false, invalid("%s must be an integer of at least %d", name, min)
	}
	return n, true, nil
}
