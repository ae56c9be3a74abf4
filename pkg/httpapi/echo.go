package httpapi

import "unicode/utf8"

// Client input is echoed only in part, so that a client cannot make an
// answer, a log line or a metric dimension as long as its request.
const (
	// maxEchoBytes bounds client input quoted in an error message.
	maxEchoBytes = 128
	// maxLogBytes bounds client input in a log field or a RequestInfo.
	maxLogBytes = 256
	// maxMethodBytes bounds a method, which is a short token when honest.
	maxMethodBytes = 32
)

// truncate returns s cut to at most n bytes, at a character boundary,
// with "…" appended when anything was cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
