package httpapi

import (
	"encoding/json"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// The shop's description, as GET /app answers it on every transport.
const shopApp = `{"name":"shop","types":[` +
	`{"name":"cart","commands":[` +
	`{"name":"AddItem","genesis":true,"internal":false,"fields":[{"name":"sku","type":"string","required":true},{"name":"quantity","type":"integer","required":true},{"name":"price","type":"integer","required":true}]},` +
	`{"name":"RemoveItem","genesis":false,"internal":false,"fields":[{"name":"sku","type":"string","required":true},{"name":"quantity","type":"integer","required":true}]},` +
	`{"name":"CompletePurchase","genesis":false,"internal":false,"fields":[]}],` +
	`"events":[{"name":"ItemAdded","schemaVersion":1,"terminal":false},{"name":"ItemRemoved","schemaVersion":1,"terminal":false},` +
	`{"name":"PurchaseCompleted","schemaVersion":1,"terminal":true},{"name":"CartDiscarded","schemaVersion":1,"terminal":true}]},` +
	`{"name":"order","commands":[` +
	`{"name":"OpenOrder","genesis":true,"internal":true,"fields":[{"name":"lines","type":"array","items":"object","required":true},{"name":"total","type":"integer","required":true}]}],` +
	`"events":[{"name":"OrderOpened","schemaVersion":1,"terminal":false}]}],` +
	`"views":["cart-summary","sku-sales"]}`

func TestAppRoute(t *testing.T) {
	f := newFixture(t, withConfig(func(c *Config) { c.AppName = "shop" }))
	for _, tr := range transports {
		r := tr.do(t, f.h, call{method: "GET", target: "/app"})
		if r.status != 200 || string(r.body) != shopApp {
			t.Errorf("%s GET /app: %d\n%s\nwant\n%s", tr.name, r.status, r.body, shopApp)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s GET /app: Content-Type %q", tr.name, ct)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s GET /app: no nosniff", tr.name)
		}
	}
	for _, tc := range []struct {
		name   string
		call   call
		status int
		allow  string
	}{
		{"POST", call{method: "POST", target: "/app", body: "{}"}, 405, "GET"},
		{"DELETE", call{method: "DELETE", target: "/app"}, 405, "GET"},
		{"sub path", call{method: "GET", target: "/app/cart"}, 404, ""},
	} {
		r := doHTTP(t, f.h, tc.call)
		checkError(t, r, tc.status, map[int]string{404: "not_found", 405: "method_not_allowed"}[tc.status])
		if r.header.Get("Allow") != tc.allow {
			t.Errorf("%s /app: Allow %q, want %q", tc.name, r.header.Get("Allow"), tc.allow)
		}
	}
	if n := f.feedLen(t); n != 0 {
		t.Errorf("GET /app wrote %d commits", n)
	}
}

func TestAppRouteSets(t *testing.T) {
	for _, tc := range []struct {
		routes Routes
		status int
	}{{QueryRoutes, 200}, {AllRoutes, 200}, {CommandRoutes, 404}} {
		f := newFixture(t, withConfig(func(c *Config) { c.Routes = tc.routes }))
		if r := doHTTP(t, f.h, call{method: "GET", target: "/app"}); r.status != tc.status {
			t.Errorf("routes %b: GET /app %d, want %d", tc.routes, r.status, tc.status)
		}
	}
}

// A query function's Service runs no subscribers: Config.Views names the
// views then; an empty list stays an empty list.
func TestAppViews(t *testing.T) {
	for _, tc := range []struct {
		name  string
		views []string
		subs  bool
		want  []string
	}{
		{"from projections", nil, true, []string{"cart-summary", "sku-sales"}},
		{"no subscribers", nil, false, []string{}},
		{"given", []string{"balances"}, false, []string{"balances"}},
		{"given empty", []string{}, true, []string{}},
	} {
		f := newFixture(t, func(sc *signal.Config, c *Config) {
			c.Views = tc.views
			if !tc.subs {
				sc.Subscribers = nil
			}
		})
		var got struct {
			Name  string   `json:"name"`
			Views []string `json:"views"`
		}
		if err := json.Unmarshal(doHTTP(t, f.h, call{method: "GET", target: "/app"}).body, &got); err != nil {
			t.Fatal(err)
		}
		if got.Views == nil || !reflect.DeepEqual(got.Views, tc.want) || got.Name != "" {
			t.Errorf("%s: views %#v, name %q; want %#v", tc.name, got.Views, got.Name, tc.want)
		}
	}
}

type descBase struct {
	ID     string `json:"id"`
	Shadow string `json:"note"`
	//lint:ignore U1000 an unexported field, which the description must leave out
	private int
}

type descText struct{}

func (descText) MarshalText() ([]byte, error) { return nil, nil }

type descCommand struct {
	descBase
	*DescPtrBase
	Note     string            `json:"note,omitempty"` // shadows descBase's
	Count    int32             `json:"count,string"`
	Ratio    float64           `json:"ratio,omitzero"`
	Flag     bool              `json:"flag"`
	Maybe    *int              `json:"maybe"`
	Tags     []string          `json:"tags"`
	Blob     []byte            `json:"blob"`
	Grid     [2][2]int         `json:"grid"`
	Meta     map[string]string `json:"meta"`
	When     time.Time         `json:"when"`
	Raw      json.RawMessage   `json:"raw"`
	Addr     net.IP            `json:"addr"`
	Label    descText          `json:"label"`
	Anything any               `json:"anything"`
	Untagged uint8
	Skipped  string `json:"-"`
	//lint:ignore SA5008 the field named "-", a corner of encoding/json the description follows
	Dash string `json:"-,"`
	//lint:ignore U1000 an unexported field, which the description must leave out
	hidden string
}

type DescPtrBase struct {
	Deep string `json:"deep"`
}

func TestJSONFields(t *testing.T) {
	got := jsonFields(reflect.TypeFor[descCommand]())
	want := []fieldInfo{
		{Name: "note", Type: "string"},
		{Name: "count", Type: "string", Required: true},
		{Name: "ratio", Type: "number"},
		{Name: "flag", Type: "boolean", Required: true},
		{Name: "maybe", Type: "integer"},
		{Name: "tags", Type: "array", Items: "string", Required: true},
		{Name: "blob", Type: "string", Required: true},
		{Name: "grid", Type: "array", Items: "array", Required: true},
		{Name: "meta", Type: "object", Required: true},
		{Name: "when", Type: "string", Required: true},
		{Name: "raw", Type: "any", Required: true},
		{Name: "addr", Type: "string", Required: true},
		{Name: "label", Type: "string", Required: true},
		{Name: "anything", Type: "any", Required: true},
		{Name: "Untagged", Type: "integer", Required: true},
		{Name: "-", Type: "string", Required: true},
		{Name: "id", Type: "string", Required: true},
		{Name: "deep", Type: "string", Required: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields:\n%+v\nwant\n%+v", got, want)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[map[string]int](), reflect.TypeFor[string](), reflect.TypeFor[struct{}]()} {
		if got := jsonFields(typ); got == nil || len(got) != 0 {
			t.Errorf("%v: fields %v, want none", typ, got)
		}
	}
	if got := jsonFields(reflect.TypeFor[*DescPtrBase]()); len(got) != 1 || got[0].Name != "deep" {
		t.Errorf("a pointer command type: %v", got)
	}
}
