package signalstack

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// grants flattens a policy document into resource -> sorted actions, with
// resources rendered by show (e.g. {Fn::GetAtt:[SignalEventsTable…,Arn]}).
// Every statement must be a plain Allow of Action on Resource.
func grants(t *testing.T, who string, doc map[string]any) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, s := range doc["Statement"].([]any) {
		st := s.(map[string]any)
		for k := range st {
			switch k {
			case "Action", "Resource", "Effect", "Sid":
			default:
				t.Errorf("%s: statement %v has %s: only plain Allow statements are expected", who, st["Sid"], k)
			}
		}
		if st["Effect"] != "Allow" {
			t.Errorf("%s: statement %v is not an Allow", who, st["Sid"])
		}
		var resources []any
		switch r := st["Resource"].(type) {
		case []any:
			resources = r
		default:
			resources = []any{r}
		}
		for _, r := range resources {
			key := show(r)
			for _, a := range strs(st["Action"]) {
				if !slices.Contains(out[key], a) {
					out[key] = append(out[key], a)
				}
			}
			sort.Strings(out[key])
		}
	}
	return out
}

// TestIAM: each function's role has exactly the permissions the code uses
// (store.go, views.go, the dispatcher), each on the right resource.
func TestIAM(t *testing.T) {
	for _, variant := range []string{"default", "rest"} {
		tp := synth(t, variant)
		events := show(getAtt(tp.id(t, "EventsTable/Resource"), "Arn"))
		stream := show(getAtt(tp.id(t, "EventsTable/Resource"), "StreamArn"))
		views := show(getAtt(tp.id(t, "ViewsTable/Resource"), "Arn"))
		queue := show(getAtt(tp.id(t, "DeadLetterQueue/Resource"), "Arn"))
		logs := func(fn string) string { return show(getAtt(tp.id(t, fn+"Logs/Resource"), "Arn")) }
		want := map[string]map[string][]string{
			"Command": {
				logs("Command"): {"logs:CreateLogStream", "logs:PutLogEvents"},
				events:          {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"},
			},
			"Query": {
				logs("Query"): {"logs:CreateLogStream", "logs:PutLogEvents"},
				events:        {"dynamodb:GetItem", "dynamodb:Query"},
				views:         {"dynamodb:GetItem"},
			},
			"Projector": {
				logs("Projector"): {"logs:CreateLogStream", "logs:PutLogEvents"},
				stream:            {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"},
				"*":               {"dynamodb:ListStreams"},
				events:            {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"},
				views:             {"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
				queue:             {"sqs:SendMessage"},
			},
		}
		for fn, w := range want {
			role := tp.id(t, fn+"Role/Resource")
			rp := tp.props(t, role)
			// Assumed by Lambda only; no managed or inline policies on the role itself.
			trust := show(rp["AssumeRolePolicyDocument"])
			if trust != "{Statement:[{Action:sts:AssumeRole,Effect:Allow,Principal:{Service:lambda.amazonaws.com}}],Version:2012-10-17}" {
				t.Errorf("%s %s role trust policy %s", variant, fn, trust)
			}
			for _, k := range []string{"ManagedPolicyArns", "Policies", "PermissionsBoundary"} {
				if v, ok := rp[k]; ok {
					t.Errorf("%s %s role has %s %s", variant, fn, k, show(v))
				}
			}
			// Exactly one policy is attached to the role: the function's own.
			var attached []string
			for _, id := range tp.ofType("AWS::IAM::Policy") {
				for _, r := range tp.props(t, id)["Roles"].([]any) {
					if reflect.DeepEqual(r, ref(role)) {
						attached = append(attached, id)
					}
				}
			}
			if len(attached) != 1 || attached[0] != tp.id(t, fn+"Policy/Resource") {
				t.Fatalf("%s %s: policies on the role %v, want only %sPolicy", variant, fn, attached, fn)
			}
			got := grants(t, fn, tp.props(t, attached[0])["PolicyDocument"].(map[string]any))
			if !reflect.DeepEqual(got, w) {
				t.Errorf("%s %s permissions:\n got %v\nwant %v", variant, fn, got, w)
			}
		}
	}
}

// TestIAMNoWildcards: no action wildcards and no managed policies
// anywhere in the template, and exactly one statement on Resource "*":
// the projector's dynamodb:ListStreams, which IAM cannot scope.
func TestIAMNoWildcards(t *testing.T) {
	for _, variant := range []string{"default", "rest", "httpcors"} {
		tp := synth(t, variant)
		var star []string
		for id, r := range tp.Resources {
			p, _ := r["Properties"].(map[string]any)
			if _, ok := p["ManagedPolicyArns"]; ok {
				t.Errorf("%s: %s has managed policies %s", variant, id, show(p["ManagedPolicyArns"]))
			}
			var docs []any
			switch r["Type"] {
			case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::SQS::QueuePolicy":
				docs = append(docs, p["PolicyDocument"])
			case "AWS::IAM::Role":
				docs = append(docs, p["AssumeRolePolicyDocument"])
				if ps, ok := p["Policies"].([]any); ok {
					for _, ip := range ps {
						docs = append(docs, ip.(map[string]any)["PolicyDocument"])
					}
				}
			}
			for _, d := range docs {
				for _, s := range d.(map[string]any)["Statement"].([]any) {
					st := s.(map[string]any)
					if _, ok := st["NotAction"]; ok {
						t.Errorf("%s: %s uses NotAction", variant, id)
					}
					for _, a := range strs(st["Action"]) {
						if strings.Contains(a, "*") {
							t.Errorf("%s: %s grants wildcard action %s", variant, id, a)
						}
						if strings.Contains(a, "FullAccess") {
							t.Errorf("%s: %s grants %s", variant, id, a)
						}
					}
					if slices.Contains(strs(st["Resource"]), "*") {
						star = append(star, id+" "+show(st["Action"]))
					}
				}
			}
		}
		if want := []string{tp.id(t, "ProjectorPolicy/Resource") + " dynamodb:ListStreams"}; !slices.Equal(star, want) {
			t.Errorf("%s: statements on Resource \"*\": %v, want only %v", variant, star, want)
		}
		for _, id := range tp.ofType("AWS::Lambda::Permission") {
			p := tp.props(t, id)
			if p["Principal"] != "apigateway.amazonaws.com" || p["Action"] != "lambda:InvokeFunction" || p["SourceArn"] == nil {
				t.Errorf("%s: permission %s: %s %s without a SourceArn", variant, id, p["Principal"], p["Action"])
			}
		}
	}
}
