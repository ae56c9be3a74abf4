package httpapi

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// Listener wraps a plain-HTTP listener for an http.Server serving a
// Handler, so that the requests net/http refuses before any handler
// runs get the API's JSON error too. net/http answers a request it cannot
// parse (an invalid percent escape in the path, a malformed request line
// or header, a missing Host: 400; headers past MaxHeaderBytes: 431;
// an unknown transfer coding: 501; an unknown protocol version: 505)
// by writing plain text straight to the connection, and closes it. The
// connections of Listener replace exactly those writes with
//
//	{"error":{"code":"invalid","message":...}}   ("too_large" for 431)
//
// with the same status, Content-Type: application/json, X-Request-Id,
// X-Content-Type-Options: nosniff and Connection: close. Every other
// byte passes unchanged. Use it as
//
//	srv.Serve(httpapi.Listener(ln))
//
// It is for plain HTTP, as `signal dev` serves: under TLS the server
// writes to a tls.Conn, so wrap nothing (and keep net/http's answers).
func Listener(ln net.Listener) net.Listener { return jsonErrorListener{ln} }

type jsonErrorListener struct{ net.Listener }

func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &jsonErrorConn{Conn: c}, nil
}

// jsonErrorConn rewrites net/http's pre-handler error answers.
type jsonErrorConn struct{ net.Conn }

func (c *jsonErrorConn) Write(p []byte) (int, error) {
	if alt, ok := rewriteParseError(p); ok {
		if _, err := c.Conn.Write(alt); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// CloseWrite lets net/http half-close the connection (its graceful close
// after a refused request, see body.go), which it does only on a
// connection that has the method.
func (c *jsonErrorConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// parseErrorHeaders are the headers net/http writes after the status line
// of its pre-handler error answers. A handler's answer never starts so:
// net/http writes a handler's headers in sorted order (Connection before
// Content-Type) and with a Date.
const parseErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// rewriteParseError returns the JSON answer for p when p is a whole
// pre-handler error answer of net/http: "HTTP/1.1 <code> <text>", the
// headers above, then a plain-text body.
func rewriteParseError(p []byte) ([]byte, bool) {
	const proto = "HTTP/1.1 "
	if len(p) > 1024 || !bytes.HasPrefix(p, []byte(proto)) {
		return nil, false
	}
	statusLine, _, ok := strings.Cut(string(p[len(proto):]), parseErrorHeaders)
	if !ok || len(statusLine) < 4 || statusLine[3] != ' ' {
		return nil, false
	}
	status, err := strconv.Atoi(statusLine[:3])
	if err != nil || status < 400 || status > 599 {
		return nil, false
	}
	code, msg := "invalid", parseErrorMessage(status, statusLine)
	if status == http.StatusRequestHeaderFieldsTooLarge {
		code = signal.KindTooLarge.String()
	}
	b, err := json.Marshal(errorBody{Error: errorDetail{Code: code, Message: msg}})
	if err != nil {
		return nil, false
	}
	var out bytes.Buffer
	out.WriteString(proto + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	hdr := jsonHeader()
	hdr.Set("Connection", "close")
	hdr.Set("Content-Length", strconv.Itoa(len(b)))
	hdr.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Request-Id", signal.NewID())
	_ = hdr.Write(&out)
	out.WriteString("\r\n")
	out.Write(b)
	return out.Bytes(), true
}

// parseErrorMessage says what net/http refused. Its texts are its own
// constants, never client input: "400 Bad Request: missing required Host
// header" keeps the part after the colon; a bare "400 Bad Request" is a
// request line, path or header net/http could not parse.
func parseErrorMessage(status int, statusLine string) string {
	if _, detail, ok := strings.Cut(statusLine, ": "); ok {
		return detail
	}
	switch status {
	case http.StatusBadRequest:
		return "malformed request: the request line, the path (an invalid percent escape?) or a header could not be parsed"
	case http.StatusRequestHeaderFieldsTooLarge:
		return "the request headers are too large"
	case http.StatusNotImplemented:
		return "unsupported transfer encoding"
	}
	return strings.ToLower(http.StatusText(status))
}
