package dynstore

import (
	"errors"
	"testing"

	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestKeyReusedAcrossContainers: two containers (two Services) on one
// table, both with the tab pooled. One handles a command with an
// Idempotency-Key; the other gets the same key with another request. It
// cannot know the key from its window, so it decides and appends, loses
// the race, and learns the key and its fingerprint from the winning
// commit DynamoDB returns with the failure (ALL_OLD): refused with
// ErrIdempotencyKeyReused after that one failed PutItem, nothing written,
// no request more than a plain duplicate of the same request costs.
func TestKeyReusedAcrossContainers(t *testing.T) {
	st := newTestStore(t)
	ctx := t.Context()
	first, reuser, repeater := newService(t, st.Store), newService(t, st.Store), newService(t, st.Store)
	if _, _, err := signal.Bind(first, tab.Type).Handle(ctx, "c1", add("lager", 1)); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []*signal.Service{reuser, repeater} {
		if _, err := svc.Get(ctx, "tab", "c1"); err != nil { // pooled at version 1
			t.Fatal(err)
		}
	}
	if _, err := first.Handle(ctx, "tab", "c1", add("lager", 2), signal.WithCommandID("k1")); err != nil {
		t.Fatal(err)
	}

	st.meter.Reset()
	_, err := reuser.Handle(ctx, "tab", "c1", add("mead", 1), signal.WithCommandID("k1"))
	if !errors.Is(err, signal.ErrIdempotencyKeyReused) {
		t.Fatalf("the reused key on the other container: %v, want ErrIdempotencyKeyReused", err)
	}
	reused := st.meter.Stats()
	if p := reused["PutItem"]; p.Calls != 1 || p.Errors != 1 || st.meter.Total().Calls != 1 {
		t.Errorf("the reused key cost %s, want the one failed PutItem", requests(st.meter))
	}
	reusedCalls := st.meter.Total().Calls

	st.meter.Reset()
	r, err := repeater.Handle(ctx, "tab", "c1", add("lager", 2), signal.WithCommandID("k1"))
	if err != nil || !r.Duplicate || r.Version != 2 {
		t.Fatalf("the same request on the other container: %+v %v, want the duplicate", r, err)
	}
	dup := st.meter.Total().Calls
	if reusedCalls > dup {
		t.Errorf("the reused key cost %d requests, a plain duplicate %d (%s)", reusedCalls, dup, requests(st.meter))
	}
	t.Logf("requests: reused key %d, duplicate of the same request %d (%s)", reusedCalls, dup, requests(st.meter))

	// A new container, and a command of another name: refused from what
	// the cold load read (snapshot read and Query), nothing written.
	st.meter.Reset()
	if _, err := newService(t, st.Store).Handle(ctx, "tab", "c1", tab.Pay{}, signal.WithCommandID("k1")); !errors.Is(err, signal.ErrIdempotencyKeyReused) {
		t.Fatalf("Pay with the key on a cold container: %v", err)
	}
	if s := st.meter.Stats(); s["PutItem"].Calls != 0 || s["TransactWriteItems"].Calls != 0 {
		t.Errorf("a cold reused key wrote: %s", requests(st.meter))
	}

	var fps []string
	for c, err := range st.Load(ctx, signal.StreamID{Type: "tab", ID: "c1"}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		fps = append(fps, c.Fingerprint)
	}
	if len(fps) != 2 || fps[0] != "" || fps[1] == "" {
		t.Fatalf("the tab's commits have fingerprints %q, want none on the unkeyed one and one on k1's", fps)
	}
}
