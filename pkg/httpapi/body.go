package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// A body the handler leaves unread is discarded before answering, up to
// maxDiscardBytes within discardTimeout. Without that, net/http closes a
// connection with unread data (always when the client sent
// "Connection: close", otherwise past 256 KiB), the kernel answers the
// rest of the upload with a reset, and most clients, curl and Go's own
// included, report the reset instead of the 413 waiting for them. Past
// the bound the connection is closed gracefully (net/http's half-close
// and linger): a client sending more than that may still see a reset.
const (
	maxDiscardBytes = 8 << 20
	discardTimeout  = 5 * time.Second
)

// httpBody is a net/http request's body as the router takes it: read
// once, with the limit, and its unread rest discarded at the end.
type httpBody struct {
	r *http.Request
	// consumed: read to its end; touched: read at all (which, with
	// "Expect: 100-continue", has asked the client to send it).
	consumed, touched bool
}

// read reads at most max bytes of the body: a Content-Length beyond max
// is refused unread, and a body without one is read one byte past max
// to tell.
func (b *httpBody) read(max int64) ([]byte, error) {
	r := b.r
	if r.Body == nil || r.Body == http.NoBody {
		b.consumed = true
		return nil, nil
	}
	if r.ContentLength > max {
		return nil, tooLarge(max)
	}
	b.touched = true
	data, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(max)
		}
		var se *signal.Error
		if errors.As(err, &se) { // a Lambda event's bad base64
			return nil, err
		}
		return nil, invalid("the request body could not be read")
	}
	if int64(len(data)) > max {
		return nil, tooLarge(max)
	}
	b.consumed = true
	return data, nil
}

// discardRest reads and discards what the router left of the body,
// within maxDiscardBytes and discardTimeout (see there why). A client
// waiting for "100 Continue" has sent nothing yet and is left so; a
// Content-Length past the bound is not read at all, as it cannot end
// well. Past the bound, http.MaxBytesReader tells net/http to close the
// connection gracefully.
func (b *httpBody) discardRest(w http.ResponseWriter) {
	r := b.r
	if b.consumed || r.Body == nil || r.Body == http.NoBody || r.ContentLength > maxDiscardBytes {
		return
	}
	if !b.touched && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return
	}
	// Not every ResponseWriter can set deadlines (a recorder in tests);
	// then the server's own timeouts apply.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(discardTimeout))
	_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxDiscardBytes))
}

func tooLarge(max int64) error {
	return signal.Errorf(signal.KindTooLarge, "httpapi", "the request body is larger than %d bytes", max)
}
