package lambdatest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long RIE gets to shut its runtime down after SIGTERM
// before its whole process group is killed.
const stopGrace = 5 * time.Second

// Stop ends RIE and the function. RIE gets SIGTERM first, on which it kills
// the runtime (in a process group of its own) and exits; what is left after
// stopGrace is killed: RIE's process group, then the runtime's. Stop is
// idempotent; Start arranges for it at the end of the test.
func (f *Function) Stop() {
	f.stopOnce.Do(func() {
		defer f.drain()
		pid := f.cmd.Process.Pid
		select {
		case <-f.done:
			return
		default:
		}
		// Note RIE's children now: once RIE is gone they are no longer
		// recognizable as its children.
		children := childrenOf(pid)
		// Through os.Process, which holds a pidfd: RIE may exit at any moment
		// and its pid must not be mistaken for a successor's.
		_ = f.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-f.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			select {
			case <-f.done:
			case <-time.After(stopGrace):
				// SIGKILL is not refused; only an unkillable (D-state)
				// process gets here. Its reaping goroutine ends when it does.
			}
		}
		for _, c := range children {
			c.kill()
		}
	})
}

// drain ends the request of an invoke still in flight and waits for its
// goroutine, so that none outlives Stop.
func (f *Function) drain() {
	f.cancel()
	select {
	case f.slot <- struct{}{}:
		<-f.slot
	case <-time.After(stopGrace):
	}
	f.client.CloseIdleConnections()
}

// proc identifies a process beyond its pid, which the kernel reuses: the
// start time tells a later process with the same pid apart.
type proc struct {
	pid, pgrp int
	start     string
}

// readProc parses /proc/<pid>/stat. The command name is in parentheses and
// may contain anything, so fields are counted from the last ')'.
func readProc(pid int) (p proc, ppid int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return proc{}, 0, false
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is the state (field 3 of stat); ppid is field 4, pgrp 5,
	// starttime 22.
	if len(fields) < 20 || fields[0] == "Z" {
		return proc{}, 0, false
	}
	ppid, _ = strconv.Atoi(fields[1])
	pgrp, _ := strconv.Atoi(fields[2])
	return proc{pid: pid, pgrp: pgrp, start: fields[19]}, ppid, true
}

func childrenOf(parent int) []proc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ppid, ok := readProc(pid); ok && ppid == parent {
			out = append(out, p)
		}
	}
	return out
}

// kill ends p and, when p leads its own process group (RIE starts the
// runtime that way), the group, provided p is still the process noted.
func (p proc) kill() {
	now, _, ok := readProc(p.pid)
	if !ok || now.start != p.start {
		return
	}
	if p.pgrp == p.pid {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	} else {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
}
