package signalstack

import (
	"encoding/json"
	"maps"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// accessLogFields are the API Gateway context variables of one access log
// line, by JSON key, common to both API kinds. The caller is "sub" (a
// JWT or Cognito subject) or "userArn" (a SigV4 caller); API Gateway
// writes "-" for what a request lacks.
var accessLogFields = map[string]string{
	"requestId":      "$context.requestId",
	"ip":             "$context.identity.sourceIp",
	"userAgent":      "$context.identity.userAgent",
	"requestTime":    "$context.requestTimeEpoch",
	"method":         "$context.httpMethod",
	"path":           "$context.path",
	"status":         "$context.status",
	"responseLength": "$context.responseLength",
	"latencyMs":      "$context.responseLatency",
	"sub":            "$context.authorizer.claims.sub",
	"userArn":        "$context.identity.userArn",
}

// accessLogFormat is the JSON line format of the API kind: the common
// fields plus the HTTP API's route key and error messages, or the REST
// API's resource path and error message.
func accessLogFormat(kind APIKind) string {
	f := maps.Clone(accessLogFields)
	switch kind {
	case HTTPAPI:
		f["routeKey"] = "$context.routeKey"
		f["error"] = "$context.error.message"
		f["integrationError"] = "$context.integrationErrorMessage"
		f["authorizerError"] = "$context.authorizer.error"
	case RESTAPI:
		f["resourcePath"] = "$context.resourcePath"
		f["error"] = "$context.error.message"
		f["integrationError"] = "$context.integration.error"
	}
	b, err := json.Marshal(f) // sorted keys: a stable template
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return string(b)
}

// checkStage fills the stage defaults (throttling, access log
// retention) and reports what is invalid through bad.
func checkStage(p *Props, bad func(string, ...any)) {
	if p.ThrottleRate == 0 {
		p.ThrottleRate = DefaultThrottleRate
	}
	if p.ThrottleBurst == 0 {
		p.ThrottleBurst = DefaultThrottleBurst
	}
	if p.ThrottleRate < 0 {
		bad("ThrottleRate %g: want a positive rate (requests per second)", p.ThrottleRate)
	}
	if p.ThrottleBurst < 0 {
		bad("ThrottleBurst %d: want a positive burst (requests)", p.ThrottleBurst)
	}
	if p.AccessLogRetention == "" {
		p.AccessLogRetention = DefaultLogRetention
	}
	if p.RESTLogRole && p.API != RESTAPI {
		bad("RESTLogRole: only with the REST API (an HTTP API logs through API Gateway's service-linked role)")
	}
}

// newAccessLogs is the API's access log group, with its own retention.
func newAccessLogs(scope constructs.Construct, p *Props) awslogs.LogGroup {
	return awslogs.NewLogGroup(scope, jsii.String("AccessLogs"), &awslogs.LogGroupProps{Retention: p.AccessLogRetention})
}

// configureHTTPStage sets throttling and access logs on the HTTP API's
// $default stage in place (its logical id stays, so an update does not
// replace the stage). The HTTP API writes access logs through API
// Gateway's service-linked role: no account setting is needed.
func configureHTTPStage(api awsapigatewayv2.HttpApi, logs awslogs.LogGroup, p *Props) {
	stage := api.DefaultStage().Node().DefaultChild().(awsapigatewayv2.CfnStage)
	stage.SetDefaultRouteSettings(&awsapigatewayv2.CfnStage_RouteSettingsProperty{
		ThrottlingRateLimit:  jsii.Number(p.ThrottleRate),
		ThrottlingBurstLimit: jsii.Number(p.ThrottleBurst),
	})
	stage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: logs.LogGroupArn(),
		Format:         jsii.String(accessLogFormat(HTTPAPI)),
	})
}

// restStageOptions: stage "prod" with throttling on every method and
// access logs. A REST API writes them with the account's API Gateway
// CloudWatch role (Props.RESTLogRole).
func restStageOptions(logs awslogs.LogGroup, p *Props) *awsapigateway.StageOptions {
	return &awsapigateway.StageOptions{
		StageName:            jsii.String("prod"),
		ThrottlingRateLimit:  jsii.Number(p.ThrottleRate),
		ThrottlingBurstLimit: jsii.Number(p.ThrottleBurst),
		AccessLogDestination: awsapigateway.NewLogGroupLogDestination(logs),
		AccessLogFormat:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat(RESTAPI))),
	}
}
