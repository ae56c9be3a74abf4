package main

// The app as the CDK CLI runs it: context in CDK_CONTEXT_JSON, the cloud
// assembly in CDK_OUTDIR. Auth none warns on stderr (or leaves it to the
// CLI, which prints the assembly's warnings); a bad combination exits 1
// with the error.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppAuthContext(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	if out, err := exec.Command("go", "build", "-o", app, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	code := filepath.Join(dir, "dist")
	for _, fn := range []string{"command", "query", "projector"} {
		if err := os.MkdirAll(filepath.Join(code, fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(code, fn, "bootstrap"), []byte("#!/bin/sh\n# "+fn+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const warning = "[Warning at /Signal] Auth is none: every route of the API is open"
	for _, tc := range []struct {
		name     string
		context  map[string]any
		underCLI bool
		fails    string // in stderr, when the app must exit 1
		warns    bool   // the warning on stderr
		authType string // of every API route in the template
	}{
		{name: "default", authType: "AWS_IAM"},
		{name: "none", context: map[string]any{"auth": "none"}, warns: true, authType: "NONE"},
		{name: "none under the CLI", context: map[string]any{"auth": "none"}, underCLI: true, authType: "NONE"},
		{name: "jwt", context: map[string]any{"auth": "jwt", "jwtIssuer": "https://auth.example/", "jwtAudience": "a,b"}, authType: "JWT"},
		{name: "jwt without issuer", context: map[string]any{"auth": "jwt"}, fails: "JWTIssuer"},
		{name: "cognito on a bad ARN", context: map[string]any{"api": "rest", "auth": "cognito", "userPoolArn": "pool"}, fails: "UserPoolARN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.context == nil {
				tc.context = map[string]any{}
			}
			tc.context["codeDir"] = code
			ctx, _ := json.Marshal(tc.context)
			out := t.TempDir()
			cmd := exec.Command(app)
			cmd.Env = append(os.Environ(), "CDK_CONTEXT_JSON="+string(ctx), "CDK_OUTDIR="+out, "CDK_CLI_ASM_VERSION=",
				"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
			if tc.underCLI {
				cmd.Env = append(cmd.Env, "CDK_CLI_ASM_VERSION=41.0.0")
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			if tc.fails != "" {
				if err == nil || !strings.Contains(stderr.String(), tc.fails) {
					t.Fatalf("exit %v, stderr %q: want a failure naming %s", err, stderr.String(), tc.fails)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			if got := strings.Contains(stderr.String(), warning); got != tc.warns {
				t.Errorf("warning on stderr %v, want %v; stderr:\n%s", got, tc.warns, stderr.String())
			}
			// What the CDK CLI prints: the warning is in the assembly exactly with auth=none.
			var printed strings.Builder
			if err := printWarnings(&printed, out); err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Contains(printed.String(), warning), tc.context["auth"] == "none"; got != want {
				t.Errorf("warning in the assembly %v, want %v: %q", got, want, printed.String())
			}
			checkRouteAuth(t, filepath.Join(out, "Signal.template.json"), tc.authType)
		})
	}
}

// checkRouteAuth: every route of the template is authType, except the
// cart's page routes, which are NONE.
func checkRouteAuth(t *testing.T, path, authType string) {
	t.Helper()
	tmpl := readTemplate(t, path)
	routes := 0
	for _, r := range tmpl.Resources {
		if r.Type != "AWS::ApiGatewayV2::Route" {
			continue
		}
		routes++
		key, _ := r.Properties["RouteKey"].(string)
		want := authType
		for _, page := range cartPageRoutes {
			if key == page {
				want = "NONE"
			}
		}
		if got := r.Properties["AuthorizationType"]; got != want {
			t.Errorf("%s: AuthorizationType %v, want %s", key, got, want)
		}
	}
	if routes != 7+len(cartPageRoutes) {
		t.Errorf("%d routes, want the 7 API routes and the cart's %d page routes", routes, len(cartPageRoutes))
	}
}

// template is what the tests read of a synthesized CloudFormation
// template: its resources' types and properties.
type template struct {
	Resources map[string]struct {
		Type       string
		Properties map[string]any
	}
}

// readTemplate reads the synthesized template at path.
func readTemplate(t *testing.T, path string) template {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl template
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl
}
