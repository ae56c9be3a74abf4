package console

import (
	"io"
	"net/http"
)

// With returns the pages of a server that has the console: Handler under
// Prefix (and "/console", its redirect), every other path answered by
// pages. A nil pages has the console as the server's front page: "/" is
// a 302 to it (by a relative Location, "console/", so a stage prefix is
// kept) and any other path a 404 with the API's JSON error (code
// not_found, docs/API.md), as the API answers a path it does not have.
//
// It is what `dev` of pkg/cli serves, and what lambdafn.Console gives the
// query function, as httpapi.Config.Pages.
func With(pages http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(Prefix, Handler())
	mux.Handle(Prefix[:len(Prefix)-1], Handler())
	if pages != nil {
		mux.Handle("/", pages)
		return mux
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"not_found","message":"no page or route at this path"}}`)
			return
		}
		w.Header().Set("Location", Prefix[1:])
		w.WriteHeader(http.StatusFound)
	})
	return mux
}
