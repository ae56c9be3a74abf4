package boltstore

import (
	"bufio"
	"context"
	"fmt"
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

// groupHelperEnv tells TestHelperGroupAppender, run in a child process,
// which store file to append to.
const groupHelperEnv = "BOLTSTORE_KILL_GROUP_HELPER_PATH"

// groupKillStreams is how many goroutines the helper appends from, each
// to its own stream, so that its appends share transactions.
const groupKillStreams = 8

func groupKillStream(i int) signal.StreamID {
	return signal.StreamID{Type: "cart", ID: fmt.Sprint("kill-group-", i)}
}

// TestHelperGroupAppender is not a test: TestKill9GroupDurability runs
// the test binary again with only this function and groupHelperEnv set.
// groupKillStreams goroutines append to their own streams for ever, fsync
// on, each printing "ack <stream number> <version>" once its Append
// returned nil.
func TestHelperGroupAppender(t *testing.T) {
	path := os.Getenv(groupHelperEnv)
	if path == "" {
		t.Skip("helper process of TestKill9GroupDurability; runs only as its child")
	}
	s, err := Open(path, nil)
	if err != nil {
		fmt.Printf("error: open: %v\n", err)
		os.Exit(2)
	}
	ctx := context.Background()
	fmt.Println("ready")
	var wg sync.WaitGroup
	for i := range groupKillStreams {
		wg.Go(func() {
			id := groupKillStream(i)
			v := int64(len(loadAll(ctx, s, id)))
			for {
				v++
				c := signal.Commit{Stream: id, Version: v, CommandID: fmt.Sprintf("cmd-%d-%d", i, v), Time: time.Now(),
					Events: []signal.RawEvent{{ID: signal.NewID(), Name: "ItemAdded", SchemaVersion: 1, Data: killEventData(v)}}}
				if err := s.Append(ctx, c); err != nil {
					fmt.Printf("error: append %v %d: %v\n", id, v, err)
					os.Exit(2)
				}
				fmt.Printf("ack %d %d\n", i, v)
			}
		})
	}
	wg.Wait()
}

// loadAll is the helper's Load, which has no testing.T to fail.
func loadAll(ctx context.Context, s *Store, id signal.StreamID) []signal.Commit {
	var out []signal.Commit
	for c, err := range s.Load(ctx, id, 0) {
		if err != nil {
			fmt.Printf("error: load: %v\n", err)
			os.Exit(2)
		}
		out = append(out, c)
	}
	return out
}

// TestKill9GroupDurability: appends acknowledged from concurrent
// goroutines, whose transactions and fsyncs are shared (group commit),
// survive a SIGKILL at a random moment: each stream's versions are
// contiguous from 1 and reach at least its highest acknowledged version,
// and the change feed holds exactly the commits, at dense positions.
func TestKill9GroupDurability(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	if os.Getenv(groupHelperEnv) != "" {
		t.Skip("in the helper process")
	}
	path := filepath.Join(t.TempDir(), "kill-group.db")
	for round := 1; round <= 2; round++ {
		acked := runGroupAndKill(t, path, round, 200)
		checkGroupAfterKill(t, path, round, acked)
	}
}

// runGroupAndKill starts the helper, kills it with SIGKILL once it has
// acknowledged minAcks appends (plus a random moment), and returns the
// highest version it acknowledged on each stream.
func runGroupAndKill(t *testing.T, path string, round, minAcks int) [groupKillStreams]int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGroupAppender$", "-test.count=1")
	cmd.Env = append(os.Environ(), groupHelperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked [groupKillStreams]int64
	acks, killed := 0, false
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 1 && f[0] == "ready":
		case len(f) == 3 && f[0] == "ack":
			i, err1 := strconv.Atoi(f[1])
			v, err2 := strconv.ParseInt(f[2], 10, 64)
			if err1 != nil || err2 != nil || i < 0 || i >= groupKillStreams {
				t.Errorf("round %d: helper line %q", round, sc.Text())
				continue
			}
			acked[i] = max(acked[i], v)
			if acks++; acks == minAcks && !killed {
				killed = true
				time.AfterFunc(time.Duration(rand.IntN(20_000))*time.Microsecond, func() { cmd.Process.Kill() })
			}
		default:
			t.Errorf("round %d: unexpected output from the helper: %q", round, sc.Text())
		}
	}
	cmd.Wait()
	if acks < minAcks {
		t.Fatalf("round %d: the helper acknowledged only %d appends", round, acks)
	}
	t.Logf("round %d: killed after %d acks, highest per stream %v", round, acks, acked)
	return acked
}

// checkGroupAfterKill reopens the file and checks every acknowledged
// append is there, and the feed matches the streams.
func checkGroupAfterKill(t *testing.T, path string, round int, acked [groupKillStreams]int64) {
	t.Helper()
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("round %d: reopen after kill -9: %v", round, err)
	}
	defer s.Close()
	total := 0
	for i := range groupKillStreams {
		commits := loadAll(context.Background(), s, groupKillStream(i))
		for j, c := range commits {
			if c.Version != int64(j+1) || c.CommandID != fmt.Sprintf("cmd-%d-%d", i, c.Version) {
				t.Fatalf("round %d: stream %d holds version %d (%s) at %d: not contiguous", round, i, c.Version, c.CommandID, j+1)
			}
		}
		if int64(len(commits)) < acked[i] {
			t.Errorf("round %d: stream %d ends at %d, but %d was acknowledged: an acknowledged append was lost", round, i, len(commits), acked[i])
		}
		total += len(commits)
	}
	feed := wholeFeedAfterKill(t, s, round)
	if len(feed) != total || (total > 0 && feed[len(feed)-1].Position != uint64(total)) {
		t.Errorf("round %d: the feed has %d changes, the streams %d commits", round, len(feed), total)
	}
}
