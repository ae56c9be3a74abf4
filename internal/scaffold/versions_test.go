package scaffold

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/signalforgo/signal/pkg/lambdatest"
)

// The pinned versions follow this repository's.
func TestVersionsFollowTheRepository(t *testing.T) {
	b, err := os.ReadFile(checkout + "/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.ParseLax("go.mod", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if mf.Go.Version != GoVersion || mf.Module.Mod.Path != SignalModule {
		t.Errorf("go.mod: module %s, go %s; GoVersion %s, SignalModule %s", mf.Module.Mod.Path, mf.Go.Version, GoVersion, SignalModule)
	}
	if RIEVersion != lambdatest.RIEVersion {
		t.Errorf("RIEVersion %s, lambdatest.RIEVersion %s", RIEVersion, lambdatest.RIEVersion)
	}
	makefile, err := os.ReadFile(checkout + "/Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(makefile), "RIE_VERSION := "+RIEVersion+"\n") {
		t.Errorf("the Makefile's RIE_VERSION is not %s", RIEVersion)
	}
	for file, want := range map[string][2]string{
		"/infra/package.json":      {"aws-cdk", CDKCLIVersion},
		"/localstack/package.json": {"aws-cdk-local", CDKLocalVersion},
	} {
		var pkg struct{ DevDependencies map[string]string }
		b, err := os.ReadFile(checkout + file)
		if err == nil {
			err = json.Unmarshal(b, &pkg)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := pkg.DevDependencies[want[0]]; got != want[1] {
			t.Errorf("%s pins %s %s; the scaffold %s", file, want[0], got, want[1])
		}
	}
}
