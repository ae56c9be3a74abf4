package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/signalforgo/signal/pkg/dynstore/lambdastream"
	"github.com/signalforgo/signal/pkg/lambdatest"
	"github.com/signalforgo/signal/pkg/signal"
)

type sender func(testing.TB, *lambdatest.Function, request) response

// TestCartEndToEnd drives the cart through both API Gateway payload
// versions, lets the stream feed the projector, and reads everything back
// through the query function.
func TestCartEndToEnd(t *testing.T) {
	s := newStack(t)
	for _, api := range []struct {
		name string
		send sender
	}{{"http-api-v2", v2}, {"rest-api-v1", v1}} {
		t.Run(api.name, func(t *testing.T) {
			id := "cart-" + api.name
			post := func(command, body string) response {
				return api.send(t, s.command, request{Method: "POST", Path: "/aggregates/cart/" + id + "/" + command, Body: body})
			}
			if r := post("AddItem", `{"sku":"apple","quantity":3,"price":50}`); r.Status != 201 || r.Header("ETag") != `"1"` {
				t.Fatalf("first AddItem: %d %v %s", r.Status, r.Headers, r.Body)
			}
			if r := post("AddItem", `{"sku":"pear","quantity":2,"price":75}`); r.Status != 200 {
				t.Fatalf("second AddItem: %d %s", r.Status, r.Body)
			}
			// A base64 body, as API Gateway sends binary or some clients' bodies.
			if r := api.send(t, s.command, request{Method: "POST", Path: "/aggregates/cart/" + id + "/RemoveItem", Body: `{"sku":"apple","quantity":1}`, Base64: true}); r.Status != 200 {
				t.Fatalf("RemoveItem: %d %s", r.Status, r.Body)
			}
			r := post("CompletePurchase", ``)
			if r.Status != 200 || r.json(t)["version"] != float64(4) {
				t.Fatalf("CompletePurchase: %d %s", r.Status, r.Body)
			}
			if r := post("AddItem", `{"sku":"apple","quantity":1,"price":50}`); r.Status != 410 || r.errorCode(t) != "closed" {
				t.Fatalf("command after purchase: %d %s", r.Status, r.Body)
			}

			s.drain() // the projector builds the views and opens the order
			s.drain() // and then sees the order's own commit

			get := func(path string, query map[string]string) map[string]any {
				r := api.send(t, s.query, request{Method: "GET", Path: path, Query: query})
				if r.Status != 200 {
					t.Fatalf("GET %s %v: %d %s", path, query, r.Status, r.Body)
				}
				return r.json(t)
			}
			state := get("/aggregates/cart/"+id, nil)
			if state["version"] != float64(4) || !strings.Contains(fmt.Sprint(state["state"]), "purchased") {
				t.Fatalf("state: %v", state)
			}
			at2 := get("/aggregates/cart/"+id, map[string]string{"version": "2"})
			if at2["version"] != float64(2) || fmt.Sprint(at2["state"].(map[string]any)["total"]) != "300" {
				t.Fatalf("state at v2: %v", at2)
			}
			hist := get("/aggregates/cart/"+id+"/events", map[string]string{"after": "1", "limit": "2"})
			evs := hist["events"].([]any)
			if len(evs) != 2 || evs[0].(map[string]any)["name"] != "ItemAdded" || evs[1].(map[string]any)["name"] != "ItemRemoved" || hist["next"] != float64(3) {
				t.Fatalf("history: %v", hist)
			}
			summary := get("/views/cart-summary/"+id, nil)
			if !strings.Contains(fmt.Sprint(summary["data"]), "purchased") || !strings.Contains(fmt.Sprint(summary["data"]), "total:250") {
				t.Fatalf("cart-summary: %v", summary)
			}
			order := get("/aggregates/order/"+id, nil)
			if order["version"] != float64(1) || !strings.Contains(fmt.Sprint(order["state"]), "total:250") {
				t.Fatalf("order opened by the policy: %v", order)
			}
		})
	}
	sales := v2(t, s.query, request{Method: "GET", Path: "/views/sku-sales/apple"}).json(t)
	// Two purchases (one per payload version), 2 apples each.
	if d := fmt.Sprint(sales["data"]); !strings.Contains(d, "unitsSold:4") || !strings.Contains(d, "purchases:2") {
		t.Fatalf("sku-sales: %v", sales)
	}
	if len(s.pump.DeadLetters()) != 0 || len(s.pump.Failures()) != 0 {
		t.Fatalf("projector failures: %v, dead letters %v", s.pump.Failures(), s.pump.DeadLetters())
	}
	if h := v2(t, s.query, request{Method: "GET", Path: "/healthz"}); h.Status != 200 {
		t.Fatalf("healthz: %d", h.Status)
	}
	// The query function also serves the cart page and its assets.
	for _, send := range []sender{v2, v1} {
		if p := send(t, s.query, request{Method: "GET", Path: "/"}); p.Status != 200 || !strings.Contains(p.Body, "<html") || !strings.HasPrefix(p.Header("Content-Type"), "text/html") {
			t.Fatalf("the page through the query function: %d %v %.100s", p.Status, p.Headers, p.Body)
		}
		if p := send(t, s.query, request{Method: "GET", Path: "/ui/app.js"}); p.Status != 200 || !strings.Contains(p.Header("Content-Type"), "javascript") {
			t.Fatalf("app.js through the query function: %d %v", p.Status, p.Headers)
		}
	}
	for _, log := range []string{s.command.Logs(), s.query.Logs()} {
		if !strings.Contains(log, `"request_id"`) || !strings.Contains(log, `"cold_start":true`) || !strings.Contains(log, `"CloudWatchMetrics"`) {
			t.Fatalf("request logs or EMF metrics missing:\n%s", log)
		}
	}
	if !strings.Contains(s.projector.Logs(), `"ProjectorLag"`) {
		t.Fatalf("projector metrics missing:\n%s", s.projector.Logs())
	}
}

