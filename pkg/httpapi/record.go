package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// record writes the request's log line, at Info below 500 and at Error
// from 500, and calls OnRequest.
func (h *Handler) record(ctx context.Context, r *http.Request, x *exchange, d time.Duration, cold bool) {
	info := RequestInfo{
		Method:        truncate(r.Method, maxMethodBytes),
		Route:         x.route,
		Path:          truncate(x.path, maxLogBytes),
		Status:        x.status,
		Duration:      d,
		RequestID:     x.requestID,
		ColdStart:     cold,
		AggregateType: truncate(x.typ, maxLogBytes),
		AggregateID:   truncate(x.id, maxLogBytes),
		Version:       x.version,
		Created:       x.created,
		Duplicate:     x.duplicate,
	}
	if x.err != nil {
		info.ErrorKind = errorCode(x.err)
	}
	level := slog.LevelInfo
	if x.err != nil && x.status >= 500 {
		level = slog.LevelError
	}
	h.log().LogAttrs(ctx, level, "http request", logAttrs(x, info)...)
	if h.onRequest != nil {
		h.onRequest(ctx, info)
	}
}

// logAttrs are the fields of a request's log line.
func logAttrs(x *exchange, info RequestInfo) []slog.Attr {
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.String("request_id", x.requestID),
		slog.Bool("cold_start", info.ColdStart),
		slog.String("method", info.Method),
		slog.String("route", x.route),
		slog.String("path", info.Path),
		slog.Int("status", x.status),
		slog.Float64("duration_ms", float64(info.Duration.Microseconds())/1000),
	)
	if x.gatewayID != "" && x.gatewayID != x.requestID {
		attrs = append(attrs, slog.String("apigw_request_id", x.gatewayID))
	}
	switch {
	case x.view:
		attrs = append(attrs, slog.String("view", info.AggregateType+"/"+info.AggregateID))
	case x.typ != "":
		attrs = append(attrs, slog.String("aggregate", info.AggregateType+"#"+info.AggregateID))
	}
	if x.version > 0 {
		attrs = append(attrs, slog.Int64("version", x.version))
	}
	if x.created {
		attrs = append(attrs, slog.Bool("created", true))
	}
	if x.duplicate {
		attrs = append(attrs, slog.Bool("duplicate", true))
	}
	if x.err != nil {
		attrs = append(attrs, slog.String("error_kind", info.ErrorKind), slog.String("error", x.err.Error()))
	}
	return attrs
}
