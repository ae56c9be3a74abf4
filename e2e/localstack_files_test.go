package e2e

// Offline checks of localstack/: nothing here can start LocalStack (CI has
// no Docker engine), so these tests check what can be checked without it:
// the scripts parse, the compose file has the shape the scripts and the
// README rely on, and the scripts' own logic (URLs, outputs, health,
// errors) does what it says, against a fake LocalStack where it talks to
// one.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const localstackDir = "../localstack"

// lsTool returns the path of a tool; a missing one skips locally and
// fails under CI=true.
func lsTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI=true: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func TestLocalStackScriptsParse(t *testing.T) {
	bash := lsTool(t, "bash")
	for _, c := range []struct {
		file string
		exec bool
	}{
		{"deploy.sh", true},
		{"destroy.sh", true},
		{"init/ready.d/signal-preflight.sh", true},
		{"lib.sh", false}, // sourced
	} {
		path := filepath.Join(localstackDir, c.file)
		if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", c.file, err, out)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		src, _ := os.ReadFile(path)
		if c.exec {
			// LocalStack runs only executable init scripts with a shebang.
			if fi.Mode()&0o111 == 0 {
				t.Errorf("%s is not executable", c.file)
			}
			if !strings.HasPrefix(string(src), "#!/") {
				t.Errorf("%s has no shebang", c.file)
			}
		}
		if strings.Contains(string(src), "\r\n") {
			t.Errorf("%s has CRLF line ends (bash in the container would choke)", c.file)
		}
		if c.file != "lib.sh" && c.file != "init/ready.d/signal-preflight.sh" && !strings.Contains(string(src), "set -euo pipefail") {
			t.Errorf("%s does not set -euo pipefail", c.file)
		}
	}
}

// lsCompose is docker-compose.yml read as the YAML subset it is written
// in: block maps ("key:" / "key: value") and block lists ("- item"),
// two-space indents, comments. Anything else is an error, so the file
// stays in a shape this check understands; it is not a YAML parser.
type lsCompose struct {
	scalars map[string]string   // "services.localstack.image" -> value
	lists   map[string][]string // "services.localstack.ports" -> items
}

