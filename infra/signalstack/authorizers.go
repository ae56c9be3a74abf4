package signalstack

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// httpAuthorizer is the authorizer of every API route of the HTTP API,
// for p.Auth (checkAuth accepted the combination).
func (s *Signal) httpAuthorizer(scope constructs.Construct, p *Props) awsapigatewayv2.IHttpRouteAuthorizer {
	switch p.Auth {
	case AuthJWT:
		return awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("JwtAuthorizer"), jsii.String(p.JWTIssuer),
			&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(p.JWTAudiences...)})
	case AuthCognito:
		clients, region := s.userPool(scope, p)
		return awsapigatewayv2authorizers.NewHttpUserPoolAuthorizer(jsii.String("UserPoolAuthorizer"), s.UserPool,
			&awsapigatewayv2authorizers.HttpUserPoolAuthorizerProps{UserPoolClients: &clients, UserPoolRegion: region})
	case AuthNone:
		return awsapigatewayv2.NewHttpNoneAuthorizer()
	}
	return awsapigatewayv2authorizers.NewHttpIamAuthorizer()
}

// restMethodOptions are the options of every API method of the REST API,
// for p.Auth (checkAuth refused jwt there).
func (s *Signal) restMethodOptions(scope constructs.Construct, p *Props) *awsapigateway.MethodOptions {
	switch p.Auth {
	case AuthCognito:
		s.userPool(scope, p)
		a := awsapigateway.NewCognitoUserPoolsAuthorizer(scope, jsii.String("UserPoolAuthorizer"), &awsapigateway.CognitoUserPoolsAuthorizerProps{
			CognitoUserPools: &[]awscognito.IUserPool{s.UserPool},
		})
		return &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_COGNITO, Authorizer: a}
	case AuthNone:
		return publicMethod()
	}
	return &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_IAM}
}

// publicMethod: the options of a REST method anyone may call (page
// routes, preflights, every method with AuthNone).
func publicMethod() *awsapigateway.MethodOptions {
	return &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_NONE}
}

// userPool sets s.UserPool: the pool of p.UserPoolARN, or one the stack
// creates with an app client (s.UserPoolClient). It returns the app
// clients an HTTP API authorizer accepts (the created one, or
// p.JWTAudiences of a given pool) and the pool's region (nil: the
// stack's).
func (s *Signal) userPool(scope constructs.Construct, p *Props) (clients []awscognito.IUserPoolClient, region *string) {
	if p.UserPoolARN != "" {
		r, _, _ := userPool(p.UserPoolARN)
		s.UserPool = awscognito.UserPool_FromUserPoolArn(scope, jsii.String("UserPool"), jsii.String(p.UserPoolARN))
		for i, id := range p.JWTAudiences {
			clients = append(clients, awscognito.UserPoolClient_FromUserPoolClientId(scope, jsii.String("UserPoolClient"+strconv.Itoa(i)), jsii.String(id)))
		}
		return clients, jsii.String(r)
	}
	// Users are created by an administrator (no self sign-up); sign-in
	// by email. The client has no secret (a CLI or browser holds it) and
	// no OAuth flows: tokens come from InitiateAuth (USER_PASSWORD_AUTH
	// or SRP), see infra/README.md.
	pool := awscognito.NewUserPool(scope, jsii.String("UserPool"), &awscognito.UserPoolProps{
		SelfSignUpEnabled:  jsii.Bool(false),
		SignInAliases:      &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AccountRecovery:    awscognito.AccountRecovery_EMAIL_ONLY,
		RemovalPolicy:      p.RemovalPolicy,
		DeletionProtection: jsii.Bool(p.DeletionProtection),
	})
	s.UserPool = pool
	s.UserPoolClient = pool.AddClient(jsii.String("UserPoolClient"), &awscognito.UserPoolClientOptions{
		AuthFlows:                  &awscognito.AuthFlow{UserPassword: jsii.Bool(true), UserSrp: jsii.Bool(true)},
		GenerateSecret:             jsii.Bool(false),
		DisableOAuth:               jsii.Bool(true),
		PreventUserExistenceErrors: jsii.Bool(true),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
	})
	return []awscognito.IUserPoolClient{s.UserPoolClient}, nil
}

// addClaimEnv passes the claim names to the functions that take requests
// (the transport reads the principal's tenant and groups from them); an
// empty name sets nothing, leaving the functions' defaults.
func addClaimEnv(env map[string]*string, p *Props) {
	if p.TenantClaim != "" {
		env["AUTH_TENANT_CLAIM"] = jsii.String(p.TenantClaim)
	}
	if p.GroupsClaim != "" {
		env["AUTH_GROUPS_CLAIM"] = jsii.String(p.GroupsClaim)
	}
}

// warnIfOpen puts the AuthNone warning on the stack: the CDK CLI prints
// it at synth and deploy (main.go prints it when run alone).
func warnIfOpen(c constructs.Construct, p *Props) {
	if p.Auth != AuthNone {
		return
	}
	awscdk.Annotations_Of(awscdk.Stack_Of(c)).AddWarningV2(jsii.String(AuthNoneWarning), jsii.String(
		"Auth is none: every route of the API is open to anyone on the internet, "+
			"who can read and change every aggregate and view. Use iam (the default), jwt or cognito for a real deployment."), nil)
}
