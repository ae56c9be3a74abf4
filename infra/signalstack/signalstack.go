// Package signalstack is the AWS deployment of Signal for Go as a CDK
// construct: the events and views tables, the command, query and projector
// functions, an API Gateway API (HTTP or REST), the projector's stream
// mapping with its dead-letter queue, alarms, and one least-privilege role
// per function; every API route behind the authorizer of Props.Auth (IAM
// by default), stage throttling and JSON access logs.
//
// The table definitions come from pkg/dynstore and the routes from
// pkg/httpapi, so the deployed tables and routes are the ones the code and
// its tests use. The functions are the app's own: prebuilt bootstraps
// (Props.CodeDir) or main packages of the app's module that New builds
// with the local go toolchain (Props.Build, GoBuild); the query function
// can take page routes beside the API (Props.PageRoutes).
//
// Permissions are explicit statements, never CDK grant helpers (which add
// actions the code does not call) and never managed policies:
//
//	command    events table: GetItem, Query, PutItem
//	query      events table: GetItem, Query; views table: GetItem
//	projector  events stream: DescribeStream, GetRecords, GetShardIterator;
//	           dynamodb:ListStreams on "*" (the one unscoped statement, see streamListStatement);
//	           events table: GetItem, Query (gap fill), PutItem (commands
//	           the app's policies send, and their snapshots);
//	           views table: GetItem, PutItem, DeleteItem, ConditionCheckItem
//	           (TransactWriteItems is authorized per contained action);
//	           dead-letter queue: sqs:SendMessage
//	each       its own log group: logs:CreateLogStream, logs:PutLogEvents
//
// TransactWriteItems (closing an aggregate, projection runs) needs no
// permission of its own: IAM checks the Put, Delete and ConditionCheck
// actions it contains. Scan and BatchWriteItem (dynstore's DropView, for
// rebuilding a view) are not granted: rebuilds run from an operator's
// machine (`signal` CLI), not from the functions.
package signalstack

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/httpapi"
)

// Function names: the directories under CodeDir and the construct ids.
const (
	CommandFunction   = "command"
	QueryFunction     = "query"
	ProjectorFunction = "projector"
)

// Output names of NewStack. The localstack scripts and the docs read them.
const (
	OutputAPIURL          = "ApiUrl"
	OutputEventsTableName = "EventsTableName"
	OutputViewsTableName  = "ViewsTableName"
	OutputDeadLetterQueue = "DeadLetterQueueUrl"
	// OutputExecuteARN (AuthIAM only): the resource of the
	// execute-api:Invoke statement a caller's IAM policy needs.
	OutputExecuteARN = "ApiExecuteArn"
	// OutputUserPoolID and OutputUserPoolClientID (AuthCognito with a
	// pool the stack created): where to create users and get tokens.
	OutputUserPoolID       = "UserPoolId"
	OutputUserPoolClientID = "UserPoolClientId"
)

// Signal is the construct: every resource of one deployment.
type Signal struct {
	constructs.Construct

	EventsTable, ViewsTable   awsdynamodb.Table
	Command, Query, Projector awslambda.Function
	// Policies hold each function's statements, by function name.
	Policies        map[string]awsiam.Policy
	StreamMapping   awslambda.CfnEventSourceMapping
	DeadLetterQueue awssqs.Queue
	HTTPAPI         awsapigatewayv2.HttpApi // nil unless API is HTTPAPI
	RESTAPI         awsapigateway.RestApi   // nil unless API is RESTAPI
	APIURL          *string                 // the API's base URL, without a trailing slash
	// ExecuteARN is the API's execute-api resource for a caller's
	// execute-api:Invoke (every route of the stage): what an IAM caller
	// needs with AuthIAM.
	ExecuteARN *string
	AccessLogs awslogs.LogGroup // the API's access log group
	// UserPool is the Cognito pool of AuthCognito (created or given), nil
	// otherwise; UserPoolClient its app client when the stack created it.
	UserPool       awscognito.IUserPool
	UserPoolClient awscognito.UserPoolClient
	Alarms         []awscloudwatch.Alarm
}

