// Package pgtest gives tests a real PostgreSQL: the server named by
// DATABASE_URL when it is set, else a throwaway cluster that this package
// creates with initdb in a temporary directory and runs on a free loopback
// port. Either way every call of URL creates a fresh, empty database with
// a unique name and drops it when the test ends, so tests never see each
// other's data.
//
// The throwaway cluster is started once per test binary, on first use,
// and shared by its tests. Call Stop from TestMain after m.Run
// (testsupport.Main(m, pgtest.Stop) does) to shut it down and remove its
// directory; without it the server still dies with the test binary (it is
// started with a parent-death signal), and its directory stays behind
// until the next start of a cluster removes it.
//
// PostgreSQL refuses to run as root. When the test runs as root (CI does),
// initdb and postgres run as the unprivileged user "nobody" (or
// PGTEST_USER), and the cluster's directory is handed to that user.
//
// The binaries are looked up in PGTEST_BIN, /usr/lib/postgresql/15/bin,
// the highest /usr/lib/postgresql/*/bin, then PATH. When none has initdb
// (or the cluster cannot start), the test is skipped, except under
// CI=true, where it fails: CI must never pass by not testing.
//
// The cluster lives in /dev/shm where there is one (PGTEST_DIR chooses
// another place) and trades durability for speed: fsync=off,
// full_page_writes=off and wal_level=minimal. A crash of the machine
// loses it, which is fine for data that is thrown away anyway;
// benchmarks against it measure no disk flushes.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/signalforgo/signal/internal/testsupport"
)

// DefaultBin is where Debian's postgresql-15 package puts the server binaries.
const DefaultBin = "/usr/lib/postgresql/15/bin"

// Bounds on every wait, so a broken server fails the test instead of hanging it.
const (
	initTimeout  = 60 * time.Second
	readyTimeout = 30 * time.Second
	stopGrace    = 10 * time.Second
)

var (
	mu       sync.Mutex
	started  bool
	startErr error
	c        *cluster
)

// cluster is the throwaway server of this test binary.
type cluster struct {
	dir  string // removed by Stop
	port int
	cmd  *exec.Cmd
	exit chan struct{} // closed when the server process has exited
	log  string
}

// URL returns a connection URL for a new, empty database (UTF8 encoding)
// that is dropped when t ends. The database is on the server of
// DATABASE_URL when that is set (its user needs the CREATEDB privilege),
// else on this test binary's throwaway cluster, started on first use.
func URL(t testing.TB) string {
	t.Helper()
	base, err := serverURL()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		t.Skipf("no PostgreSQL (set DATABASE_URL, or install the server binaries: apt-get install postgresql-15): %v", err)
	}
	name := "pgtest_" + sanitize(t.Name()) + "_" + randomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connecting to the server: %v", err)
	}
	defer admin.Close(context.Background())
	// The name is made of [a-z0-9_] only; it is an identifier, which
	// cannot be a bound parameter. From PostgreSQL 15 on, FILE_COPY
	// copies the template's files instead of writing them all to the WAL:
	// several times faster here (fsync is off, so its checkpoints are cheap).
	strategy := ""
	var version int
	if err := admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err == nil && version >= 150000 {
		strategy = " STRATEGY FILE_COPY"
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"+strategy+" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"); err != nil {
		t.Fatalf("pgtest: CREATE DATABASE %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("pgtest: dropping %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: dropping %s: %v", name, err)
		}
	})
	u, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// serverURL returns the URL of the server's maintenance database: the
// DATABASE_URL, or the throwaway cluster's "postgres" database.
func serverURL() (string, error) {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u, nil
	}
	mu.Lock()
	defer mu.Unlock()
	if !started {
		started = true
		c, startErr = start()
	}
	if startErr != nil {
		return "", startErr
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port), nil
}

// withDatabase returns the connection string u with its database replaced.
func withDatabase(u, db string) (string, error) {
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		parsed, err := url.Parse(u)
		if err != nil {
			return "", fmt.Errorf("DATABASE_URL is not a valid URL: %w", err)
		}
		parsed.Path = "/" + db
		parsed.RawPath = ""
		return parsed.String(), nil
	}
	// A keyword/value string: a later keyword overrides an earlier one.
	return u + " dbname=" + db, nil
}

// Stop shuts the throwaway cluster down, if this package started one, and
// removes its directory. Call it from TestMain after m.Run. Later calls of
// URL fail the test.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if c != nil {
		c.stop()
		c = nil
	}
	if started && startErr == nil {
		startErr = errors.New("pgtest.Stop was called")
	}
}

func (c *cluster) stop() {
	if c.cmd != nil && c.cmd.Process != nil {
		// SIGQUIT is PostgreSQL's immediate shutdown: the server ends its
		// backends and exits at once, releasing its shared memory.
		_ = c.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-c.exit:
		case <-time.After(stopGrace):
			_ = c.cmd.Process.Kill()
			<-c.exit
		}
	}
	_ = os.RemoveAll(c.dir)
}

