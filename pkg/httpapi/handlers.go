package httpapi

import (
	"bytes"
	"net/http"

	"github.com/signalforgo/signal/pkg/signal"
)

// The routes. Each answers through reply or fail; its parameters are the
// request's path values, already unescaped.

// command: POST /aggregates/{type}/{id}/{command}.
func (h *Handler) command(x *exchange, r *http.Request) {
	x.typ, x.id = r.PathValue("type"), r.PathValue("id")
	body, err := x.body.read(h.maxBody)
	if err != nil {
		h.fail(x, err)
		return
	}
	opts, err := commandOptions(r.Header, x.requestID)
	if err != nil {
		h.fail(x, err)
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = nil // an empty body is the command {}
	}
	res, err := h.svc.HandleJSON(r.Context(), x.typ, x.id, r.PathValue("command"), body, opts...)
	if err != nil {
		h.fail(x, err)
		return
	}
	h.commandResponse(x, res)
}

// end: DELETE /aggregates/{type}/{id}.
func (h *Handler) end(x *exchange, r *http.Request) {
	x.typ, x.id = r.PathValue("type"), r.PathValue("id")
	opts, err := commandOptions(r.Header, x.requestID)
	if err != nil {
		h.fail(x, err)
		return
	}
	res, err := h.svc.End(r.Context(), x.typ, x.id, opts...)
	if err != nil {
		h.fail(x, err)
		return
	}
	h.commandResponse(x, res)
}

func (h *Handler) commandResponse(x *exchange, res signal.Result) {
	x.version, x.created, x.duplicate = res.Version, res.Created, res.Duplicate
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	body := commandBody{Type: res.Type, ID: res.ID, Version: res.Version, State: res.State, Events: wireEvents(res.Events)}
	if res.Duplicate {
		h.reply(x, status, body, "ETag", etag(res.Version), "X-Signal-Duplicate", "true")
		return
	}
	h.reply(x, status, body, "ETag", etag(res.Version))
}

// get: GET /aggregates/{type}/{id}[?version=N].
func (h *Handler) get(x *exchange, r *http.Request) {
	x.typ, x.id = r.PathValue("type"), r.PathValue("id")
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		h.fail(x, err)
		return
	}
	v, at, err := intParam(q, "version", 1)
	if err != nil {
		h.fail(x, err)
		return
	}
	var st signal.AggregateState
	if at {
		st, err = h.svc.At(r.Context(), x.typ, x.id, v)
	} else {
		st, err = h.svc.Get(r.Context(), x.typ, x.id, signal.Fresh())
	}
	if err != nil {
		h.fail(x, err)
		return
	}
	x.version = st.Version
	h.reply(x, http.StatusOK, stateBody{Type: st.Type, ID: st.ID, Version: st.Version, State: st.State, Closed: st.Closed},
		"ETag", etag(st.Version))
}

// history: GET /aggregates/{type}/{id}/events?after=N&limit=M.
func (h *Handler) history(x *exchange, r *http.Request) {
	x.typ, x.id = r.PathValue("type"), r.PathValue("id")
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		h.fail(x, err)
		return
	}
	after, _, err := intParam(q, "after", 0)
	if err != nil {
		h.fail(x, err)
		return
	}
	limit, _, err := intParam(q, "limit", 1)
	if err != nil {
		h.fail(x, err)
		return
	}
	page, err := h.svc.History(r.Context(), x.typ, x.id, after, int(min(limit, 1<<20)))
	if err != nil {
		h.fail(x, err)
		return
	}
	if n := len(page.Events); n > 0 {
		x.version = page.Events[n-1].Version
	}
	h.reply(x, http.StatusOK, historyBody{Type: x.typ, ID: x.id, Events: wireEvents(page.Events), Next: page.Next})
}

// view: GET /views/{view}/{key}.
func (h *Handler) view(x *exchange, r *http.Request) {
	x.typ, x.id, x.view = r.PathValue("view"), r.PathValue("key"), true
	v, err := h.svc.View(r.Context(), x.typ, x.id)
	if err != nil {
		h.fail(x, err)
		return
	}
	x.version = v.Version
	h.reply(x, http.StatusOK, viewBody{View: x.typ, Key: x.id, Version: v.Version, Data: v.Data}, "ETag", etag(v.Version))
}

// app: GET /app. The description is built once, in New: the types
// cannot change while the Handler lives.
func (h *Handler) app(x *exchange, _ *http.Request) { writeJSON(x, http.StatusOK, h.appJSON()) }

// healthz: GET /healthz.
func (h *Handler) healthz(x *exchange, _ *http.Request) {
	writeJSON(x, http.StatusOK, []byte(`{"status":"ok"}`))
}