// TestTwoContainers: two command containers (two warm pools) alternate on
// one cart. Each switch finds the other's commit by a conflict, retried
// inside the function: no lost update, versions = accepted commands.
func TestTwoContainers(t *testing.T) {
	s := newStack(t)
	second := s.start("command")
	containers := []*lambdatest.Function{s.command, second}
	accepted := 0
	for i := range 12 {
		r := v2(t, containers[i%2], request{Method: "POST", Path: "/aggregates/cart/shared/AddItem", Body: fmt.Sprintf(`{"sku":"sku-%d","quantity":1,"price":10}`, i%3)})
		if r.Status != 200 && r.Status != 201 {
			t.Fatalf("command %d: %d %s", i, r.Status, r.Body)
		}
		accepted++
		if v := r.json(t)["version"]; v != float64(accepted) {
			t.Fatalf("command %d answered version %v, want %d", i, v, accepted)
		}
	}
	state := v2(t, s.query, request{Method: "GET", Path: "/aggregates/cart/shared"}).json(t)
	items := state["state"].(map[string]any)["items"].(map[string]any)
	if state["version"] != float64(12) || fmt.Sprint(items["sku-0"]) != "map[price:10 quantity:4]" {
		t.Fatalf("final state: %v", state)
	}
	if !strings.Contains(s.command.Logs()+second.Logs(), `"Conflicts":1`) {
		t.Fatal("the containers never conflicted: their pools were not warm")
	}
}

func TestIdempotencyKey(t *testing.T) {
	s := newStack(t)
	var bodies []string
	for range 3 {
		r := v2(t, s.command, request{Method: "POST", Path: "/aggregates/cart/idem/AddItem", Headers: map[string]string{"Idempotency-Key": "key-1"},
			Body: `{"sku":"apple","quantity":1,"price":10}`})
		if r.Status != 201 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		bodies = append(bodies, r.Body)
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Fatalf("bodies differ:\n%s", strings.Join(bodies, "\n"))
	}
	if n := s.itemCount(s.tables.Events); n != 1 {
		t.Fatalf("%d items in the events table, want 1", n)
	}
}

