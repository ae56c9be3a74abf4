package signalstack

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/jsii-runtime-go"
	"github.com/signalforgo/signal/pkg/dynstore"
)

func obj(m map[string]any) assertions.Matcher { return assertions.Match_ObjectLike(&m) }

func TestResourceInventory(t *testing.T) {
	counts := func(tp *template) map[string]int {
		c := map[string]int{}
		for _, r := range tp.Resources {
			c[r["Type"].(string)]++
		}
		return c
	}
	common := map[string]int{
		"AWS::DynamoDB::Table":                2,
		"AWS::SQS::Queue":                     1,
		"AWS::IAM::Role":                      3,
		"AWS::IAM::Policy":                    3,
		"AWS::Logs::LogGroup":                 4, // one per function, the API's access logs
		"AWS::Lambda::Function":               3,
		"AWS::Lambda::EventSourceMapping":     1,
		"AWS::CloudWatch::Alarm":              5,
		"AWS::Lambda::Permission":             7, // one per route
		"AWS::ApiGatewayV2::Api":              1,
		"AWS::ApiGatewayV2::Stage":            1,
		"AWS::ApiGatewayV2::Integration":      2, // one per function
		"AWS::ApiGatewayV2::Route":            7,
		"AWS::ApiGateway::RestApi":            0,
		"AWS::ApiGateway::Account":            0, // no account-wide CloudWatch role
		"AWS::Lambda::EventInvokeConfig":      0,
		"AWS::Logs::SubscriptionFilter":       0,
		"Custom::LogRetention":                0, // explicit log groups, not the logRetention custom resource
		"AWS::SQS::QueuePolicy":               0,
		"AWS::IAM::ManagedPolicy":             0,
		"AWS::ApiGatewayV2::Authorizer":       0, // IAM routes need none
		"AWS::Cognito::UserPool":              0,
		"AWS::ApiGateway::Deployment":         0,
		"AWS::Lambda::Url":                    0,
		"AWS::DynamoDB::GlobalTable":          0,
		"AWS::CloudFormation::CustomResource": 0,
	}
	got := counts(synth(t, "default"))
	for typ, n := range common {
		if got[typ] != n {
			t.Errorf("default: %d %s, want %d", got[typ], typ, n)
		}
	}
	for typ := range got {
		if _, ok := common[typ]; !ok {
			t.Errorf("default: unexpected resource type %s", typ)
		}
	}
	rest := counts(synth(t, "rest"))
	for typ, n := range map[string]int{
		"AWS::ApiGatewayV2::Api":      0,
		"AWS::ApiGateway::RestApi":    1,
		"AWS::ApiGateway::Account":    0,
		"AWS::ApiGateway::Authorizer": 0,
		"AWS::Logs::LogGroup":         4,
		"AWS::ApiGateway::Deployment": 1,
		"AWS::ApiGateway::Stage":      1,
		"AWS::IAM::Role":              3,
		"AWS::IAM::Policy":            3,
		"AWS::Lambda::Function":       3,
	} {
		if rest[typ] != n {
			t.Errorf("rest: %d %s, want %d", rest[typ], typ, n)
		}
	}
}