// Routes returns the API Gateway route keys ("POST /aggregates/{type}/{id}/{command}")
// each function serves, from pkg/httpapi: the query function gets the
// query routes and GET /healthz, the command function the command routes
// (GET /healthz is in both of httpapi's sets; an API has one route per key).
func Routes() (command, query []string) {
	query = httpapi.QueryRoutes.Patterns()
	for _, p := range httpapi.CommandRoutes.Patterns() {
		if !slices.Contains(query, p) {
			command = append(command, p)
		}
	}
	return command, query
}

// CommitFilterPattern is the event-source-mapping filter: only inserts of
// commit items reach the projector. It is pkg/dynstore's, so it always
// names what the store writes.
func CommitFilterPattern() string { return dynstore.StreamFilterPattern() }

// New creates the construct. Invalid props are an error before anything
// is created. The functions' code comes first: with Props.Build, New runs
// go build (an error carries the compiler's output); otherwise it checks
// that CodeDir holds every bootstrap (an error says what to run). Either
// failure is returned before any resource is declared, never a panic.
func New(scope constructs.Construct, id string, props *Props) (*Signal, error) {
	p, err := props.withDefaults()
	if err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	s := &Signal{Construct: c}
	code, err := codeDirs(c, &p)
	if err != nil {
		return nil, err
	}

	// Tables, from dynstore's definitions.
	s.EventsTable = newTable(c, "EventsTable", dynstore.EventsTableInput("events"), nil, &p)
	s.ViewsTable = newTable(c, "ViewsTable", dynstore.ViewsTableInput("views"), dynstore.ViewsTimeToLive("views"), &p)

	s.DeadLetterQueue = awssqs.NewQueue(c, jsii.String("DeadLetterQueue"), &awssqs.QueueProps{
		RetentionPeriod: seconds(p.DeadLetterRetention),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
	})

	env := map[string]*string{
		"EVENTS_TABLE": s.EventsTable.TableName(),
		"VIEWS_TABLE":  s.ViewsTable.TableName(),
	}
	if p.LogLevel != "" {
		env["LOG_LEVEL"] = jsii.String(strings.ToLower(p.LogLevel))
	}
	httpEnv := maps.Clone(env)
	if len(p.CORSOrigins) > 0 {
		httpEnv["CORS_ALLOW_ORIGINS"] = jsii.String(strings.Join(p.CORSOrigins, ","))
	}
	addClaimEnv(httpEnv, &p)

	events, stream := s.EventsTable.TableArn(), s.EventsTable.TableStreamArn()
	views, dlq := s.ViewsTable.TableArn(), s.DeadLetterQueue.QueueArn()

	var cmdPol, qryPol, prjPol awsiam.Policy
	var cmdLogs, qryLogs, prjLogs awslogs.LogGroup
	s.Command, cmdPol, cmdLogs = newFunction(c, "Command", CommandFunction, code[CommandFunction], &p, p.Command, httpEnv)
	s.Query, qryPol, qryLogs = newFunction(c, "Query", QueryFunction, code[QueryFunction], &p, p.Query, httpEnv)
	prjEnv := maps.Clone(env)
	prjEnv["DEAD_LETTER_QUEUE_URL"] = s.DeadLetterQueue.QueueUrl() // parked subscribers are reported there
	s.Projector, prjPol, prjLogs = newFunction(c, "Projector", ProjectorFunction, code[ProjectorFunction], &p, p.Projector, prjEnv)
	s.Policies = map[string]awsiam.Policy{CommandFunction: cmdPol, QueryFunction: qryPol, ProjectorFunction: prjPol}

	cmdPol.AddStatements(
		logStatement(cmdLogs),
		allow("EventsReadWrite", []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"}, events),
	)
	qryPol.AddStatements(
		logStatement(qryLogs),
		allow("EventsRead", []string{"dynamodb:GetItem", "dynamodb:Query"}, events),
		allow("ViewsRead", []string{"dynamodb:GetItem"}, views),
	)
	prjPol.AddStatements(
		logStatement(prjLogs),
		allow("StreamRead", []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}, stream),
		streamListStatement(),
		allow("EventsRead", []string{"dynamodb:GetItem", "dynamodb:Query"}, events),
		allow("PolicyCommands", []string{"dynamodb:PutItem"}, events),
		allow("ViewsWrite", []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"}, views),
		allow("DeadLetters", []string{"sqs:SendMessage"}, dlq),
	)

	s.StreamMapping = awslambda.NewCfnEventSourceMapping(c, jsii.String("ProjectorStream"), &awslambda.CfnEventSourceMappingProps{
		FunctionName:                   s.Projector.FunctionName(),
		EventSourceArn:                 stream,
		StartingPosition:               jsii.String("TRIM_HORIZON"),
		BatchSize:                      jsii.Number(p.BatchSize),
		MaximumBatchingWindowInSeconds: jsii.Number(p.MaxBatchingWindow.Seconds()),
		BisectBatchOnFunctionError:     jsii.Bool(true),
		MaximumRetryAttempts:           jsii.Number(p.RetryAttempts),
		MaximumRecordAgeInSeconds:      jsii.Number(p.MaxRecordAge.Seconds()),
		FunctionResponseTypes:          jsii.Strings("ReportBatchItemFailures"),
		FilterCriteria: &awslambda.CfnEventSourceMapping_FilterCriteriaProperty{
			Filters: &[]any{&awslambda.CfnEventSourceMapping_FilterProperty{Pattern: jsii.String(CommitFilterPattern())}},
		},
		DestinationConfig: &awslambda.CfnEventSourceMapping_DestinationConfigProperty{
			OnFailure: &awslambda.CfnEventSourceMapping_OnFailureProperty{Destination: dlq},
		},
	})
	// Lambda checks the role's stream permissions when it creates the
	// mapping: the policy must be attached first.
	s.StreamMapping.Node().AddDependency(prjPol)

	commandRoutes, queryRoutes := Routes()
	switch p.API {
	case HTTPAPI:
		s.newHTTPAPI(c, &p, commandRoutes, queryRoutes)
	case RESTAPI:
		s.newRESTAPI(c, &p, commandRoutes, queryRoutes)
	}
	warnIfOpen(c, &p)

	s.newAlarms(c, &p)
	return s, nil
}

// NewStack creates stack id holding the Signal construct (id "Signal") and
// the outputs ApiUrl, EventsTableName, ViewsTableName and DeadLetterQueueUrl
// (those exact logical ids), plus ApiExecuteArn with AuthIAM, and
// UserPoolId and UserPoolClientId when the stack creates a user pool. stackProps may be nil: the stack is then
// environment-agnostic, so `cdk synth` needs no AWS account.
func NewStack(scope constructs.Construct, id string, stackProps *awscdk.StackProps, props *Props) (awscdk.Stack, *Signal, error) {
	if _, err := props.withDefaults(); err != nil {
		return nil, nil, err
	}
	if stackProps == nil {
		stackProps = &awscdk.StackProps{}
	}
	if stackProps.Description == nil {
		stackProps.Description = jsii.String("Signal for Go: event store, command/query API and projector")
	}
	stack := awscdk.NewStack(scope, jsii.String(id), stackProps)
	s, err := New(stack, "Signal", props)
	if err != nil {
		return nil, nil, err
	}
	out := func(name, desc string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(name), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	out(OutputAPIURL, "Base URL of the API, without a trailing slash", s.APIURL)
	out(OutputEventsTableName, "Events table (EVENTS_TABLE)", s.EventsTable.TableName())
	out(OutputViewsTableName, "Views table (VIEWS_TABLE)", s.ViewsTable.TableName())
	out(OutputDeadLetterQueue, "Stream batches the projector gave up on", s.DeadLetterQueue.QueueUrl())
	if p, _ := props.withDefaults(); p.Auth == AuthIAM {
		out(OutputExecuteARN, "Resource for execute-api:Invoke in the IAM policy of a caller (SigV4)", s.ExecuteARN)
	}
	if s.UserPoolClient != nil {
		out(OutputUserPoolID, "Cognito user pool of the API's users", s.UserPool.UserPoolId())
		out(OutputUserPoolClientID, "App client id to get tokens with (InitiateAuth)", s.UserPoolClient.UserPoolClientId())
	}
	return stack, s, nil
}

// newTable declares a table from its dynstore definition: key schema,
// attribute types, billing mode, stream view type and time to live are
// read from in and ttl, so the deployed table is the table dynstore's
// tests run against.
func newTable(scope constructs.Construct, id string, in *dynamodb.CreateTableInput, ttl *dynamodb.UpdateTimeToLiveInput, p *Props) awsdynamodb.Table {
	attrType := map[string]awsdynamodb.AttributeType{}
	for _, a := range in.AttributeDefinitions {
		attrType[*a.AttributeName] = map[types.ScalarAttributeType]awsdynamodb.AttributeType{
			types.ScalarAttributeTypeS: awsdynamodb.AttributeType_STRING,
			types.ScalarAttributeTypeN: awsdynamodb.AttributeType_NUMBER,
			types.ScalarAttributeTypeB: awsdynamodb.AttributeType_BINARY,
		}[a.AttributeType]
	}
	props := &awsdynamodb.TableProps{
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		RemovalPolicy:                    p.RemovalPolicy,
		DeletionProtection:               jsii.Bool(p.DeletionProtection),
	}
	for _, k := range in.KeySchema {
		attr := &awsdynamodb.Attribute{Name: k.AttributeName, Type: attrType[*k.AttributeName]}
		if attr.Type == "" {
			panic(fmt.Sprintf("signalstack: %s: key %s has no attribute definition", id, *k.AttributeName))
		}
		switch k.KeyType {
		case types.KeyTypeHash:
			props.PartitionKey = attr
		case types.KeyTypeRange:
			props.SortKey = attr
		}
	}
	switch {
	case p.Capacity != nil:
		props.BillingMode = awsdynamodb.BillingMode_PROVISIONED
		props.ReadCapacity = jsii.Number(p.Capacity.ReadUnits)
		props.WriteCapacity = jsii.Number(p.Capacity.WriteUnits)
	case in.BillingMode == types.BillingModePayPerRequest:
		props.BillingMode = awsdynamodb.BillingMode_PAY_PER_REQUEST
	default:
		props.BillingMode = awsdynamodb.BillingMode_PROVISIONED
	}
	if ttl != nil && aws.ToBool(ttl.TimeToLiveSpecification.Enabled) {
		props.TimeToLiveAttribute = ttl.TimeToLiveSpecification.AttributeName
	}
	if st := in.StreamSpecification; st != nil && st.StreamEnabled != nil && *st.StreamEnabled {
		props.Stream = map[types.StreamViewType]awsdynamodb.StreamViewType{
			types.StreamViewTypeNewImage:        awsdynamodb.StreamViewType_NEW_IMAGE,
			types.StreamViewTypeNewAndOldImages: awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES,
			types.StreamViewTypeOldImage:        awsdynamodb.StreamViewType_OLD_IMAGE,
			types.StreamViewTypeKeysOnly:        awsdynamodb.StreamViewType_KEYS_ONLY,
		}[st.StreamViewType]
	}
	return awsdynamodb.NewTable(scope, jsii.String(id), props)
}

// newFunction creates a function with its code from codeDir, its own role
// (no managed policy), its own log group and an empty policy for the
// caller to fill. The function depends on the policy, so it never runs
// without it. env is the construct's variables; o's Environment adds to
// them (withDefaults refused any overlap).
func newFunction(scope constructs.Construct, id, name, codeDir string, p *Props, o FunctionOptions, env map[string]*string) (awslambda.Function, awsiam.Policy, awslogs.LogGroup) {
	role := awsiam.NewRole(scope, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Signal " + name + " function"),
	})
	policy := awsiam.NewPolicy(scope, jsii.String(id+"Policy"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
	})
	logs := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention: p.LogRetention,
	})
	arch := awslambda.Architecture_ARM_64()
	if p.Arch == "amd64" {
		arch = awslambda.Architecture_X86_64()
	}
	env = maps.Clone(env)
	for k, v := range o.Environment {
		env[k] = jsii.String(v)
	}
	var fnName *string
	if o.Name != "" {
		fnName = jsii.String(o.Name)
	}
	var reserved *float64
	if o.ReservedConcurrency > 0 {
		reserved = jsii.Number(o.ReservedConcurrency)
	}
	fn := awslambda.NewFunction(scope, jsii.String(id), &awslambda.FunctionProps{
		FunctionName: fnName,
		Description:  jsii.String(o.description(name)),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(codeDir), nil),
		Architecture: arch,
		MemorySize:   jsii.Number(o.MemoryMB),
		Timeout:      seconds(o.Timeout),
		Environment:  &env,
		Role:         role,
		LogGroup:     logs,

		ReservedConcurrentExecutions: reserved,
	})

	fn.Node().AddDependency(policy)
	return fn, policy, logs
}

