package signal_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// TestValidateIDDotSegments: "." and ".." cannot be ids: URL resolution
// (RFC 3986) removes them from paths, so clients, proxies and gateways
// cannot address such an aggregate or view key. Longer runs of dots and
// dots beside other characters are ordinary ids.
func TestValidateIDDotSegments(t *testing.T) {
	for id, ok := range map[string]bool{
		".": false, "..": false,
		"...": true, ".a": true, "a.": true, "..a": true, "a..b": true, ". .": true, "…": true,
	} {
		err := signal.ValidateID(id)
		if (err == nil) != ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", id, err, ok)
		}
		if err != nil && (!errors.Is(err, signal.ErrInvalid) || !strings.Contains(signal.PublicMessage(err), `"."`)) {
			t.Errorf("ValidateID(%q) = %v, want ErrInvalid naming . and ..", id, err)
		}
	}
	f := newFixture(t)
	for _, id := range []string{".", ".."} {
		if _, err := f.svc.Handle(t.Context(), "account", id, Open{Owner: "ann"}); !errors.Is(err, signal.ErrInvalid) {
			t.Errorf("Handle on %q: %v, want ErrInvalid", id, err)
		}
	}
	if n := f.store.Counts().Appends; n != 0 {
		t.Errorf("%d appends", n)
	}
}