// TestBadInput: every malformed request gets the handbook's status with a
// JSON error, and the table is unchanged (read directly).
func TestBadInput(t *testing.T) {
	s := newStack(t)
	ok := v2(t, s.command, request{Method: "POST", Path: "/aggregates/cart/c1/AddItem", Body: `{"sku":"apple","quantity":1,"price":10}`})
	if ok.Status != 201 {
		t.Fatalf("%d %s", ok.Status, ok.Body)
	}
	// An empty cart: add then remove everything.
	for _, r := range []request{
		{Method: "POST", Path: "/aggregates/cart/empty/AddItem", Body: `{"sku":"a","quantity":1,"price":1}`},
		{Method: "POST", Path: "/aggregates/cart/empty/RemoveItem", Body: `{"sku":"a","quantity":1}`},
	} {
		if resp := v2(t, s.command, r); resp.Status >= 300 {
			t.Fatalf("%v: %d %s", r, resp.Status, resp.Body)
		}
	}
	before := s.itemCount(s.tables.Events)
	cases := []struct {
		name   string
		req    request
		status int
		code   string
	}{
		{"malformed JSON", request{Method: "POST", Path: "/aggregates/cart/c1/AddItem", Body: `{"sku":`}, 400, "invalid"},
		{"unknown type", request{Method: "POST", Path: "/aggregates/boat/c1/AddItem", Body: `{}`}, 404, "unknown_type"},
		{"unknown command", request{Method: "POST", Path: "/aggregates/cart/c1/Steal", Body: `{}`}, 400, "unknown_command"},
		{"negative quantity", request{Method: "POST", Path: "/aggregates/cart/c1/AddItem", Body: `{"sku":"apple","quantity":-1,"price":10}`}, 422, "rejected"},
		{"removing more than present", request{Method: "POST", Path: "/aggregates/cart/c1/RemoveItem", Body: `{"sku":"apple","quantity":5}`}, 422, "rejected"},
		{"completing an empty cart", request{Method: "POST", Path: "/aggregates/cart/empty/CompletePurchase", Body: `{}`}, 422, "rejected"},
		{"2 MB body", request{Method: "POST", Path: "/aggregates/cart/c1/AddItem", Body: `{"sku":"` + strings.Repeat("x", 2<<20) + `"}`}, 413, "too_large"},
		{"missing id", request{Method: "POST", Path: "/aggregates/cart//AddItem", Body: `{}`}, 400, "invalid"},
		// OpenOrder is internal: only the policy opens an order, so a
		// forged order ahead of the purchase cannot block the real one.
		{"forged order", request{Method: "POST", Path: "/aggregates/order/c1/OpenOrder", Body: `{"lines":[{"sku":"apple","quantity":1,"price":0}],"total":0}`}, 403, "forbidden"},
		{"forged order, malformed", request{Method: "POST", Path: "/aggregates/order/c1/OpenOrder", Body: `{"lines":`}, 403, "forbidden"},
		{"If-Match mismatch", request{Method: "POST", Path: "/aggregates/cart/c1/AddItem", Headers: map[string]string{"If-Match": `"7"`}, Body: `{"sku":"apple","quantity":1,"price":10}`}, 412, "precondition_failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, send := range []sender{v2, v1} {
				r := send(t, s.command, c.req)
				if r.Status != c.status || r.errorCode(t) != c.code {
					t.Fatalf("%d %s, want %d %s", r.Status, r.Body, c.status, c.code)
				}
			}
		})
	}
	if n := s.itemCount(s.tables.Events); n != before {
		t.Fatalf("bad input changed the events table: %d items, was %d", n, before)
	}
}

