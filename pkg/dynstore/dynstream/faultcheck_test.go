package dynstream

import (
	"encoding/json"
	"fmt"

	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

// storedCommand is where the log holds a command: its first and last version.
type storedCommand struct {
	version, last int64
}

// faultLog is the log of a fault run, read directly (without the proxy).
type faultLog struct {
	byCommand   map[string]storedCommand
	all         []signal.Commit
	lastVersion map[string]int64 // per tab
	paid        map[string]bool  // the tabs whose final commit is TabPaid
}

// readLog reads every tab's log, checking that versions are contiguous
// and that no command is stored twice.
func (r *faultRun) readLog() faultLog {
	t := r.t
	log := faultLog{byCommand: map[string]storedCommand{}, lastVersion: map[string]int64{}, paid: map[string]bool{}}
	for i := range faultTabs {
		id := fmt.Sprint("tab-", i)
		var last int64
		for c, err := range r.st.Load(r.ctx, signal.StreamID{Type: "tab", ID: id}, 0) {
			if err != nil {
				t.Fatal(err)
			}
			if c.Version != last+1 {
				t.Errorf("%s: version %d after %d", id, c.Version, last)
			}
			if _, dup := log.byCommand[c.CommandID]; dup {
				t.Errorf("%s: command %s stored twice (v%d and v%d)", id, c.CommandID, log.byCommand[c.CommandID].version, c.Version)
			}
			log.byCommand[c.CommandID] = storedCommand{c.Version, c.LastVersion()}
			if c.Final && c.Events[0].Name == "TabPaid" {
				log.paid[id] = true
			}
			log.all = append(log.all, c)
			last = c.LastVersion()
		}
		log.lastVersion[id] = last
	}
	return log
}

// outcomeTally counts what the clients got, for the run's summary.
type outcomeTally struct {
	counts                  map[string]int // by outcome kind
	retried, dups, maxTries int
}

// checkOutcomes checks every outcome against the log: acknowledged
// commands are in it once, at the version acknowledged; refused ones are
// absent; commands given up on are logged. Then that every command was
// answered, that the log holds only commands sent, and that at least
// half were acknowledged.
func (r *faultRun) checkOutcomes(log faultLog) outcomeTally {
	t := r.t
	tally := outcomeTally{counts: map[string]int{}}
	sent := map[string]bool{}
	for _, o := range r.outcomes {
		sent[o.id] = true
		tally.counts[o.kind]++
		if o.tries > 1 {
			tally.retried++
		}
		if o.dup {
			tally.dups++
		}
		tally.maxTries = max(tally.maxTries, o.tries)
		s, in := log.byCommand[o.id]
		switch o.kind {
		case "ack":
			if !in {
				t.Errorf("acknowledged command %s (%s v%d, %d tries) is not in the log", o.id, o.tab, o.version, o.tries)
			} else if s.last != o.version {
				t.Errorf("command %s acknowledged at version %d, stored at %d..%d", o.id, o.version, s.version, s.last)
			}
		case "refused":
			if in {
				t.Errorf("refused command %s (%v) is in the log at version %d", o.id, o.err, s.version)
			}
		default:
			t.Logf("command %s given up after %d tries (in the log: %v): %v", o.id, o.tries, in, o.err)
		}
	}
	if len(r.outcomes) != faultContainers*faultWorkers*r.perWorker+16 {
		t.Fatalf("%d outcomes", len(r.outcomes))
	}
	for id := range log.byCommand {
		if !sent[id] {
			t.Errorf("the log holds command %s, which nobody sent", id)
		}
	}
	if tally.counts["ack"] < len(r.outcomes)/2 {
		t.Errorf("only %d of %d commands acknowledged", tally.counts["ack"], len(r.outcomes))
	}
	return tally
}

// checkReceipts checks that the policy issued exactly one receipt per
// payment, and none for a tab not paid.
func (r *faultRun) checkReceipts(paid map[string]bool) {
	for i := range faultTabs {
		id := fmt.Sprint("tab-", i)
		n := 0
		for _, err := range r.st.Load(r.ctx, signal.StreamID{Type: "receipt", ID: id}, 0) {
			if err != nil {
				r.t.Fatal(err)
			}
			n++
		}
		if want := map[bool]int{true: 1}[paid[id]]; n != want {
			r.t.Errorf("receipt %s has %d commits, want %d", id, n, want)
		}
	}
}

// checkViews checks the projector's views, read directly: each tab's
// summary is at the log's last version, and every view equals the one
// rebuilt from the log on a clean service (after dropping the views).
func (r *faultRun) checkViews(log faultLog) {
	t := r.t
	direct, err := signal.New(signal.Config{Store: r.st.Store, Types: tab.Types()})
	if err != nil {
		t.Fatal(err)
	}
	projectedViews := r.readViews(direct)
	for i := range faultTabs {
		k := fmt.Sprint("tab-", i)
		var sum tab.TabSummary
		v, err := direct.View(r.ctx, tab.TabSummaryView, k)
		if err == nil {
			err = json.Unmarshal(v.Data, &sum)
		}
		if log.lastVersion[k] > 0 && (err != nil || sum.Version != log.lastVersion[k]) {
			t.Errorf("projected %s is at version %d, the log at %d (%v)", k, sum.Version, log.lastVersion[k], err)
		}
	}
	for _, name := range []string{tab.TabSummaryView, tab.ItemSalesView} {
		if err := r.st.DropView(r.ctx, name, name); err != nil {
			t.Fatal(err)
		}
	}
	clean, err := signal.New(signal.Config{Store: r.st.Store, Types: tab.Types(), DispatchConcurrency: 1,
		Subscribers: []signal.Subscriber{tab.TabSummaryProjection(), tab.ItemSalesProjection()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := clean.Dispatch(r.ctx, log.all); err != nil {
		t.Fatal(err)
	}
	for k, want := range r.readViews(direct) {
		if got := projectedViews[k]; got != want {
			t.Errorf("%s: projected %s, rebuilt from the log %s", k, got, want)
		}
	}
}

// readViews reads every tab summary and item sales document through svc,
// each as its data and the kind of its error.
func (r *faultRun) readViews(svc *signal.Service) map[string]string {
	out := map[string]string{}
	read := func(view, key string) {
		v, err := svc.View(r.ctx, view, key)
		out[view+"/"+key] = fmt.Sprintf("%s %v", v.Data, signal.KindOf(err))
	}
	for i := range faultTabs {
		read(tab.TabSummaryView, fmt.Sprint("tab-", i))
	}
	for i := range faultItems {
		read(tab.ItemSalesView, fmt.Sprint("tap-", i))
	}
	return out
}
