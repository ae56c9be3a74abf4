package signal_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// fanout writes one document per unit of a deposit: a projection whose
// runs can exceed what one commit may hold.
var fanout = &signal.Projection{
	Name:  "fanout",
	Types: []string{"account"},
	On: []signal.ProjectionHandler{signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, d Deposited) error {
		for i := range d.Amount {
			if err := tx.Put(ctx, "fan", fmt.Sprintf("%s-%d-%d", ev.AggregateID, ev.Version, i), map[string]int64{"i": i}); err != nil {
				return err
			}
		}
		return nil
	})},
}

// TestProjectionRunSplitsAtTheLimit: three events of 4,000 documents
// each are more than one run may change (MaxViewWrites): the run is
// committed up to the event before the limit, and the rest follows.
func TestProjectionRunSplitsAtTheLimit(t *testing.T) {
	f := newFixture(t, func(_ *signal.Spec[Account], c *signal.Config) { c.Subscribers = []signal.Subscriber{fanout} })
	mustHandle(t, f, "a", Open{Owner: "a"})
	for range 3 {
		mustHandle(t, f, "a", Deposit{Amount: 4000})
	}
	before := f.store.Counts().ViewCommits
	if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil {
		t.Fatal(err)
	}
	if n := f.store.Counts().ViewCommits - before; n != 2 {
		t.Fatalf("%d view commits, want 2 (open+2 deposits = 8,000 documents, then the third deposit)", n)
	}
	if cp := checkpointOf(t, f.store, "fanout", "a"); cp.Version != 4 {
		t.Fatalf("checkpoint %d, want 4", cp.Version)
	}
	for _, v := range []int{2, 3, 4} {
		for _, i := range []int{0, 3999} {
			if _, err := f.svc.View(t.Context(), "fan", fmt.Sprintf("a-%d-%d", v, i)); err != nil {
				t.Fatalf("fan/a-%d-%d: %v", v, i, err)
			}
		}
	}
}

// TestProjectionEventOverTheLimit: one event changing more documents than
// a run may is refused with an error naming the projection, the stream
// and the count; the events before it are committed; after ParkAfter
// deliveries it is parked, and the stream moves on.
func TestProjectionEventOverTheLimit(t *testing.T) {
	f := newFixture(t, func(_ *signal.Spec[Account], c *signal.Config) { c.Subscribers = []signal.Subscriber{fanout} })
	mustHandle(t, f, "big", Open{Owner: "big"})
	mustHandle(t, f, "big", Deposit{Amount: signal.MaxViewWrites + 1})
	var err error
	for range signal.DefaultParkAfter - 1 {
		err = f.svc.Dispatch(t.Context(), allCommits(t, f.store))
		var de *signal.DispatchError
		if !errors.As(err, &de) || !errors.Is(de.Failures[0].Err, signal.ErrTooLarge) || de.Failures[0].Version != 2 {
			t.Fatalf("dispatch = %v, want ErrTooLarge at version 2", err)
		}
	}
	msg := signal.PublicMessage(err.(*signal.DispatchError).Failures[0].Err)
	for _, want := range []string{"fanout", "account#big", fmt.Sprint(signal.MaxViewWrites + 1)} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error %q does not name %q", msg, want)
		}
	}
	if cp := checkpointOf(t, f.store, "fanout", "big"); cp.Version != 1 {
		t.Fatalf("checkpoint %d, want 1: the event before the large one is committed", cp.Version)
	}
	if err := f.svc.Dispatch(t.Context(), allCommits(t, f.store)); err != nil {
		t.Fatalf("the last attempt parks it; got %v", err)
	}
	fs := failures(t, f.svc)
	if len(fs) != 1 || !fs[0].Parked || !strings.Contains(fs[0].Error, "fanout") {
		t.Fatalf("failures %+v, want fanout parked on big", fs)
	}
	if _, err := f.svc.View(t.Context(), "fan", "big-2-0"); !errors.Is(err, signal.ErrNotFound) {
		t.Fatalf("a refused run wrote a document: %v", err)
	}
}
