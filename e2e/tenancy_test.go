package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tenant is a caller of the tenanted bank: its claims (the tenant in
// custom:tenant, theTenantBank's claim), and the account it opens.
type tenant struct {
	name   string
	claims map[string]string
	owner  string
	amount float64
}

var bankTenants = []tenant{
	{"acme", map[string]string{"sub": "ann", "custom:tenant": "acme"}, "ann", 100},
	{"globex", map[string]string{"sub": "gus", "custom:tenant": "globex"}, "gus", 7},
}

// TestTenancyIsolation: the bank with Tenancy (bank.TenantApp) under RIE,
// through both API flavours. Two tenants open an account under the same
// id: both are created, each tenant sees only its own state, history
// and balance, the table keeps them under the tenant's namespace, and no
// caller reaches an account without a tenant of its own or by naming
// another tenant's.
func TestTenancyIsolation(t *testing.T) {
	s := newStackOf(t, theTenantBank)
	var wantEvents, wantViews []string
	for _, api := range apis {
		t.Run(api.name, func(t *testing.T) {
			id := "acc-" + api.name
			for _, tn := range bankTenants {
				post := func(command, body string) response {
					return api.send(t, s.command, as(tn.claims, request{Method: "POST", Path: "/aggregates/account/" + id + "/" + command, Body: body}))
				}
				// Both Opens create: the same id is another account in each tenant.
				if r := post("Open", fmt.Sprintf(`{"owner":%q}`, tn.owner)); r.Status != 201 {
					t.Fatalf("%s's Open: %d %s", tn.name, r.Status, r.Body)
				}
				if r := post("Deposit", fmt.Sprintf(`{"amount":%v}`, tn.amount)); r.Status != 200 {
					t.Fatalf("%s's Deposit: %d %s", tn.name, r.Status, r.Body)
				}
				wantEvents = append(wantEvents, "account#"+tn.name+"|"+id)
				wantViews = append(wantViews, "v#balances#"+tn.name+"|"+id)
			}
			s.drain()
			for _, tn := range bankTenants {
				tenantReadsAccount(t, s, api.send, tn, id)
			}
			before := s.itemCount(s.tables.Events)
			for _, c := range tenantRefusals {
				for _, k := range accountCalls(s, c.path(id)) {
					r := api.send(t, k.fn, as(c.claims, k.req))
					if r.Status != c.status || r.errorCode(t) != c.code {
						t.Errorf("%s: %s %s: %d %s, want %d %s", c.who, k.req.Method, k.req.Path, r.Status, r.Body, c.status, c.code)
					}
				}
			}
			if n := s.itemCount(s.tables.Events); n != before {
				t.Fatalf("refused requests wrote: %d items in the events table, was %d", n, before)
			}
		})
	}
	if got := s.partitionKeys(s.tables.Events, ""); !sameKeys(got, wantEvents) {
		t.Fatalf("the events table's partition keys: %v, want %v", got, wantEvents)
	}
	if got := s.partitionKeys(s.tables.Views, "v#"); !sameKeys(got, wantViews) {
		t.Fatalf("the views table's documents: %v, want %v", got, wantViews)
	}
}

// tenantRefusals are the callers that may not reach any tenant's account
// id, and what they are answered.
var tenantRefusals = []struct {
	who    string
	claims map[string]string
	path   func(id string) string // of the account asked for
	status int
	code   string
}{
	{"no caller", nil, same, 401, "unauthenticated"},
	{"no tenant claim", map[string]string{"sub": "ann"}, same, 403, "forbidden"},
	{"a tenant that is no name", map[string]string{"sub": "ann", "custom:tenant": "acme|globex"}, same, 403, "forbidden"},
	{"acme naming globex's account", bankTenants[0].claims, func(id string) string { return "globex|" + id }, 400, "invalid"},
}

func same(id string) string { return id }

// accountCalls are a caller's requests on the account id: commands, its
// state (now and at a version), its history and its balance.
func accountCalls(s *stack, id string) []call {
	account := "/aggregates/account/" + id
	return []call{
		{s.command, request{Method: "POST", Path: account + "/Deposit", Body: `{"amount":1}`}},
		{s.command, request{Method: "POST", Path: account + "/Open", Body: `{"owner":"mallory"}`}},
		{s.query, request{Method: "GET", Path: account}},
		{s.query, request{Method: "GET", Path: account, Query: map[string]string{"version": "1"}}},
		{s.query, request{Method: "GET", Path: account + "/events"}},
		{s.query, request{Method: "GET", Path: "/views/balances/" + id}},
	}
}

// tenantReadsAccount: tn reads the account id of its own tenant, its
// history and its balance, and sees only what it wrote there.
func tenantReadsAccount(t *testing.T, s *stack, send sender, tn tenant, id string) {
	t.Helper()
	get := func(path string) map[string]any {
		t.Helper()
		r := send(t, s.query, as(tn.claims, request{Method: "GET", Path: path}))
		if r.Status != 200 {
			t.Fatalf("%s's GET %s: %d %s", tn.name, path, r.Status, r.Body)
		}
		return r.json(t)
	}
	state := get("/aggregates/account/" + id)
	if st, _ := state["state"].(map[string]any); state["id"] != id || st["owner"] != tn.owner || st["balance"] != tn.amount || state["version"] != 2.0 {
		t.Fatalf("%s's account: %v", tn.name, state)
	}
	history := get("/aggregates/account/" + id + "/events")
	evs, _ := history["events"].([]any)
	if len(evs) != 2 {
		t.Fatalf("%s's history: %v", tn.name, history)
	}
	for _, e := range evs {
		ev := e.(map[string]any)
		if ev["tenant"] != tn.name || ev["aggregateId"] != id || ev["actor"] != tn.owner {
			t.Fatalf("%s's history holds %v", tn.name, ev)
		}
	}
	view := get("/views/balances/" + id)
	if doc, _ := view["data"].(map[string]any); doc["owner"] != tn.owner || doc["balance"] != tn.amount {
		t.Fatalf("%s's balance: %v", tn.name, view)
	}
}

// partitionKeys are the pk of every item of table that starts with
// prefix, read with a strongly consistent scan.
func (s *stack) partitionKeys(table, prefix string) []string {
	s.t.Helper()
	var keys []string
	p := dynamodb.NewScanPaginator(s.client, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(s.t.Context())
		if err != nil {
			s.t.Fatal(err)
		}
		for _, item := range page.Items {
			if pk, ok := item["pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, prefix) {
				keys = append(keys, pk.Value)
			}
		}
	}
	return keys
}

// sameKeys reports whether got and want hold the same set of keys (an
// aggregate's commits share their partition key).
func sameKeys(got, want []string) bool {
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(slices.Compact(got), slices.Compact(want))
}