// TestProjectorFaults: a batch delivered twice, a batch reversed, and a
// poison record (an event this build does not know) leave the views exact;
// the poison record's sequence number is reported until its subscribers
// park on it, then the batch succeeds and the dead-letter queue names each
// of them; nothing else is lost.
func TestProjectorFaults(t *testing.T) {
	s := newStack(t)
	for i := range 3 {
		id := fmt.Sprint("c", i)
		for _, cmd := range []struct{ name, body string }{
			{"AddItem", `{"sku":"apple","quantity":2,"price":10}`},
			{"AddItem", `{"sku":"fig","quantity":1,"price":30}`},
			{"CompletePurchase", `{}`},
		} {
			if r := v2(t, s.command, request{Method: "POST", Path: "/aggregates/cart/" + id + "/" + cmd.name, Body: cmd.body}); r.Status >= 300 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		}
	}
	s.drain()
	s.drain()
	want := viewsOf(t, s)
	if !strings.Contains(want, "unitsSold:6") {
		t.Fatalf("views after a clean run: %s", want)
	}

	delivered := s.pump.Delivered()
	reversed := slices.Clone(delivered)
	slices.Reverse(reversed)
	for _, batch := range [][]events.DynamoDBEventRecord{delivered, delivered, reversed} {
		if failed := s.deliver(batch); len(failed) != 0 {
			t.Fatalf("redelivery failed: %v", failed)
		}
	}
	if got := viewsOf(t, s); got != want {
		t.Fatalf("redelivery changed the views:\n%s\nwant\n%s", got, want)
	}

	// A poison commit: written by a deployment that knows an event this one does not.
	poison := delivered[0]
	poison.Change.SequenceNumber = "999999999999999999999"
	poison.EventID = "poison"
	img := map[string]events.DynamoDBAttributeValue{}
	for k, v := range poison.Change.NewImage {
		img[k] = v
	}
	img["pk"] = events.NewStringAttribute("cart#poisoned")
	img["sk"] = events.NewNumberAttribute("1")
	img["last"] = events.NewNumberAttribute("1")
	img["ev"] = events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{
		"id": events.NewStringAttribute("e-poison"), "n": events.NewStringAttribute("ItemTeleported"),
		"v": events.NewNumberAttribute("1"), "d": events.NewStringAttribute(`{}`),
	})})
	poison.Change.NewImage = img
	batch := append(slices.Clone(delivered[:2]), poison)
	batch = append(batch, delivered[2:]...)
	for attempt := 1; attempt < signal.DefaultParkAfter; attempt++ {
		failed := s.deliver(batch)
		if !slices.Equal(failed, []string{poison.Change.SequenceNumber}) {
			t.Fatalf("delivery %d: failed %v, want only the poison record", attempt, failed)
		}
	}
	// The last attempt parks the poison's subscribers: the batch succeeds
	// (the shard moves on) and each parked subscriber is announced on the
	// dead-letter queue, naming stream, version and error.
	if failed := s.deliver(batch); len(failed) != 0 {
		t.Fatalf("delivery %d: failed %v, want none (parked)", signal.DefaultParkAfter, failed)
	}
	if got := viewsOf(t, s); got != want {
		t.Fatalf("the poison record changed other views:\n%s\nwant\n%s", got, want)
	}
	out, err := s.sqs.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.dlq), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	var parked []string
	for _, m := range out.Messages {
		var pm lambdastream.ParkedMessage
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &pm); err != nil || pm.Kind != lambdastream.ParkedKind {
			t.Fatalf("dead-letter message %s: %v", aws.ToString(m.Body), err)
		}
		if pm.Stream != "cart#poisoned" || pm.Version != 1 || !strings.Contains(pm.Error, "ItemTeleported") {
			t.Errorf("parked notice %+v, want cart#poisoned at 1 with the unknown event named", pm)
		}
		parked = append(parked, pm.Subscriber)
	}
	slices.Sort(parked)
	if w := []string{"cart-summary", "open-order", "sku-sales"}; !slices.Equal(parked, w) {
		t.Fatalf("parked notices for %v, want %v", parked, w)
	}
}

// deliver sends one batch to the projector, outside the stream's order,
// and returns the sequence numbers it reported as failed.
func (s *stack) deliver(batch []events.DynamoDBEventRecord) []string {
	s.t.Helper()
	failed, err := s.pump.Deliver(s.t.Context(), batch)
	if err != nil {
		s.t.Fatal(err)
	}
	return failed
}

func viewsOf(t *testing.T, s *stack) string {
	var out []string
	for _, p := range []string{"/views/cart-summary/c0", "/views/cart-summary/c1", "/views/cart-summary/c2", "/views/sku-sales/apple", "/views/sku-sales/fig", "/aggregates/order/c0", "/aggregates/order/c2"} {
		r := v2(t, s.query, request{Method: "GET", Path: p})
		m := r.json(t)
		delete(m, "version") // documents' write counters depend on batching, not content
		out = append(out, fmt.Sprintf("%s %d %v", p, r.Status, m))
	}
	return strings.Join(out, "\n")
}
