package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// corsPolicy is a CORS config with its header values computed once.
type corsPolicy struct {
	any           bool
	origins       map[string]bool
	allowMethods  string
	allowHeaders  string
	exposeHeaders string
	maxAge        string
}

func newCORSPolicy(c *CORS, routes Routes) (*corsPolicy, error) {
	if len(c.AllowOrigins) == 0 {
		return nil, errors.New("httpapi.New: CORS.AllowOrigins is empty")
	}
	if c.MaxAge < 0 {
		return nil, errors.New("httpapi.New: CORS.MaxAge is negative")
	}
	p := &corsPolicy{origins: map[string]bool{}}
	for _, o := range c.AllowOrigins {
		if o == "*" {
			p.any = true
			continue
		}
		if o == "" || strings.ContainsAny(o, " ,\r\n") {
			return nil, fmt.Errorf("httpapi.New: invalid CORS origin %q", o)
		}
		p.origins[o] = true
	}
	headers := []string{"Content-Type", "Idempotency-Key", "If-Match", "X-Correlation-Id"}
	seen := map[string]bool{}
	for _, hd := range headers {
		seen[strings.ToLower(hd)] = true
	}
	for _, hd := range c.AllowHeaders {
		if !validToken(hd) {
			return nil, fmt.Errorf("httpapi.New: invalid CORS header name %q", hd)
		}
		if !seen[strings.ToLower(hd)] {
			seen[strings.ToLower(hd)] = true
			headers = append(headers, hd)
		}
	}
	p.allowHeaders = strings.Join(headers, ", ")
	p.allowMethods = strings.Join(methodsOf(routes), ", ")
	p.exposeHeaders = "ETag, X-Signal-Duplicate, X-Request-Id, Retry-After"
	if c.MaxAge > 0 {
		p.maxAge = strconv.FormatInt(int64(c.MaxAge/time.Second), 10)
	}
	return p, nil
}

// methodsOf lists the methods the enabled routes use, plus OPTIONS.
func methodsOf(routes Routes) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		for i := range table {
			if table[i].method == m && table[i].enabled(routes) {
				out = append(out, m)
				break
			}
		}
	}
	return append(out, http.MethodOptions)
}

// validToken reports whether s is an HTTP token (a header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// apply adds the CORS headers for the request's Origin.
func (p *corsPolicy) apply(hdr http.Header, origin string, preflight bool) {
	switch {
	case p.any:
		hdr.Set("Access-Control-Allow-Origin", "*")
	case origin != "" && p.origins[origin]:
		hdr.Set("Access-Control-Allow-Origin", origin)
	}
	hdr.Set("Vary", "Origin")
	hdr.Set("Access-Control-Allow-Methods", p.allowMethods)
	hdr.Set("Access-Control-Allow-Headers", p.allowHeaders)
	hdr.Set("Access-Control-Expose-Headers", p.exposeHeaders)
	if preflight && p.maxAge != "" {
		hdr.Set("Access-Control-Max-Age", p.maxAge)
	}
}
