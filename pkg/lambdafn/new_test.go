package lambdafn

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/signal"
)

var tables = Settings{Tables: dynstore.Tables{Events: "e", Views: "v"}}

// offline is an AWS configuration that never reaches a server: New must
// not make a request.
var offline = AWSConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1")})

func TestNewRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		app  *signal.App
		s    Settings
		role Role
		opts []Option
		want string
	}{
		"nil app":            {nil, tables, CommandRole, nil, "no App"},
		"unnamed app":        {&signal.App{Types: bankApp().Types}, tables, CommandRole, nil, "name"},
		"app without types":  {&signal.App{Name: "bank"}, tables, CommandRole, nil, "no aggregate types"},
		"role 0":             {bankApp(), tables, 0, nil, "unknown Role(0)"},
		"role 4":             {bankApp(), tables, 4, nil, "unknown Role(4)"},
		"empty namespace":    {bankApp(), tables, CommandRole, []Option{MetricNamespace("")}, "empty namespace"},
		"nil pages":          {bankApp(), tables, QueryRole, []Option{Pages(nil)}, "Pages: nil"},
		"nil logger":         {bankApp(), tables, CommandRole, []Option{Logger(nil)}, "Logger: nil"},
		"nil output":         {bankApp(), tables, CommandRole, []Option{Output(nil)}, "Output: nil"},
		"nil service func":   {bankApp(), tables, CommandRole, []Option{ServiceConfig(nil)}, "ServiceConfig: nil"},
		"nil http func":      {bankApp(), tables, CommandRole, []Option{HTTPConfig(nil)}, "HTTPConfig: nil"},
		"nil option":         {bankApp(), tables, CommandRole, []Option{nil}, "nil Option"},
		"no tables":          {bankApp(), Settings{}, CommandRole, []Option{offline}, "table"},
		"tenancy, no claim":  {tenantApp(), tables, QueryRole, []Option{offline}, "AUTH_TENANT_CLAIM"},
		"bad service config": {bankApp(), tables, CommandRole, []Option{offline, ServiceConfig(func(c *signal.Config) { c.Types = nil })}, "Types is empty"},
	} {
		f, err := New(t.Context(), tc.app, tc.s, tc.role, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || f != nil {
			t.Errorf("%s: got %v, %v; want an error with %q", name, f, err, tc.want)
		}
	}
}

// tenantApp is the bank with Tenancy.
func tenantApp() *signal.App {
	app := bankApp()
	app.Tenancy = true
	return app
}

// New loads the SDK's standard chain (here: the region from the
// environment), builds everything, and sends nothing.
func TestNewBuildsWithoutNetwork(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	var out bytes.Buffer
	f, err := New(context.Background(), bankApp(), tables, ProjectorRole, Output(&out))
	if err != nil {
		t.Fatal(err)
	}
	if f.AWS.Region != "eu-west-3" || f.Store.Tables() != tables.Tables || f.Settings.Function != "bank" || f.Role != ProjectorRole {
		t.Fatalf("%+v", f)
	}
	if len(f.Service.Subscribers()) != 2 {
		t.Errorf("the projector has %d subscribers, want the app's 2", len(f.Service.Subscribers()))
	}
	if out.Len() != 0 {
		t.Errorf("New wrote %q", out.String())
	}
}

func TestOnlyTheProjectorRunsSubscribers(t *testing.T) {
	for _, role := range []Role{CommandRole, QueryRole} {
		f, err := New(t.Context(), bankApp(), tables, role, offline)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(f.Service.Subscribers()); n != 0 {
			t.Errorf("%v has %d subscribers", role, n)
		}
		if _, err := f.StreamHandler(); err == nil || !strings.Contains(err.Error(), role.String()+" function has no stream handler") {
			t.Errorf("%v StreamHandler: %v", role, err)
		}
	}
	f, err := New(t.Context(), bankApp(), tables, ProjectorRole, offline)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.HTTPHandler(); err == nil || !strings.Contains(err.Error(), "projector function has no HTTP handler") {
		t.Errorf("projector HTTPHandler: %v", err)
	}
}

func TestServiceConfigRunsLastAndInOrder(t *testing.T) {
	var seen []string
	_, err := New(t.Context(), bankApp(), Settings{Tables: tables.Tables, DeadLetterQueue: "http://q"}, ProjectorRole, offline,
		ServiceConfig(func(c *signal.Config) {
			if c.Store == nil || c.Logger == nil || c.OnPark == nil || len(c.Subscribers) != 2 {
				t.Errorf("lambdafn had not filled the Config: %+v", c)
			}
			seen = append(seen, "first")
		}),
		ServiceConfig(func(c *signal.Config) { seen = append(seen, "second") }))
	if err != nil || strings.Join(seen, ",") != "first,second" {
		t.Fatalf("%v %v", seen, err)
	}
}

func TestRoleString(t *testing.T) {
	for r, want := range map[Role]string{CommandRole: "command", QueryRole: "query", ProjectorRole: "projector", 9: "Role(9)"} {
		if r.String() != want {
			t.Errorf("%d: %q", r, r.String())
		}
	}
}

func TestPoolDelta(t *testing.T) {
	var d statsDelta
	d.metrics(signal.Stats{Hits: 5, Conflicts: 1})
	got := map[string]float64{}
	for _, m := range d.metrics(signal.Stats{Hits: 7, Misses: 1, Conflicts: 1, Retries: 2}) {
		got[m.Name] = m.Value
	}
	if got["PoolHits"] != 2 || got["PoolMisses"] != 1 || got["Conflicts"] != 0 || got["Retries"] != 2 || len(got) != 4 {
		t.Fatalf("%v", got)
	}
}
