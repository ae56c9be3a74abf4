// Command bank is the bank's three functions in one bootstrap, for the
// RIE test of pkg/lambdafn: BANK_FUNCTION picks which one runs, and each
// is the one line a user writes. It lives under testdata so that
// `go build ./...` and `go vet ./...` skip it.
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/signalforgo/signal/pkg/lambdafn"
	"github.com/signalforgo/signal/pkg/lambdafn/internal/bank"
)

func main() {
	switch os.Getenv("BANK_FUNCTION") {
	case "command":
		lambdafn.Command(bank.App(), lambdafn.MetricNamespace("Bank"))
	case "query":
		page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "the bank") })
		lambdafn.Query(bank.App(), lambdafn.MetricNamespace("Bank"), lambdafn.Pages(page))
	case "projector":
		lambdafn.Projector(bank.App(), lambdafn.MetricNamespace("Bank"))
	}
	fmt.Fprintln(os.Stderr, "BANK_FUNCTION is not command, query or projector")
	os.Exit(2)
}