// allow is an Allow statement with a Sid, so the synthesized policy reads
// like the table in the package comment.
func allow(sid string, actions []string, resources ...*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	})
}

// logStatement lets a function write to its own log group only. The log
// group exists before the function (CloudFormation creates it), so
// logs:CreateLogGroup is not needed; the group's Arn attribute ends in
// ":*", which covers its log streams.
func logStatement(g awslogs.LogGroup) awsiam.PolicyStatement {
	return allow("Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, g.LogGroupArn())
}

// streamListStatement is the one statement with Resource "*". Lambda's
// event source mapping needs dynamodb:ListStreams in the function's role
// (the Lambda developer guide lists DescribeStream, GetRecords,
// GetShardIterator and ListStreams, and Lambda's permission error names all
// four), and ListStreams supports no resource-level permissions (the
// Service Authorization Reference gives it no resource type, which is why
// the CDK's own grantStreamRead grants it on "*"). It only lists stream
// ARNs: it reads no data.
func streamListStatement() awsiam.PolicyStatement {
	return allow("StreamList", []string{"dynamodb:ListStreams"}, jsii.String("*"))
}

// newHTTPAPI routes each pattern to its function: an HTTP API with Lambda
// proxy integrations (payload format 2.0) and the $default stage, with
// throttling and access logs. API routes take the authorizer of p.Auth;
// page routes (to the query function too) and the preflight route are
// public.
func (s *Signal) newHTTPAPI(scope constructs.Construct, p *Props, commandRoutes, queryRoutes []string) {
	api := awsapigatewayv2.NewHttpApi(scope, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		ApiName:     awscdk.Stack_Of(scope).StackName(),
		Description: jsii.String("Signal for Go command and query API"),
	})
	opts := &awsapigatewayv2integrations.HttpLambdaIntegrationProps{PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0()}
	cmd := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("CommandIntegration"), s.Command, opts)
	qry := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("QueryIntegration"), s.Query, opts)
	auth, public := s.httpAuthorizer(scope, p), awsapigatewayv2.NewHttpNoneAuthorizer()
	add := func(pattern string, in awsapigatewayv2.HttpRouteIntegration, by awsapigatewayv2.IHttpRouteAuthorizer) {
		method, path, _ := strings.Cut(pattern, " ")
		api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(method)},
			Integration: in,
			Authorizer:  by,
		})
	}
	for _, r := range commandRoutes {
		add(r, cmd, auth)
	}
	for _, r := range queryRoutes {
		add(r, qry, auth)
	}
	for _, r := range p.PageRoutes {
		add(r, qry, public)
	}
	if len(p.CORSOrigins) > 0 {
		// The command function's preflight answer allows GET, POST, DELETE.
		// Browsers send preflights without credentials: they stay public,
		// and the function answers them without touching any data.
		add("OPTIONS /{proxy+}", cmd, public)
	}
	s.AccessLogs = newAccessLogs(scope, p)
	configureHTTPStage(api, s.AccessLogs, p)
	s.HTTPAPI = api
	s.APIURL = api.ApiEndpoint()
	s.ExecuteARN = api.ArnForExecuteApi(nil, nil, nil)
}

