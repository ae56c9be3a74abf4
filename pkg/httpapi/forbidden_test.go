package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// audit is an aggregate type with an internal genesis command: Record
// may only be sent by Go code in the process (a policy, a job), never
// over HTTP; Annotate is an ordinary command.
type auditState struct {
	Entries []string `json:"entries"`
	Notes   int      `json:"notes"`
}

// Record is audit's internal command; it creates the aggregate.
type Record struct {
	Entry string `json:"entry"`
}

// Annotate is audit's public command.
type Annotate struct {
	Note string `json:"note"`
}

// Recorded is the event of Record.
type Recorded struct {
	Entry string `json:"entry"`
}

// Annotated is the event of Annotate.
type Annotated struct {
	Note string `json:"note"`
}

var auditType = signal.MustDefine(signal.Spec[auditState]{
	Name: "audit",
	Commands: []signal.CommandSpec[auditState]{
		signal.Decide("Record", func(_ auditState, c Record) ([]any, error) { return []any{Recorded(c)}, nil }, signal.Genesis, signal.Internal),
		signal.Decide("Annotate", func(_ auditState, c Annotate) ([]any, error) { return []any{Annotated(c)}, nil }),
	},
	Events: []signal.EventSpec[auditState]{
		signal.Evolve("Recorded", func(s auditState, e Recorded) auditState {
			return auditState{Entries: append(append([]string(nil), s.Entries...), e.Entry), Notes: s.Notes}
		}),
		signal.Evolve("Annotated", func(s auditState, _ Annotated) auditState { s.Notes++; return s }),
	},
})

// withAudit registers the audit type.
func withAudit() fixtureOption {
	return func(c *signal.Config, _ *Config) { c.Types = append(c.Types, auditType) }
}

// TestInternalCommandForbidden: a POST of a command registered Internal
// is 403 forbidden on every transport (net/http, API Gateway v2 and v1,
// function URL, Lambda's raw payloads), with the JSON error,
// X-Request-Id and nosniff, whatever its body: a valid genesis body, a
// malformed one, null, none. Nothing is read or written: the store's
// counts do not move, an aggregate that did not exist still does not,
// one that does is still at its version. The type's other commands and
// Go code sending the internal command work as ever.
func TestInternalCommandForbidden(t *testing.T) {
	bodies := []forbiddenBody{
		{"a valid genesis body", `{"entry":"granted"}`, nil},
		{"an empty body", "", nil},
		{"malformed JSON", `{"entry":`, nil},
		{"null", `null`, nil},
		{"JSON of the wrong shape", `[1,2]`, nil},
		{"a repeated member", `{"entry":"a","entry":"b"}`, nil},
		{"an Idempotency-Key", `{"entry":"granted"}`, map[string]string{"Idempotency-Key": "k-1"}},
		{"If-Match 0", `{"entry":"granted"}`, map[string]string{"If-Match": `"0"`}},
		{"If-Match 1", `{"entry":"granted"}`, map[string]string{"If-Match": `"1"`}},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t, withAudit())
			// a1 exists: Go code may send the internal command.
			if _, err := f.svc.Handle(context.Background(), "audit", "a1", Record{Entry: "opened"}); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"a1", "a2"} {
				for _, b := range bodies {
					checkRecordRefused(t, tr, f, id, b)
				}
			}
			checkUntouchedAfterRefusals(t, tr, f)
		})
	}
}

// forbiddenBody is a body, and headers, sent with the internal command.
type forbiddenBody struct {
	name, body string
	header     map[string]string
}

// checkRecordRefused posts the internal command Record with b to audit
// id through tr: it must be the 403 JSON error saying Record is internal,
// with X-Request-Id and nosniff and none of the headers of a success,
// and the store must have served nothing.
func checkRecordRefused(t *testing.T, tr transport, f *fixture, id string, b forbiddenBody) {
	t.Helper()
	counts, feed := f.store.Counts(), f.feedLen(t)
	r := tr.do(t, f.h, call{method: "POST", target: "/aggregates/audit/" + id + "/Record", header: b.header, body: b.body})
	name := id + ", " + b.name
	checkError(t, r, http.StatusForbidden, "forbidden")
	if msg := get(t, r.json(t), "error.message").(string); !strings.Contains(msg, "internal") || !strings.Contains(msg, "Record") {
		t.Errorf("%s: message %q does not say Record is internal", name, msg)
	}
	if r.header.Get("X-Request-Id") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: headers %v", name, r.header)
	}
	for _, hd := range []string{"ETag", "X-Signal-Duplicate", "Retry-After"} {
		if v := r.header.Get(hd); v != "" {
			t.Errorf("%s: %s %q on a refusal", name, hd, v)
		}
	}
	if got := f.store.Counts(); got != counts {
		t.Errorf("%s: the store served requests: %+v, before %+v", name, got, counts)
	}
	if n := f.feedLen(t); n != feed {
		t.Errorf("%s: the change feed grew by %d", name, n-feed)
	}
}

