package boltstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// helperEnv tells TestHelperAppender, run in a child process, which store
// file to append to.
const helperEnv = "BOLTSTORE_KILL_HELPER_PATH"

var killStream = signal.StreamID{Type: "cart", ID: "kill-9"}

// killEventData is the payload of the event at version v, so the parent
// can check every event it reads back.
func killEventData(v int64) []byte {
	return fmt.Appendf(nil, `{"v":%d,"pad":"%s"}`, v, strings.Repeat("p", int(v%200)))
}

// TestHelperAppender is not a test: TestKill9Durability runs the test
// binary again with only this function and helperEnv set. It appends
// commits of 1 to 3 events to one stream for ever, fsync on, and prints
// "ack <last version>" for each Append that returned nil; every fifth
// commit it also moves a view and its checkpoint and prints "view <to>".
func TestHelperAppender(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process of TestKill9Durability; runs only as its child")
	}
	s, err := Open(path, nil)
	if err != nil {
		fmt.Printf("error: open: %v\n", err)
		os.Exit(2)
	}
	ctx := context.Background()
	var v int64
	for c, err := range s.Load(ctx, killStream, 0) {
		if err != nil {
			fmt.Printf("error: load: %v\n", err)
			os.Exit(2)
		}
		v = c.LastVersion()
	}
	loadedCP, err := s.LoadCheckpoint(ctx, "kill-proj", killStream)
	cp := loadedCP.Version
	if err != nil {
		fmt.Printf("error: checkpoint: %v\n", err)
		os.Exit(2)
	}
	view, err := s.LoadView(ctx, "kill-view", "doc")
	if err != nil && !errors.Is(err, signal.ErrNotFound) {
		fmt.Printf("error: view: %v\n", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	for i := 0; ; i++ {
		c := signal.Commit{Stream: killStream, Version: v + 1, CommandID: fmt.Sprintf("cmd-%d", v+1), Time: time.Now()}
		for j := range 1 + i%3 {
			c.Events = append(c.Events, signal.RawEvent{ID: signal.NewID(), Name: "ItemAdded", SchemaVersion: 1, Data: killEventData(v + 1 + int64(j))})
		}
		if err := s.Append(ctx, c); err != nil {
			fmt.Printf("error: append %d: %v\n", c.Version, err)
			os.Exit(2)
		}
		v = c.LastVersion()
		fmt.Printf("ack %d\n", v)
		if i%5 == 4 {
			err := s.CommitViews(ctx, signal.ViewCommit{Subscriber: "kill-proj", Stream: killStream, From: cp, To: v, Writes: []signal.ViewWrite{
				{Name: "kill-view", Key: "doc", Data: fmt.Appendf(nil, `{"upto":%d}`, v), ExpectedVersion: view.Version},
			}})
			if err != nil {
				fmt.Printf("error: commit views to %d: %v\n", v, err)
				os.Exit(2)
			}
			cp = v
			view.Version++
			fmt.Printf("view %d\n", v)
		}
	}
}

// TestKill9Durability runs TestHelperAppender in a child process, lets it
// acknowledge at least 50 versions, kills it with SIGKILL at a random
// moment (most likely inside a transaction), reopens the file and checks
// that the versions are contiguous from 1, that every version the child
// acknowledged is there with its events intact, that the change feed
// holds exactly the commits, and that the view and its checkpoint moved
// together. Three rounds, each resuming the file the last one left.
func TestKill9Durability(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	if os.Getenv(helperEnv) != "" {
		t.Skip("in the helper process")
	}
	path := filepath.Join(t.TempDir(), "kill.db")
	const rounds, minAcks = 3, 50
	for round := 1; round <= rounds; round++ {
		maxAck, maxView := runAndKill(t, path, round, minAcks)
		checkAfterKill(t, path, round, maxAck, maxView)
		if t.Failed() {
			return
		}
	}
}

// runAndKill starts the helper, kills it once it has acknowledged minAcks
// versions this round, and returns the highest version and view
// checkpoint it acknowledged.
func runAndKill(t *testing.T, path string, round, minAcks int) (maxAck, maxView int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAppender$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	h := &helperOutput{minAcks: minAcks, enough: make(chan struct{})}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		h.read(out)
	}()

	select {
	case <-h.enough:
	case <-readDone:
		cmd.Wait()
		t.Fatalf("round %d: the helper exited after %d acks: %q\nstderr: %s", round, h.acks, h.lines, stderr.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		h.mu.Lock()
		acks := h.acks
		h.mu.Unlock()
		t.Fatalf("round %d: the helper acknowledged only %d versions in 60s", round, acks)
	}

	if round == 1 {
		checkLockedWhileRunning(t, path)
	}

	time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-readDone // every line the helper wrote before it died
	err = cmd.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.ready {
		t.Fatalf("round %d: the helper never got ready", round)
	}
	if len(h.lines) > 0 {
		t.Errorf("round %d: unexpected output from the helper: %q\nstderr: %s", round, h.lines, stderr.String())
	}
	t.Logf("round %d: killed (%v) after %d acks this round, highest acknowledged version %d, view %d", round, err, h.acks, h.maxAck, h.maxView)
	return h.maxAck, h.maxView
}

// helperOutput is what the parent learned from the helper's output: that
// it got ready, how many versions it acknowledged, the highest version and
// view checkpoint, and the lines it did not expect. read fills it while
// the test reads it, hence mu.
type helperOutput struct {
	minAcks int
	enough  chan struct{} // closed at the minAcks-th ack

	mu              sync.Mutex
	ready           bool
	acks            int
	maxAck, maxView int64
	lines           []string
}

// read parses out's lines until it ends.
func (h *helperOutput) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		h.mu.Lock()
		f := strings.Fields(line)
		switch {
		case line == "ready":
			h.ready = true
		case len(f) == 2 && (f[0] == "ack" || f[0] == "view"):
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				h.lines = append(h.lines, line)
				break
			}
			if f[0] == "ack" {
				h.maxAck = max(h.maxAck, n)
				if h.acks++; h.acks == h.minAcks {
					close(h.enough)
				}
			} else {
				h.maxView = max(h.maxView, n)
			}
		default:
			h.lines = append(h.lines, line)
		}
		h.mu.Unlock()
	}
}