func TestTables(t *testing.T) {
	tp := synth(t, "default")
	events, views := tp.id(t, "EventsTable/Resource"), tp.id(t, "ViewsTable/Resource")
	check(t, "events table", func() {
		tp.T.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"Properties": obj(map[string]any{
				"KeySchema":                        []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}, map[string]any{"AttributeName": "sk", "KeyType": "RANGE"}},
				"AttributeDefinitions":             []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}, map[string]any{"AttributeName": "sk", "AttributeType": "N"}},
				"BillingMode":                      "PAY_PER_REQUEST",
				"StreamSpecification":              map[string]any{"StreamViewType": "NEW_IMAGE"},
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"DeletionProtectionEnabled":        false,
				"ProvisionedThroughput":            assertions.Match_Absent(),
				"TableName":                        assertions.Match_Absent(),
			}),
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
		})
	})
	check(t, "views table", func() {
		tp.T.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"Properties": obj(map[string]any{
				"KeySchema":                        []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}},
				"AttributeDefinitions":             []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}},
				"BillingMode":                      "PAY_PER_REQUEST",
				"StreamSpecification":              assertions.Match_Absent(),
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"DeletionProtectionEnabled":        false,
			}),
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
		})
	})
	// Both matched tables are the two distinct ones.
	if _, ok := tp.props(t, events)["StreamSpecification"]; !ok {
		t.Errorf("%s (EventsTable) has no stream", events)
	}
	if _, ok := tp.props(t, views)["StreamSpecification"]; ok {
		t.Errorf("%s (ViewsTable) has a stream", views)
	}

	rest := synth(t, "rest")
	for _, path := range []string{"EventsTable/Resource", "ViewsTable/Resource"} {
		p := rest.props(t, rest.id(t, path))
		if p["DeletionProtectionEnabled"] != true {
			t.Errorf("rest %s: DeletionProtectionEnabled = %v, want true", path, p["DeletionProtectionEnabled"])
		}
		// CloudFormation's default billing mode is PROVISIONED; the CDK omits it.
		if (p["BillingMode"] != nil && p["BillingMode"] != "PROVISIONED") || show(p["ProvisionedThroughput"]) != "{ReadCapacityUnits:5,WriteCapacityUnits:7}" {
			t.Errorf("rest %s: billing %v %v, want PROVISIONED 5/7", path, p["BillingMode"], show(p["ProvisionedThroughput"]))
		}
		if r := rest.Resources[rest.id(t, path)]; r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
			t.Errorf("rest %s: policies %v/%v, want Retain", path, r["DeletionPolicy"], r["UpdateReplacePolicy"])
		}
	}
}

// The synthesized tables are dynstore's definitions, field by field: the
// table the Go tests run against is the table that deploys.
func TestTablesMatchDynstore(t *testing.T) {
	tp := synth(t, "default")
	for _, tc := range []struct {
		path string
		in   *dynamodb.CreateTableInput
		ttl  *dynamodb.UpdateTimeToLiveInput
	}{
		{"EventsTable/Resource", dynstore.EventsTableInput("x"), nil},
		{"ViewsTable/Resource", dynstore.ViewsTableInput("x"), dynstore.ViewsTimeToLive("x")},
	} {
		p := tp.props(t, tp.id(t, tc.path))
		var keys, attrs []any
		for _, k := range tc.in.KeySchema {
			keys = append(keys, map[string]any{"AttributeName": aws.ToString(k.AttributeName), "KeyType": string(k.KeyType)})
		}
		for _, a := range tc.in.AttributeDefinitions {
			attrs = append(attrs, map[string]any{"AttributeName": aws.ToString(a.AttributeName), "AttributeType": string(a.AttributeType)})
		}
		if !reflect.DeepEqual(p["KeySchema"], keys) {
			t.Errorf("%s KeySchema %s, dynstore %s", tc.path, show(p["KeySchema"]), show(keys))
		}
		if !reflect.DeepEqual(p["AttributeDefinitions"], attrs) {
			t.Errorf("%s AttributeDefinitions %s, dynstore %s", tc.path, show(p["AttributeDefinitions"]), show(attrs))
		}
		if p["BillingMode"] != string(tc.in.BillingMode) {
			t.Errorf("%s BillingMode %v, dynstore %s", tc.path, p["BillingMode"], tc.in.BillingMode)
		}
		var stream any
		if s := tc.in.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
			// CloudFormation enables the stream by giving its view type.
			stream = map[string]any{"StreamViewType": string(s.StreamViewType)}
		}
		if !reflect.DeepEqual(p["StreamSpecification"], stream) {
			t.Errorf("%s StreamSpecification %s, dynstore %s", tc.path, show(p["StreamSpecification"]), show(stream))
		}
		var ttl any
		if tc.ttl != nil {
			ttl = map[string]any{"AttributeName": aws.ToString(tc.ttl.TimeToLiveSpecification.AttributeName), "Enabled": aws.ToBool(tc.ttl.TimeToLiveSpecification.Enabled)}
		}
		if !reflect.DeepEqual(p["TimeToLiveSpecification"], ttl) {
			t.Errorf("%s TimeToLiveSpecification %s, dynstore %s", tc.path, show(p["TimeToLiveSpecification"]), show(ttl))
		}
		// Nothing dynstore does not declare: no indexes.
		for _, k := range []string{"GlobalSecondaryIndexes", "LocalSecondaryIndexes"} {
			if _, ok := p[k]; ok {
				t.Errorf("%s has %s, which dynstore does not declare", tc.path, k)
			}
		}
	}
}