// checkUntouchedAfterRefusals: the last refusal was logged; a2 still does
// not exist and a1 is at version 1; the type's public command is served,
// with the Idempotency-Key the refusals carried too.
func checkUntouchedAfterRefusals(t *testing.T, tr transport, f *fixture) {
	t.Helper()
	lines := f.logs.lines(t)
	if last := lines[len(lines)-1]; last["level"] != "INFO" || last["status"] != float64(403) || last["error_kind"] != "forbidden" || last["aggregate"] != "audit#a2" {
		t.Errorf("log line of a refusal: %v", last)
	}
	checkError(t, tr.do(t, f.h, call{method: "GET", target: "/aggregates/audit/a2"}), http.StatusNotFound, "not_found")
	g := tr.do(t, f.h, call{method: "GET", target: "/aggregates/audit/a1"})
	if g.status != 200 || g.header.Get("ETag") != `"1"` || get(t, g.json(t), "state.entries.0") != "opened" {
		t.Errorf("a1 after the refusals: %d %v %s", g.status, g.header, g.body)
	}
	if h := tr.do(t, f.h, call{method: "GET", target: "/aggregates/audit/a1/events"}); h.status != 200 || len(get(t, h.json(t), "events").([]any)) != 1 {
		t.Errorf("a1's history after the refusals: %d %s", h.status, h.body)
	}
	// The type's public command is served.
	if r := tr.do(t, f.h, call{method: "POST", target: "/aggregates/audit/a1/Annotate", body: `{"note":"seen"}`}); r.status != 200 || get(t, r.json(t), "version") != float64(2) {
		t.Errorf("Annotate: %d %s", r.status, r.body)
	}
	// An Idempotency-Key refused with the internal command is not
	// taken: the key still works for a public command.
	if r := tr.do(t, f.h, call{method: "POST", target: "/aggregates/audit/a1/Annotate", header: map[string]string{"Idempotency-Key": "k-1"}, body: `{"note":"again"}`}); r.status != 200 || r.header.Get("X-Signal-Duplicate") != "" {
		t.Errorf("Annotate with the key the refusals carried: %d %v %s", r.status, r.header, r.body)
	}
}

// TestInternalCommandForbiddenInDev: behind LocalGuard (signal dev) a
// request that passes the guard and names an internal command is the
// router's 403, and writes nothing.
func TestInternalCommandForbiddenInDev(t *testing.T) {
	f := newFixture(t, withAudit())
	g := LocalGuard(f.h, LocalOptions{Addr: "127.0.0.1:8080"})
	counts := f.store.Counts()
	for _, body := range []string{`{"entry":"granted"}`, `{"entry":`} {
		req := httptest.NewRequest("POST", "/aggregates/audit/a1/Record", strings.NewReader(body))
		req.Host = "127.0.0.1:8080"
		req.Header.Set("Origin", "http://127.0.0.1:8080")
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		r := reply{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
		checkError(t, r, http.StatusForbidden, "forbidden")
		if msg := get(t, r.json(t), "error.message").(string); !strings.Contains(msg, "internal") {
			t.Errorf("body %s: the message %q is not the router's", body, msg)
		}
		if r.header.Get("X-Request-Id") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("body %s: headers %v", body, r.header)
		}
	}
	if got := f.store.Counts(); got != counts {
		t.Errorf("the store served requests: %+v, before %+v", got, counts)
	}
}

// TestInternalCommandAfterTheRequestChecks: the body limit and the
// command headers are checked before the command is looked at, so an
// internal command with too large a body is a 413 and with a bad
// If-Match a 400, as any command; neither writes.
func TestInternalCommandAfterTheRequestChecks(t *testing.T) {
	f := newFixture(t, withAudit(), withConfig(func(c *Config) { c.MaxBodyBytes = 64 }))
	for _, tr := range transports {
		checkError(t, tr.do(t, f.h, call{method: "POST", target: "/aggregates/audit/a1/Record", body: `{"entry":"` + strings.Repeat("x", 64) + `"}`}), http.StatusRequestEntityTooLarge, "too_large")
		checkError(t, tr.do(t, f.h, call{method: "POST", target: "/aggregates/audit/a1/Record", header: map[string]string{"If-Match": "abc"}, body: `{"entry":"x"}`}), http.StatusBadRequest, "invalid")
	}
	if n := f.feedLen(t); n != 0 {
		t.Errorf("%d commits", n)
	}
}

// TestStatusOfForbidden: signal.ErrForbidden, wrapped or not, is 403 "forbidden".
func TestStatusOfForbidden(t *testing.T) {
	for _, err := range []error{signal.ErrForbidden, fmt.Errorf("wrapped: %w", signal.ErrForbidden)} {
		if got := StatusOf(err); got != 403 {
			t.Errorf("StatusOf(%v) = %d, want 403", err, got)
		}
		if got := errorCode(err); got != "forbidden" {
			t.Errorf("errorCode(%v) = %q", err, got)
		}
	}
}
