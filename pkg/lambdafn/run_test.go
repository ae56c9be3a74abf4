package lambdafn

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/signalforgo/signal/internal/testsupport"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest"
	"github.com/signalforgo/signal/pkg/signal"
)

// initFailureHelper runs, in the process TestInitFailure starts (see
// TestMain), one of the entry points as a function's main would. It only
// returns if the entry point did.
func initFailureHelper(name string) {
	switch name {
	case "missing-env":
		Command(bankApp())
	case "invalid-app":
		Projector(&signal.App{Name: "bank"})
	case "bad-option-to-stdout":
		Query(bankApp(), Output(os.Stdout), MetricNamespace(""))
	}
}

func TestMain(m *testing.M) {
	if h := os.Getenv("LAMBDAFN_HELPER"); h != "" {
		initFailureHelper(h)
		os.Stderr.WriteString("the entry point returned\n")
		os.Exit(3)
	}
	testsupport.Main(m, dynamotest.Stop)
}

// TestInitFailure: a function that cannot wire itself writes one JSON
// error line naming the problem and exits with status 1, before it
// reaches the Lambda runtime (lambda.Start would fail otherwise, with a
// line of its own, outside Lambda).
func TestInitFailure(t *testing.T) {
	tables := []string{"EVENTS_TABLE=e", "VIEWS_TABLE=v", "AWS_REGION=us-east-1"}
	for _, tc := range []struct {
		helper   string
		env      []string
		stdout   bool // the line goes to stdout (the Output option), else stderr
		function string
		want     string
	}{
		{"missing-env", nil, false, "command", "missing environment: EVENTS_TABLE, VIEWS_TABLE"},
		{"invalid-app", tables, false, "projector", "signal.App bank: no aggregate types"},
		{"bad-option-to-stdout", tables, true, "query", "lambdafn.MetricNamespace: empty namespace"},
	} {
		t.Run(tc.helper, func(t *testing.T) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append([]string{"LAMBDAFN_HELPER=" + tc.helper, "PATH=" + os.Getenv("PATH")}, tc.env...)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
			}
			out, other := stderr.String(), stdout.String()
			if tc.stdout {
				out, other = other, out
			}
			if strings.Contains(other, "init failed") {
				t.Errorf("the line went to the other stream: %q", other)
			}
			var line struct{ Level, Msg, Function, Error string }
			if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &line); err != nil {
				t.Fatalf("not one JSON line: %q", out)
			}
			if line.Level != "ERROR" || line.Msg != "init failed" || line.Function != tc.function || line.Error != tc.want {
				t.Errorf("got %+v, want function %q error %q", line, tc.function, tc.want)
			}
		})
	}
}