func TestFunctions(t *testing.T) {
	tp := synth(t, "default")
	events, views := tp.id(t, "EventsTable/Resource"), tp.id(t, "ViewsTable/Resource")
	assets := map[string]bool{}
	for _, tc := range []struct {
		id      string
		memory  float64
		timeout float64
	}{{"Command", 256, 10}, {"Query", 256, 10}, {"Projector", 512, 60}} {
		fn, role, logs := tp.id(t, tc.id+"/Resource"), tp.id(t, tc.id+"Role/Resource"), tp.id(t, tc.id+"Logs/Resource")
		p := tp.props(t, fn)
		want := map[string]any{
			"Runtime":       "provided.al2023",
			"Handler":       "bootstrap",
			"Architectures": []any{"arm64"},
			"MemorySize":    tc.memory,
			"Timeout":       tc.timeout,
			"Role":          getAtt(role, "Arn"),
			"LoggingConfig": map[string]any{"LogGroup": ref(logs)},
			"Environment": map[string]any{"Variables": map[string]any{
				"EVENTS_TABLE": ref(events),
				"VIEWS_TABLE":  ref(views),
			}},
		}
		if tc.id == "Projector" { // it reports parked subscribers to the dead-letter queue
			want["Environment"].(map[string]any)["Variables"].(map[string]any)["DEAD_LETTER_QUEUE_URL"] = ref(tp.id(t, "DeadLetterQueue/Resource"))
		}
		for k, v := range want {
			if !reflect.DeepEqual(p[k], v) {
				t.Errorf("%s %s = %s, want %s", tc.id, k, show(p[k]), show(v))
			}
		}
		// Code is the asset of CodeDir/<function> (the dummy bootstraps
		// differ, so each function has its own asset).
		key, _ := p["Code"].(map[string]any)["S3Key"].(string)
		if !strings.HasSuffix(key, ".zip") || assets[key] {
			t.Errorf("%s Code is not its own asset: %s", tc.id, show(p["Code"]))
		}
		assets[key] = true
		lg := tp.Resources[logs]
		if lp := lg["Properties"].(map[string]any); lp["RetentionInDays"] != float64(30) {
			t.Errorf("%s log group retention %v, want 30 days", tc.id, lp["RetentionInDays"])
		}
		// The function depends on its policy: it never runs without it.
		if deps := strs(tp.Resources[fn]["DependsOn"]); !slices.Contains(deps, tp.id(t, tc.id+"Policy/Resource")) {
			t.Errorf("%s DependsOn %v lacks its policy", tc.id, deps)
		}
	}
	check(t, "log groups", func() {
		tp.T.AllResourcesProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": 30})
	})

	// The variant: amd64, sizes, LOG_LEVEL everywhere, CORS on the HTTP functions only.
	rest := synth(t, "rest")
	for _, tc := range []struct {
		id      string
		memory  float64
		timeout float64
		cors    bool
	}{{"Command", 1024, 20, true}, {"Query", 256, 10, true}, {"Projector", 512, 60, false}} {
		p := rest.props(t, rest.id(t, tc.id+"/Resource"))
		if show(p["Architectures"]) != "[x86_64]" || p["MemorySize"] != tc.memory || p["Timeout"] != tc.timeout {
			t.Errorf("rest %s: %s %v MB %v s, want x86_64 %v MB %v s", tc.id, show(p["Architectures"]), p["MemorySize"], p["Timeout"], tc.memory, tc.timeout)
		}
		vars := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		keys := make([]string, 0, len(vars))
		for k := range vars {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		want := []string{"EVENTS_TABLE", "LOG_LEVEL", "VIEWS_TABLE"}
		if tc.id == "Projector" {
			want = []string{"DEAD_LETTER_QUEUE_URL", "EVENTS_TABLE", "LOG_LEVEL", "VIEWS_TABLE"}
		}
		if tc.cors {
			want = []string{"CORS_ALLOW_ORIGINS", "EVENTS_TABLE", "LOG_LEVEL", "VIEWS_TABLE"}
			if vars["CORS_ALLOW_ORIGINS"] != "https://shop.example,https://admin.example" {
				t.Errorf("rest %s CORS_ALLOW_ORIGINS = %v", tc.id, vars["CORS_ALLOW_ORIGINS"])
			}
		}
		if !slices.Equal(keys, want) || vars["LOG_LEVEL"] != "debug" {
			t.Errorf("rest %s environment %s, want keys %v and LOG_LEVEL debug", tc.id, show(vars), want)
		}
	}
}

func TestStreamMapping(t *testing.T) {
	tp := synth(t, "default")
	esm := tp.id(t, "ProjectorStream")
	want := map[string]any{
		"FunctionName":                   ref(tp.id(t, "Projector/Resource")),
		"EventSourceArn":                 getAtt(tp.id(t, "EventsTable/Resource"), "StreamArn"),
		"StartingPosition":               "TRIM_HORIZON",
		"BatchSize":                      float64(100),
		"MaximumBatchingWindowInSeconds": float64(1),
		"BisectBatchOnFunctionError":     true,
		"MaximumRetryAttempts":           float64(5),
		"MaximumRecordAgeInSeconds":      float64(86400),
		"FunctionResponseTypes":          []any{"ReportBatchItemFailures"},
		"DestinationConfig":              map[string]any{"OnFailure": map[string]any{"Destination": getAtt(tp.id(t, "DeadLetterQueue/Resource"), "Arn")}},
	}
	p := tp.props(t, esm)
	for k, v := range want {
		if !reflect.DeepEqual(p[k], v) {
			t.Errorf("ESM %s = %s, want %s", k, show(p[k]), show(v))
		}
	}
	for k := range p {
		if _, ok := want[k]; !ok && k != "FilterCriteria" {
			t.Errorf("ESM has unexpected property %s = %s", k, show(p[k]))
		}
	}
	check(t, "filter", func() {
		tp.T.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
			"FilterCriteria": map[string]any{"Filters": []any{map[string]any{
				"Pattern": assertions.Match_SerializedJson(map[string]any{
					"eventName": []any{"INSERT"},
					"dynamodb":  map[string]any{"NewImage": map[string]any{"kind": map[string]any{"S": []any{"commit"}}}},
				}),
			}}},
		})
	})
	if deps := strs(tp.Resources[esm]["DependsOn"]); !slices.Contains(deps, tp.id(t, "ProjectorPolicy/Resource")) {
		t.Errorf("the mapping does not wait for the projector's policy: DependsOn %v", deps)
	}
	if rest := synth(t, "rest"); rest.props(t, rest.id(t, "ProjectorStream"))["BatchSize"] != float64(50) {
		t.Error("rest: BatchSize prop not applied")
	}
}

