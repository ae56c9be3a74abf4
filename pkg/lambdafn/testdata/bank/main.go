// Command bank is the bank's three functions in one bootstrap, for the
// RIE test of pkg/lambdafn: BANK_FUNCTION picks which one runs, and each
// is the one line a user writes. It lives under testdata so that
// `go build ./...` and `go vet ./...` skip it.
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/signalforgo/signal/internal/testbank"
	"github.com/signalforgo/signal/pkg/lambdafn"
	"github.com/signalforgo/signal/pkg/signal"
)

// app is the bank of pkg/lambdafn's tests (bankApp there): accounts,
// balances and the auditor, no letters.
func app() *signal.App { return testbank.App(testbank.WithoutLetters(), testbank.WithAuditor()) }

func main() {
	switch os.Getenv("BANK_FUNCTION") {
	case "command":
		lambdafn.Command(app(), lambdafn.MetricNamespace("Bank"))
	case "query":
		page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "the bank") })
		lambdafn.Query(app(), lambdafn.MetricNamespace("Bank"), lambdafn.Pages(page))
	case "projector":
		lambdafn.Projector(app(), lambdafn.MetricNamespace("Bank"))
	}
	fmt.Fprintln(os.Stderr, "BANK_FUNCTION is not command, query or projector")
	os.Exit(2)
}
