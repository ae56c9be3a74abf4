package motoserver

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/signalforgo/signal/internal/testsupport"
)

// startTimeout bounds how long a start waits for moto_server to answer.
const startTimeout = 30 * time.Second

// serveScript runs moto_server's own server with the DynamoDB requests
// serialized: moto checks a write's condition and then writes without a
// lock, so on a loaded machine two conditional writes on one key could
// both succeed (TestConditionalWritesAreAtomic). DynamoDB never allows it,
// and optimistic concurrency (commits at a version) relies on it.
//
//go:embed serve.py
var serveScript string

// server is one moto_server process.
type server struct {
	url     string
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has exited and been reaped
	logPath string
}

var errExited = errors.New("moto_server exited before answering")

// start launches moto_server on a free loopback port and waits until it
// answers HTTP.
func start() (*server, error) {
	port, err := testsupport.FreePort()
	if err != nil {
		return nil, err
	}
	cmd, err := command("127.0.0.1", port)
	if err != nil {
		return nil, err
	}
	log, err := os.CreateTemp("", "moto-*.log")
	if err != nil {
		return nil, err
	}
	defer log.Close() // the child has its own descriptor
	// Its own process group, so stop ends all of it; the parent-death
	// signal ends it with the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		os.Remove(log.Name())
		return nil, err
	}
	s := &server{url: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{}), logPath: log.Name()}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("%w (%v):\n%s", errExited, s.cmd.ProcessState, s.logTail())
		default:
		}
		resp, err := client.Get(s.url + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("moto_server did not answer on %s within %v: %v\n%s", s.url, startTimeout, err, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop kills the server's process group, waits for it, and removes its log.
func (s *server) stop() {
	select {
	case <-s.done:
	default:
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			// SIGKILL is not refused; only an unkillable (D-state)
			// process gets here. Its reaping goroutine ends when it does.
		}
	}
	os.Remove(s.logPath)
}

func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if len(b) > 4<<10 {
		b = append([]byte("..."), b[len(b)-4<<10:]...)
	}
	return string(b)
}

// command returns the server to start: serve.py under the Python that has
// moto (the interpreter of the moto_server script, else python3), or
// MOTO_SERVER / moto_server itself when no such Python is found (then
// without the serialization).
func command(host string, port int) (*exec.Cmd, error) {
	if bin := os.Getenv("MOTO_SERVER"); bin != "" {
		return exec.Command(bin, "-H", host, "-p", fmt.Sprint(port)), nil
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New("moto_server is not on PATH")
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