// newRESTAPI declares a REST API with a resource per path segment and a
// method per route, each a Lambda proxy integration, deployed to stage
// "prod" with throttling and access logs. API methods take the
// authorization of p.Auth; page methods (to the query function, without
// preflights: a page is navigated to, not fetched cross-origin) and
// preflights are public. The account-level CloudWatch role only with
// p.RESTLogRole (it is account-wide state).
func (s *Signal) newRESTAPI(scope constructs.Construct, p *Props, commandRoutes, queryRoutes []string) {
	s.AccessLogs = newAccessLogs(scope, p)
	api := awsapigateway.NewRestApi(scope, jsii.String("RestApi"), &awsapigateway.RestApiProps{
		RestApiName:    awscdk.Stack_Of(scope).StackName(),
		Description:    jsii.String("Signal for Go command and query API"),
		EndpointTypes:  &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		CloudWatchRole: jsii.Bool(p.RESTLogRole),
		DeployOptions:  restStageOptions(s.AccessLogs, p),
	})
	opts := &awsapigateway.LambdaIntegrationOptions{Proxy: jsii.Bool(true), AllowTestInvoke: jsii.Bool(false)}
	cmd := awsapigateway.NewLambdaIntegration(s.Command, opts)
	qry := awsapigateway.NewLambdaIntegration(s.Query, opts)
	auth := s.restMethodOptions(scope, p)
	add := func(pattern string, in awsapigateway.Integration, by *awsapigateway.MethodOptions) {
		method, path, _ := strings.Cut(pattern, " ")
		api.Root().ResourceForPath(jsii.String(path)).AddMethod(jsii.String(method), in, by)
	}
	var paths []string
	for _, r := range commandRoutes {
		add(r, cmd, auth)
		paths = append(paths, strings.SplitN(r, " ", 2)[1])
	}
	for _, r := range queryRoutes {
		add(r, qry, auth)
		paths = append(paths, strings.SplitN(r, " ", 2)[1])
	}
	for _, r := range p.PageRoutes {
		add(r, qry, publicMethod())
	}
	if len(p.CORSOrigins) > 0 {
		slices.Sort(paths)
		for _, path := range slices.Compact(paths) {
			add("OPTIONS "+path, cmd, publicMethod())
		}
	}
	// RestApi adds an output of its own ("Endpoint", with a trailing
	// slash); the stack has ApiUrl instead.
	api.Node().TryRemoveChild(jsii.String("Endpoint"))
	s.RESTAPI = api
	stack := awscdk.Stack_Of(scope)
	s.APIURL = awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("https://"), api.RestApiId(), jsii.String(".execute-api."), stack.Region(),
		jsii.String("."), stack.UrlSuffix(), jsii.String("/"), api.DeploymentStage().StageName(),
	})
	s.ExecuteARN = api.ArnForExecuteApi(nil, nil, api.DeploymentStage().StageName())
}