func lsParseCompose(src string) (lsCompose, error) {
	d := lsCompose{scalars: map[string]string{}, lists: map[string][]string{}}
	keyLine := regexp.MustCompile(`^([A-Za-z0-9_.-]+):(?:\s+(.*))?$`)
	var stack []string // keys by depth
	for i, line := range strings.Split(src, "\n") {
		n := i + 1
		if strings.Contains(line, "\t") {
			return d, fmt.Errorf("line %d: a tab", n)
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if indent%2 != 0 {
			return d, fmt.Errorf("line %d: indent of %d spaces", n, indent)
		}
		depth := indent / 2
		if item, ok := strings.CutPrefix(trimmed, "- "); ok {
			if depth != len(stack) || depth == 0 {
				return d, fmt.Errorf("line %d: list item outside a list key", n)
			}
			path := strings.Join(stack, ".")
			d.lists[path] = append(d.lists[path], lsUnquote(item))
			continue
		}
		m := keyLine.FindStringSubmatch(trimmed)
		if m == nil {
			return d, fmt.Errorf("line %d: not `key:`, `key: value` or `- item`: %q", n, trimmed)
		}
		if depth > len(stack) {
			return d, fmt.Errorf("line %d: indented too deep", n)
		}
		stack = append(stack[:depth], m[1])
		if v := strings.TrimSpace(m[2]); v != "" {
			d.scalars[strings.Join(stack, ".")] = lsUnquote(v)
			stack = stack[:depth]
		}
	}
	return d, nil
}

func lsUnquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

// lsDefault returns the default of a Compose interpolation "${VAR:-def}"
// or "${VAR-def}", or s itself.
func lsDefault(s string) string {
	m := regexp.MustCompile(`^\$\{[A-Z0-9_]+:?-(.*)\}$`).FindStringSubmatch(s)
	if m == nil {
		return s
	}
	return m[1]
}

func TestLocalStackCompose(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(localstackDir, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := lsParseCompose(string(src))
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	const svc = "services.localstack."

	image := lsDefault(d.scalars[svc+"image"])
	repo, tag, ok := strings.Cut(image, ":")
	if !ok || repo != "localstack/localstack" || tag == "" || tag == "latest" {
		t.Errorf("image %q: want localstack/localstack pinned to a tag", image)
	}
	if ports := d.lists[svc+"ports"]; len(ports) != 1 || !strings.HasSuffix(ports[0], ":4566") ||
		!strings.HasPrefix(ports[0], "127.0.0.1:") {
		t.Errorf("ports %q: want the edge port 4566 on loopback", ports)
	}

	env := map[string]string{}
	for _, e := range d.lists[svc+"environment"] {
		k, v, ok := strings.Cut(e, "=")
		if !ok {
			t.Errorf("environment entry %q is not KEY=value", e)
		}
		env[k] = v
	}
	if _, ok := env["LOCALSTACK_AUTH_TOKEN"]; !ok {
		t.Error("LOCALSTACK_AUTH_TOKEN is not passed through (newer images need it)")
	}
	if env["MAIN_CONTAINER_NAME"] != d.scalars[svc+"container_name"] {
		t.Errorf("MAIN_CONTAINER_NAME %q differs from container_name %q: LocalStack would not find its own network for Lambda",
			env["MAIN_CONTAINER_NAME"], d.scalars[svc+"container_name"])
	}
	// Every service deploy.sh insists on (lib.sh check_health) is loaded.
	services := strings.Split(lsDefault(env["SERVICES"]), ",")
	lib, err := os.ReadFile(filepath.Join(localstackDir, "lib.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`const need = \[([^\]]*)\]`).FindSubmatch(lib)
	if m == nil {
		t.Fatal("lib.sh check_health: no `const need = [...]`")
	}
	for _, q := range strings.Split(string(m[1]), ",") {
		if s := strings.Trim(strings.TrimSpace(q), `"`); !slices.Contains(services, s) {
			t.Errorf("SERVICES %v lacks %q, which deploy.sh requires", services, s)
		}
	}

	vols := d.lists[svc+"volumes"]
	if !slices.Contains(vols, "/var/run/docker.sock:/var/run/docker.sock") {
		t.Errorf("volumes %q: the Docker socket (Lambda) is not mounted", vols)
	}
	var hooks string
	for _, v := range vols {
		if host, rest, ok := strings.Cut(v, ":"); ok && strings.HasPrefix(rest, "/etc/localstack/init/ready.d") {
			hooks = host
		}
	}
	if hooks == "" {
		t.Fatalf("volumes %q: no mount on /etc/localstack/init/ready.d", vols)
	}
	entries, err := os.ReadDir(filepath.Join(localstackDir, hooks))
	if err != nil || len(entries) == 0 {
		t.Fatalf("the init hook mount %s has nothing to run: %v", hooks, err)
	}
}

func TestLocalStackPackageLock(t *testing.T) {
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	var lock struct {
		Packages map[string]struct {
			Version   string `json:"version"`
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	for file, v := range map[string]any{"package.json": &pkg, "package-lock.json": &lock} {
		b, err := os.ReadFile(filepath.Join(localstackDir, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	want := pkg.DevDependencies["aws-cdk-local"]
	got := lock.Packages["node_modules/aws-cdk-local"]
	if want == "" || got.Version != want || got.Integrity == "" {
		t.Fatalf("aws-cdk-local: package.json pins %q, the lock has %q (integrity %q)", want, got.Version, got.Integrity)
	}
}

// lsBash runs a snippet after sourcing localstack/lib.sh.
func lsBash(t *testing.T, env []string, snippet string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(lsTool(t, "bash"), "-c", ". ./lib.sh; "+snippet)
	cmd.Dir = localstackDir
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func TestLocalStackAPIURLs(t *testing.T) {
	const host = "http://abc123.execute-api.localhost.localstack.cloud:4566/prod\n"
	const path = "http://localhost:4566/_aws/execute-api/abc123/prod\n"
	for _, in := range []string{
		"https://abc123.execute-api.us-east-1.amazonaws.com/prod", // the stack's ApiUrl
		"https://abc123.execute-api.us-east-1.amazonaws.com/prod/",
		"http://abc123.execute-api.localhost.localstack.cloud:4566/prod/",
		"http://localhost:4566/_aws/execute-api/abc123/prod/",
		"http://localhost:4566/restapis/abc123/prod/_user_request_/",
	} {
		out, errs, err := lsBash(t, nil, fmt.Sprintf("api_urls %q http://localhost:4566/", in))
		if err != nil || out != host+path {
			t.Errorf("api_urls %s: %v %s\n%s", in, err, errs, out)
		}
	}
	out, _, err := lsBash(t, nil, `api_urls https://x1.execute-api.eu-west-1.amazonaws.com/prod http://127.0.0.1:4599`)
	if err != nil || out != "http://x1.execute-api.localhost.localstack.cloud:4599/prod\nhttp://127.0.0.1:4599/_aws/execute-api/x1/prod\n" {
		t.Errorf("another edge port: %v %q", err, out)
	}
	for in, want := range map[string]string{
		"https://abc.execute-api.us-east-1.amazonaws.com/": "has no stage",
		"https://example.com/prod":                         "not an API Gateway invoke URL",
	} {
		_, errs, err := lsBash(t, nil, fmt.Sprintf("api_urls %q http://localhost:4566", in))
		if err == nil || !strings.Contains(errs, want) {
			t.Errorf("api_urls %s: err %v, stderr %q, want %q", in, err, errs, want)
		}
	}
	out, errs, err := lsBash(t, nil, `stack_context amd64; printf '%s ' "${ctx[@]}"`)
	if err != nil || out != "-c api=rest -c arch=amd64 -c removalPolicy=destroy " {
		t.Errorf("stack_context: %v %s %q", err, errs, out)
	}
	out, errs, err = lsBash(t, []string{"CDK_CONTEXT=-c auth=none  -c throttleRate=5"}, `stack_context arm64; printf '%s ' "${ctx[@]}"`)
	if err != nil || out != "-c api=rest -c arch=arm64 -c removalPolicy=destroy -c auth=none -c throttleRate=5 " {
		t.Errorf("stack_context with CDK_CONTEXT: %v %s %q", err, errs, out)
	}
	if _, errs, err := lsBash(t, nil, `stack_context x86; echo unreachable`); err == nil || !strings.Contains(errs, "want amd64 or arm64") {
		t.Errorf("stack_context x86: %v %q", err, errs)
	}
}

func TestLocalStackOutputsAndHealth(t *testing.T) {
	lsTool(t, "node")
	lsTool(t, "curl")
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	if err := os.WriteFile(outputs, []byte(`{"Signal":{"ApiUrl":"https://a1.execute-api.us-east-1.amazonaws.com/prod","EventsTableName":"ev"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errs, err := lsBash(t, nil, fmt.Sprintf("stack_output %q Signal ApiUrl", outputs)); err != nil || out != "https://a1.execute-api.us-east-1.amazonaws.com/prod\n" {
		t.Errorf("stack_output: %v %s %q", err, errs, out)
	}
	if _, errs, err := lsBash(t, nil, fmt.Sprintf("stack_output %q Signal DeadLetterQueueUrl", outputs)); err == nil || !strings.Contains(errs, "no output DeadLetterQueueUrl") {
		t.Errorf("a missing output: %v %q", err, errs)
	}

	// A fake LocalStack: /_localstack/health and /_localstack/init/ready.
	all := `"cloudformation":"available","s3":"running","ssm":"available","iam":"available","sts":"available","lambda":"available","logs":"available","dynamodb":"running","dynamodbstreams":"available","apigateway":"available","sqs":"available"`
	for _, c := range []struct {
		name, health, hook string
		wantErr            string
	}{
		{"ready", `{"services":{` + all + `},"edition":"community","version":"4.14.0"}`, "SUCCESSFUL", ""},
		{"no lambda", `{"services":{` + strings.Replace(all, `"lambda":"available"`, `"lambda":"disabled"`, 1) + `}}`, "SUCCESSFUL", "LocalStack does not offer: lambda (disabled)"},
		{"hook failed", `{"services":{` + all + `}}`, "ERROR", "the Docker socket is not usable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/_localstack/health":
					fmt.Fprint(w, c.health)
				case "/_localstack/init/ready":
					fmt.Fprintf(w, `{"completed":true,"scripts":[{"stage":"READY","name":"/etc/localstack/init/ready.d/signal-preflight.sh","state":%q}]}`, c.hook)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			out, errs, err := lsBash(t, nil, fmt.Sprintf("wait_for_localstack %s 10 && check_ready_hook %s 10 && echo fine", srv.URL, srv.URL))
			if c.wantErr == "" {
				if err != nil || !strings.Contains(out, "LocalStack 4.14.0 (community edition)") || !strings.HasSuffix(out, "fine\n") {
					t.Fatalf("%v\nstdout %s\nstderr %s", err, out, errs)
				}
				return
			}
			if err == nil || !strings.Contains(errs, c.wantErr) || strings.Contains(out, "fine") {
				t.Fatalf("want failure %q; got %v\nstdout %s\nstderr %s", c.wantErr, err, out, errs)
			}
		})
	}
}

// deploy.sh fails early, and says why, without Docker.
func TestLocalStackDeployNeedsDocker(t *testing.T) {
	bash := lsTool(t, "bash")
	bin := t.TempDir()
	for _, tool := range []string{"dirname"} {
		p := lsTool(t, tool)
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	run := func() (string, error) {
		cmd := exec.Command(bash, filepath.Join(localstackDir, "deploy.sh"))
		cmd.Env = []string{"PATH=" + bin, "HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(); err == nil || !strings.Contains(out, "docker is not installed") {
		t.Fatalf("without docker: %v %s", err, out)
	}
	fake := "#!" + bash + "\n[ \"$1\" = info ] && exit 1\nexit 0\n"
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := run(); err == nil || !strings.Contains(out, "its engine does not answer") {
		t.Fatalf("with a dead engine: %v %s", err, out)
	}
}

func TestMakefileE2ERemote(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^e2e-remote:\n\t\$\(GO\) test -tags e2eremote -count=1 -run Remote -v \./e2e/$`).Match(mk) {
		t.Error("Makefile: no e2e-remote target running the e2eremote-tagged tests")
	}
	src, err := os.ReadFile("remote_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(src), "//go:build e2eremote\n") {
		t.Error("remote_test.go does not start with //go:build e2eremote: make test would compile it")
	}
}
