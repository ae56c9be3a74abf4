package httpapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

func TestPages(t *testing.T) {
	svc, err := signal.New(signal.Config{Store: memstore.New(), Types: shopTypes()})
	if err != nil {
		t.Fatal(err)
	}
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<html>cart "+r.URL.Query().Get("q")+"</html>")
	})
	h, err := New(Config{Service: svc, Routes: QueryRoutes, Pages: pages})
	if err != nil {
		t.Fatal(err)
	}
	viaHTTP := func(method, path string) (int, string, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w.Code, w.Header().Get("Content-Type"), w.Body.String()
	}
	viaV2 := func(method, path string) (int, string, string) {
		raw, q, _ := strings.Cut(path, "?")
		resp, err := h.HandleV2(t.Context(), events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: raw, RawQueryString: q,
			RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "$default", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: raw}}})
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Headers["Content-Type"], resp.Body
	}
	for name, send := range map[string]func(string, string) (int, string, string){"net/http": viaHTTP, "v2": viaV2} {
		if s, ct, body := send("GET", "/?q=1"); s != 200 || !strings.HasPrefix(ct, "text/html") || body != "<html>cart 1</html>" {
			t.Errorf("%s GET /: %d %q %q", name, s, ct, body)
		}
		if s, _, _ := send("GET", "/ui/missing.js"); s != 404 {
			t.Errorf("%s GET /ui/missing.js: %d", name, s)
		}
		if s, ct, body := send("POST", "/"); s != 404 || !strings.Contains(body, `"code":"not_found"`) || !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s POST / must stay an API 404: %d %q %s", name, s, ct, body)
		}
		if s, _, body := send("GET", "/aggregates/cart/nobody"); s != 404 || !strings.Contains(body, `"code":"not_found"`) {
			t.Errorf("%s API routes come first: %d %s", name, s, body)
		}
	}
}
