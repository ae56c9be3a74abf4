// Package moto gives tests a real DynamoDB and DynamoDB Streams API:
// moto_server (an independent implementation, `pip install 'moto[server]'`)
// started on a free loopback port, or the endpoint in AWS_ENDPOINT_URL
// when one is given (LocalStack, DynamoDB Local, a shared moto).
//
// The server is started once per test binary and dies with it. It runs
// with its DynamoDB requests serialised (serve.py), so conditional writes
// are atomic as in DynamoDB. When
// moto_server is missing the test is skipped, except under CI=true, where
// it fails: CI must never pass by not testing.
package moto

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

var (
	once     sync.Once
	endpoint string
	startErr error
	cmd      *exec.Cmd
)

// Endpoint returns the URL of the DynamoDB API for the test, starting
// moto_server on first use.
func Endpoint(t testing.TB) string {
	t.Helper()
	if e := os.Getenv("AWS_ENDPOINT_URL"); e != "" {
		return e
	}
	once.Do(func() { endpoint, startErr = start() })
	if startErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("moto_server is required under CI: %v", startErr)
		}
		t.Skipf("no DynamoDB endpoint (set AWS_ENDPOINT_URL or install moto_server: pip install 'moto[server]'): %v", startErr)
	}
	return endpoint
}

// Config returns an AWS configuration for the test endpoint with dummy
// credentials, the way a user points the SDK at a local endpoint.
func Config(t testing.TB) aws.Config {
	t.Helper()
	url := Endpoint(t)
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithBaseEndpoint(url),
	)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Stop ends the moto_server this package started, if any. Call it from
// TestMain after m.Run; without it the server still dies with the test
// binary (it is started with a parent-death signal).
func Stop() {
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

func start() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	cmd, err = command("127.0.0.1", port)
	if err != nil {
		return "", err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	log, err := os.CreateTemp("", "moto-*.log")
	if err != nil {
		return "", err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return "", err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/")
		if err == nil {
			resp.Body.Close()
			return url, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	Stop()
	return "", fmt.Errorf("moto_server did not answer on %s within 30s (log: %s)", url, log.Name())
}

// serveScript runs moto_server's own server with the DynamoDB requests
// serialised: moto checks a write's condition and then writes without a
// lock, so on a loaded machine two conditional writes on one key could
// both succeed (TestConditionalWritesAreAtomic). DynamoDB never allows it,
// and the concurrency tests rely on it.
//
//go:embed serve.py
var serveScript string

// command returns the server to start: serve.py under the Python that has
// moto (the interpreter of the moto_server script, else python3), or
// MOTO_SERVER / moto_server itself when no such Python is found.
func command(host string, port int) (*exec.Cmd, error) {
	if bin := os.Getenv("MOTO_SERVER"); bin != "" {
		return exec.Command(bin, "-H", host, "-p", fmt.Sprint(port)), nil
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, err
	}
	for _, py := range []string{interpreter(bin), "python3"} {
		if py != "" && exec.Command(py, "-c", "import moto.server").Run() == nil {
			return exec.Command(py, "-c", serveScript, host, fmt.Sprint(port)), nil
		}
	}
	return exec.Command(bin, "-H", host, "-p", fmt.Sprint(port)), nil
}

// interpreter returns the Python of a pip-installed script's "#!" line,
// or "" (a pyenv shim, say, starts with "#!/usr/bin/env bash").
func interpreter(script string) string {
	f, err := os.Open(script)
	if err != nil {
		return ""
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	py, ok := strings.CutPrefix(strings.TrimSpace(line), "#!")
	if !ok || !strings.Contains(filepath.Base(py), "python") || strings.Contains(py, " ") {
		return ""
	}
	return py
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