func TestDeadLetterQueue(t *testing.T) {
	tp := synth(t, "default")
	check(t, "queue", func() {
		tp.T.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
			"MessageRetentionPeriod": 14 * 24 * 3600,
			"SqsManagedSseEnabled":   true,
		})
	})
}

func TestAlarms(t *testing.T) {
	tp := synth(t, "default")
	fn := func(id string) any {
		return []any{map[string]any{"Name": "FunctionName", "Value": ref(tp.id(t, id+"/Resource"))}}
	}
	want := map[string]map[string]any{
		"ProjectorIteratorAgeAlarm": {"Namespace": "AWS/Lambda", "MetricName": "IteratorAge", "Statistic": "Maximum", "Period": 60.0,
			"Threshold": 60000.0, "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 5.0, "Dimensions": fn("Projector")},
		"CommandErrorsAlarm": {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Period": 300.0,
			"Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 1.0, "Dimensions": fn("Command")},
		"QueryErrorsAlarm": {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Period": 300.0,
			"Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 1.0, "Dimensions": fn("Query")},
		"ProjectorErrorsAlarm": {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Period": 300.0,
			"Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 1.0, "Dimensions": fn("Projector")},
		"DeadLetterQueueAlarm": {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Statistic": "Maximum", "Period": 60.0,
			"Threshold": 0.0, "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1.0,
			"Dimensions": []any{map[string]any{"Name": "QueueName", "Value": getAtt(tp.id(t, "DeadLetterQueue/Resource"), "QueueName")}}},
	}
	for id, w := range want {
		p := tp.props(t, tp.id(t, id+"/Resource"))
		w["TreatMissingData"] = "notBreaching"
		for k, v := range w {
			if !reflect.DeepEqual(p[k], v) {
				t.Errorf("%s %s = %s, want %s", id, k, show(p[k]), show(v))
			}
		}
	}
}

func TestOutputs(t *testing.T) {
	for _, variant := range []string{"default", "rest"} {
		tp := synth(t, variant)
		var names []string
		for k := range tp.Outputs {
			names = append(names, k)
		}
		sort.Strings(names)
		// ApiExecuteArn: both variants have the default, IAM.
		if want := []string{"ApiExecuteArn", "ApiUrl", "DeadLetterQueueUrl", "EventsTableName", "ViewsTableName"}; !slices.Equal(names, want) {
			t.Errorf("%s outputs %v, want %v", variant, names, want)
		}
		value := func(name string) any { return tp.Outputs[name].(map[string]any)["Value"] }
		for name, want := range map[string]any{
			"EventsTableName":    ref(tp.id(t, "EventsTable/Resource")),
			"ViewsTableName":     ref(tp.id(t, "ViewsTable/Resource")),
			"DeadLetterQueueUrl": ref(tp.id(t, "DeadLetterQueue/Resource")),
		} {
			if !reflect.DeepEqual(value(name), want) {
				t.Errorf("%s output %s = %s, want %s", variant, name, show(value(name)), show(want))
			}
		}
		api := show(value("ApiUrl"))
		switch variant {
		case "default":
			if want := show(getAtt(tp.id(t, "HttpApi/Resource"), "ApiEndpoint")); api != want {
				t.Errorf("ApiUrl %s, want %s", api, want)
			}
		case "rest":
			// https://<id>.execute-api.<region>.<suffix>/prod, no trailing slash.
			for _, part := range []string{"https://", tp.id(t, "RestApi/Resource"), ".execute-api.", "AWS::Region", "AWS::URLSuffix", "/", tp.id(t, "RestApi/DeploymentStage.prod/Resource")} {
				if !strings.Contains(api, part) {
					t.Errorf("rest ApiUrl %s lacks %s", api, part)
				}
			}
		}
		check(t, variant+" HasOutput", func() {
			tp.T.HasOutput(jsii.String("EventsTableName"), map[string]any{"Value": ref(tp.id(t, "EventsTable/Resource"))})
		})
	}
}
