package e2e

import (
	"strings"
	"testing"
)

// TestUserPathFunctions is the path a user of the framework takes: the
// bank service of bank/, a domain written with only the public packages,
// its three one-line functions (bank/functions) built as bootstraps and
// run under aws-lambda-rie against moto_server, the table's stream pumped
// into its projector as the event source mapping would, and its view read
// back through its query function. Nothing here knows the cart.
func TestUserPathFunctions(t *testing.T) {
	s := newStackOf(t, theBank)
	post := func(id, command, body string) response {
		return v2(t, s.command, request{Method: "POST", Path: "/aggregates/account/" + id + "/" + command, Body: body})
	}
	if r := post("acc-1", "Open", `{"owner":"ada"}`); r.Status != 201 {
		t.Fatalf("Open: %d %s", r.Status, r.Body)
	}
	if r := post("acc-1", "Deposit", `{"amount":100}`); r.Status != 200 {
		t.Fatalf("Deposit: %d %s", r.Status, r.Body)
	}
	if r := post("acc-1", "Withdraw", `{"amount":30}`); r.Status != 200 {
		t.Fatalf("Withdraw: %d %s", r.Status, r.Body)
	}
	// The domain's refusal reaches the client as a JSON error and writes nothing.
	before := s.itemCount(s.tables.Events)
	if r := post("acc-1", "Withdraw", `{"amount":1000}`); r.Status != 422 || r.errorCode(t) != "rejected" || !strings.Contains(r.Body, "insufficient funds") {
		t.Fatalf("overdraft: %d %s", r.Status, r.Body)
	}
	if r := post("acc-1", "Audit", `{"note":"x"}`); r.Status != 403 {
		t.Fatalf("an internal command from a client: %d %s", r.Status, r.Body)
	}
	if n := s.itemCount(s.tables.Events); n != before {
		t.Fatalf("refused commands wrote: %d items, then %d", before, n)
	}

	state := v2(t, s.query, request{Method: "GET", Path: "/aggregates/account/acc-1"}).json(t)
	if st, _ := state["state"].(map[string]any); st["balance"] != 70.0 || state["version"] != 3.0 {
		t.Fatalf("state: %v", state)
	}
	old := v2(t, s.query, request{Method: "GET", Path: "/aggregates/account/acc-1", Query: map[string]string{"version": "2"}}).json(t)
	if st, _ := old["state"].(map[string]any); st["balance"] != 100.0 {
		t.Fatalf("state at version 2: %v", old)
	}
	history := v2(t, s.query, request{Method: "GET", Path: "/aggregates/account/acc-1/events"}).json(t)
	if evs, _ := history["events"].([]any); len(evs) != 3 {
		t.Fatalf("history: %v", history)
	}

	s.drain()
	view := v2(t, s.query, request{Method: "GET", Path: "/views/balances/acc-1"})
	if view.Status != 200 {
		t.Fatalf("view: %d %s", view.Status, view.Body)
	}
	if doc, _ := view.json(t)["data"].(map[string]any); doc["balance"] != 70.0 || doc["owner"] != "ada" {
		t.Fatalf("balances view after the projector: %s", view.Body)
	}
	for name, fn := range map[string]string{"command": s.command.Logs(), "projector": s.projector.Logs()} {
		if !strings.Contains(fn, `"Function":"bank-`+name+`"`) {
			t.Errorf("%s's metrics do not name the bank's function:\n%s", name, fn)
		}
	}
}