// Bin returns the directory holding initdb and postgres.
func Bin() (string, error) {
	if b := os.Getenv("PGTEST_BIN"); b != "" {
		if !isExecutable(filepath.Join(b, "initdb")) {
			return "", fmt.Errorf("PGTEST_BIN=%s has no initdb", b)
		}
		return b, nil
	}
	if isExecutable(filepath.Join(DefaultBin, "initdb")) {
		return DefaultBin, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("initdb not found in %s, /usr/lib/postgresql/*/bin or PATH", DefaultBin)
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// start creates and starts the cluster.
func start() (*cluster, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	root := tempRoot(cred)
	removeStale(root)
	dir, err := os.MkdirTemp(root, "pgtest-")
	if err != nil {
		return nil, err
	}
	cl := &cluster{dir: dir, log: filepath.Join(dir, "postgres.log")}
	ok := false
	defer func() {
		if !ok {
			cl.stop()
		}
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("handing %s to uid %d: %w", dir, cred.Uid, err)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}

	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
		"--no-sync", "--no-instructions")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}

	// A free port can be taken by someone else before postgres binds it:
	// try a few.
	for attempt := 0; ; attempt++ {
		port, err := testsupport.FreePort()
		if err != nil {
			return nil, err
		}
		err = cl.run(bin, cred, data, port)
		if err == nil {
			ok = true
			return cl, nil
		}
		if attempt == 2 {
			return nil, err
		}
	}
}

// run starts postgres on port and waits until it accepts connections.
func (cl *cluster) run(bin string, cred *syscall.Credential, data string, port int) error {
	logf, err := os.OpenFile(cl.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", data,
		"-p", strconv.Itoa(port),
		"-k", cl.dir, // the Unix socket lives in the cluster's directory
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "full_page_writes=off",
		"-c", "wal_level=minimal",
		"-c", "max_wal_senders=0",
		"-c", "max_wal_size=1GB",
		"-c", "max_connections=300",
		"-c", "shared_buffers=128MB",
		"-c", "log_min_messages=warning",
		"-c", "log_min_error_statement=panic",
	)
	cmd.Dir = cl.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// SIGQUIT when the test binary dies: an immediate shutdown that
	// also ends the backends and frees the shared memory.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	exit := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exit) }()
	cl.cmd, cl.exit, cl.port = cmd, exit, port

	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", port)
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exit:
			cl.cmd = nil
			return fmt.Errorf("postgres exited on start (port %d); log %s:\n%s", port, cl.log, tail(cl.log))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections on port %d within %v: %v; log %s:\n%s", port, readyTimeout, err, cl.log, tail(cl.log))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// credential returns who to run the server as: nil (this process's user)
// unless this process is root, which PostgreSQL refuses.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	name := os.Getenv("PGTEST_USER")
	if name == "" {
		name = "nobody"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses root: no user %q to run it as: %w", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil || uid == 0 {
		return nil, fmt.Errorf("user %q (uid %s, gid %s) cannot run PostgreSQL", name, u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: false}, nil
}

// tempRoot is where the cluster's directory goes: PGTEST_DIR if set,
// else /dev/shm where it is a directory (a memory file system: creating
// and dropping a database there takes milliseconds instead of hundreds
// on a disk), else the usual temporary directory; always one the
// server's user can reach into.
func tempRoot(cred *syscall.Credential) string {
	candidates := []string{os.Getenv("PGTEST_DIR"), "/dev/shm", os.TempDir(), "/tmp"}
	for _, root := range candidates {
		if root == "" {
			continue
		}
		if fi, err := os.Stat(root); err != nil || !fi.IsDir() || syscall.Access(root, 2 /* W_OK */) != nil {
			continue
		}
		if cred == nil || reachable(root) {
			return root
		}
	}
	return os.TempDir()
}

// reachable reports whether every directory from / down to dir lets
// others through (o+x), so the server's user can get to a directory
// created in it.
func reachable(dir string) bool {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// ownerFile, in a cluster's directory, holds the pid of the test binary
// that started the cluster.
const ownerFile = "owner.pid"

// removeStale removes the directories of clusters whose test binary was
// killed before it could call Stop (their server went with it, by its
// parent-death signal): the binary named in owner.pid is gone, or there
// is no owner.pid and the directory is older than any start takes.
func removeStale(root string) {
	dirs, _ := filepath.Glob(filepath.Join(root, "pgtest-*"))
	for _, d := range dirs {
		fi, err := os.Lstat(d)
		if err != nil || !fi.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			if time.Since(fi.ModTime()) > 10*time.Minute {
				_ = os.RemoveAll(d)
			}
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err == nil && pid > 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
}

// sanitize keeps a test name's lower-case letters and digits, so it is a
// valid unquoted identifier part, shortened to leave room for the suffix
// under PostgreSQL's 63-byte limit.
func sanitize(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if s := b.String(); s != "" && s[len(s)-1] != '_' {
				b.WriteByte('_')
			}
		}
		if b.Len() >= 36 {
			break
		}
	}
	return strings.Trim(b.String(), "_")
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