// newAlarms: the projector falling behind, errors of each function, and
// anything in the dead-letter queue. Missing data (no traffic) is fine.
func (s *Signal) newAlarms(scope constructs.Construct, p *Props) {
	add := func(id, desc string, metric awscloudwatch.IMetric, threshold float64, periods int, op awscloudwatch.ComparisonOperator) {
		a := awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(desc),
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(periods),
			ComparisonOperator: op,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		for _, action := range p.AlarmActions {
			a.AddAlarmAction(action)
		}
		s.Alarms = append(s.Alarms, a)
	}
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	add("ProjectorIteratorAgeAlarm",
		fmt.Sprintf("The projector is more than %g s behind the events table (IteratorAge, Maximum) for 5 minutes", p.IteratorAgeThreshold.Seconds()),
		awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String("AWS/Lambda"),
			MetricName:    jsii.String("IteratorAge"),
			DimensionsMap: &map[string]*string{"FunctionName": s.Projector.FunctionName()},
			Statistic:     jsii.String("Maximum"),
			Period:        minute,
		}),
		float64(p.IteratorAgeThreshold.Milliseconds()), 5, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD)
	for _, f := range []struct {
		id string
		fn awslambda.Function
	}{{"Command", s.Command}, {"Query", s.Query}, {"Projector", s.Projector}} {
		add(f.id+"ErrorsAlarm", "The "+strings.ToLower(f.id)+" function failed (Errors >= 1 in 5 minutes)",
			f.fn.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5))}),
			1, 1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
	}
	add("DeadLetterQueueAlarm", "The projector gave up on stream records: they are in the dead-letter queue",
		s.DeadLetterQueue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: minute}),
		0, 1, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD)
}

func seconds(d interface{ Seconds() float64 }) awscdk.Duration {
	return awscdk.Duration_Seconds(jsii.Number(d.Seconds()))
}