// checkLockedWhileRunning: while the helper runs, the file is locked: a
// second process gets a clear error within its timeout instead of hanging.
func checkLockedWhileRunning(t *testing.T, path string) {
	t.Helper()
	start := time.Now()
	s, err := Open(path, &Options{Timeout: 100 * time.Millisecond})
	if err == nil {
		s.Close()
		t.Errorf("Open while another process has the file = nil, want ErrUnavailable")
	} else if !errors.Is(err, signal.ErrUnavailable) || time.Since(start) > 5*time.Second {
		t.Errorf("Open while another process has the file = %v after %v, want ErrUnavailable within the timeout", err, time.Since(start))
	}
}

// checkAfterKill reopens the file and checks everything acknowledged is there.
func checkAfterKill(t *testing.T, path string, round int, maxAck, maxView int64) {
	t.Helper()
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("round %d: reopen after kill -9: %v", round, err)
	}
	defer s.Close()
	ctx := context.Background()
	commits := loadAfterKill(t, s, round)
	last := int64(0)
	if len(commits) > 0 {
		last = commits[len(commits)-1].LastVersion()
	}
	if last < maxAck {
		t.Fatalf("round %d: after kill -9 the stream ends at version %d, but the helper acknowledged %d: an acknowledged commit was lost", round, last, maxAck)
	}

	// The feed holds exactly the commits, in order: a commit and its feed
	// entry were written together or not at all.
	feed := wholeFeedAfterKill(t, s, round)
	if len(feed) != len(commits) {
		t.Fatalf("round %d: the feed has %d changes, the stream %d commits", round, len(feed), len(commits))
	}
	for i := range feed {
		if feed[i].Commit.Version != commits[i].Version || feed[i].Commit.CommandID != commits[i].CommandID {
			t.Fatalf("round %d: feed change %d is version %d, want %d", round, i, feed[i].Commit.Version, commits[i].Version)
		}
	}

	loaded, err := s.LoadCheckpoint(ctx, "kill-proj", killStream)
	if err != nil {
		t.Fatal(err)
	}
	cp := loaded.Version
	if cp < maxView || cp > last {
		t.Errorf("round %d: checkpoint %d, want between the acknowledged %d and the stream's end %d", round, cp, maxView, last)
	}
	if cp > 0 {
		v, err := s.LoadView(ctx, "kill-view", "doc")
		if err != nil || string(v.Data) != fmt.Sprintf(`{"upto":%d}`, cp) {
			t.Errorf("round %d: view = %s, %v; want it at the checkpoint %d (they move together)", round, v.Data, err, cp)
		}
	}
	t.Logf("round %d: after kill -9: %d commits, versions 1-%d contiguous (acknowledged %d), %d feed entries, checkpoint %d", round, len(commits), last, maxAck, len(feed), cp)
}

// loadAfterKill loads the helper's stream and fails the test unless its
// versions are contiguous from 1 and every event holds killEventData; a
// wrong command id or a time not in UTC is reported too.
func loadAfterKill(t *testing.T, s *Store, round int) []signal.Commit {
	t.Helper()
	next := int64(1)
	var commits []signal.Commit
	for c, err := range s.Load(context.Background(), killStream, 0) {
		if err != nil {
			t.Fatalf("round %d: Load after kill -9: %v", round, err)
		}
		if c.Version != next {
			t.Fatalf("round %d: commit at version %d, want %d: versions must be contiguous from 1", round, c.Version, next)
		}
		if c.CommandID != fmt.Sprintf("cmd-%d", c.Version) || c.Time.Location() != time.UTC {
			t.Errorf("round %d: commit %d has command id %q, time %v", round, c.Version, c.CommandID, c.Time)
		}
		for i, e := range c.Events {
			if want := killEventData(c.Version + int64(i)); !bytes.Equal(e.Data, want) {
				t.Fatalf("round %d: event %d = %q, want %q", round, c.Version+int64(i), e.Data, want)
			}
		}
		commits = append(commits, c)
		next = c.LastVersion() + 1
	}
	return commits
}

// wholeFeedAfterKill reads the whole change feed, page by page.
func wholeFeedAfterKill(t *testing.T, s *Store, round int) []signal.Change {
	t.Helper()
	var feed []signal.Change
	for after := uint64(0); ; {
		page, err := s.Changes(context.Background(), after, 500)
		if err != nil {
			t.Fatalf("round %d: Changes after kill -9: %v", round, err)
		}
		if len(page) == 0 {
			return feed
		}
		feed = append(feed, page...)
		after = page[len(page)-1].Position
	}
}
