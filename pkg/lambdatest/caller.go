package lambdatest

import (
	"errors"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// A request's caller is what API Gateway writes into an event's request
// context once its authorizer has verified the caller: a function behind
// an authorizer trusts it as it is. HTTPRequest.Claims and .IAM write it
// the same way, with nothing to verify: no token is made or signed, so a
// test can be any caller, and an event without them is an anonymous call
// (a route without an authorizer, or a test of what the function does
// when the gateway lets one through).

// IAMCaller is a caller that signed its request with AWS credentials
// (SigV4), as an IAM authorizer writes it into the event.
type IAMCaller struct {
	// UserARN is the caller's ARN, e.g. "arn:aws:iam::111122223333:user/ci"
	// or an assumed role's session ARN.
	UserARN string
	// AccountID is the caller's AWS account.
	AccountID string
	// CallerID and UserID are the caller's principal ids (AIDA..., or
	// AROA...:session for a role).
	CallerID, UserID string
	// AccessKey is the access key id the request was signed with.
	AccessKey string
	// PrincipalOrgID is the caller's AWS Organizations id; HTTP API events
	// only (a REST API's identity has no such field).
	PrincipalOrgID string
}

// errTwoCallers refuses a request with both Claims and IAM: a route has
// one authorizer, so a real event never carries both.
var errTwoCallers = errors.New("lambdatest: a request has one caller: set Claims or IAM, not both")

// v2Authorizer is the HTTP API event's requestContext.authorizer: a JWT
// authorizer's claims, with the scopes it lists (the "scope" claim split
// on spaces), or an IAM authorizer's caller; nil for neither.
func (r HTTPRequest) v2Authorizer() *events.APIGatewayV2HTTPRequestContextAuthorizerDescription {
	switch {
	case r.Claims != nil:
		claims := make(map[string]string, len(r.Claims))
		for k, v := range r.Claims {
			claims[k] = v
		}
		return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: strings.Fields(claims["scope"])},
		}
	case r.IAM != nil:
		i := r.IAM
		return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
				AccessKey: i.AccessKey, AccountID: i.AccountID, CallerID: i.CallerID,
				PrincipalOrgID: i.PrincipalOrgID, UserARN: i.UserARN, UserID: i.UserID,
			},
		}
	}
	return nil
}

// v1Authorizer is the REST API event's requestContext.authorizer: a
// Cognito user pool authorizer's {"claims": {...}} (every value a
// string, as that authorizer sends them); nil without Claims.
func (r HTTPRequest) v1Authorizer() map[string]any {
	if r.Claims == nil {
		return nil
	}
	claims := make(map[string]any, len(r.Claims))
	for k, v := range r.Claims {
		claims[k] = v
	}
	return map[string]any{"claims": claims}
}

// v1Identity is the REST API event's requestContext.identity: the source
// address and user agent of every request, and the IAM caller's fields
// when IAM is set (AWS_IAM authorization writes them there).
func (r HTTPRequest) v1Identity(userAgent string) events.APIGatewayRequestIdentity {
	id := events.APIGatewayRequestIdentity{SourceIP: "127.0.0.1", UserAgent: userAgent}
	if i := r.IAM; i != nil {
		id.UserArn, id.AccountID, id.Caller, id.User, id.AccessKey = i.UserARN, i.AccountID, i.CallerID, i.UserID, i.AccessKey
	}
	return id
}
