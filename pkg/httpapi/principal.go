package httpapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/signalforgo/signal/pkg/signal"
)

// The caller of a Lambda event is what API Gateway or the function URL
// verified and wrote into the event's request context: a JWT or Cognito
// authorizer's claims, an IAM (SigV4) caller, a Lambda authorizer's
// context. The function trusts it as it is, and never reads or verifies
// a token (an Authorization header) itself: only the gateway could, and
// what reaches the function has passed it. One function per source.

// AuthConfig says how the Lambda adapters turn a verified caller into a
// signal.Principal (Config.Auth).
type AuthConfig struct {
	// TenantClaim names the claim that holds the caller's tenant
	// (Principal.Tenant), e.g. "custom:tenant"; for IAM callers one of
	// "accountId" or "principalOrgId". Empty: no tenant.
	TenantClaim string
	// GroupsClaim names the claim that holds the caller's groups
	// (Principal.Groups). Empty means DefaultGroupsClaim.
	GroupsClaim string
}

// DefaultGroupsClaim is the groups claim when AuthConfig.GroupsClaim is
// empty: the groups of a Cognito user pool's tokens.
const DefaultGroupsClaim = "cognito:groups"

// principalV2 is the caller of an HTTP API (payload 2.0) request: its JWT
// authorizer's claims and scopes, its IAM caller, or its Lambda
// authorizer's context; nil for a route without an authorizer.
func (a AuthConfig) principalV2(az *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) *signal.Principal {
	switch {
	case az == nil:
		return nil
	case az.JWT != nil:
		return a.fromClaims(az.JWT.Claims, az.JWT.Claims["sub"], az.JWT.Scopes)
	case az.IAM != nil:
		i := az.IAM
		return a.fromIAM(i.UserARN, map[string]string{"accountId": i.AccountID, "callerId": i.CallerID,
			"principalOrgId": i.PrincipalOrgID, "userId": i.UserID,
			"cognitoIdentityId": i.CognitoIdentity.IdentityID, "cognitoIdentityPoolId": i.CognitoIdentity.IdentityPoolID})
	case az.Lambda != nil:
		return a.fromLambda(az.Lambda)
	}
	return nil
}

// principalV1 is the caller of a REST API (or payload 1.0) request: a
// Cognito user pool (or JWT) authorizer's "claims", a Lambda authorizer's
// principalId and context, or else the IAM caller in the identity; nil
// when there is none of them.
func (a AuthConfig) principalV1(rc *events.APIGatewayProxyRequestContext) *signal.Principal {
	az := rc.Authorizer
	if claims, ok := az["claims"].(map[string]any); ok {
		c := stringClaims(claims)
		return a.fromClaims(c, c["sub"], anyStrings(az["scopes"]))
	}
	if lambda, ok := az["lambda"].(map[string]any); ok {
		return a.fromLambda(lambda)
	}
	if az["principalId"] != nil || az["sub"] != nil {
		return a.fromLambda(az)
	}
	id := rc.Identity
	return a.fromIAM(id.UserArn, map[string]string{"accountId": id.AccountID, "caller": id.Caller,
		"user": id.User, "cognitoIdentityId": id.CognitoIdentityID, "cognitoIdentityPoolId": id.CognitoIdentityPoolID})
}

// principalFunctionURL is the caller of a function URL request: its IAM
// caller when the URL's AuthType is AWS_IAM; nil when it is NONE.
func (a AuthConfig) principalFunctionURL(az *events.LambdaFunctionURLRequestContextAuthorizerDescription) *signal.Principal {
	if az == nil || az.IAM == nil {
		return nil
	}
	i := az.IAM
	return a.fromIAM(i.UserARN, map[string]string{"accountId": i.AccountID, "callerId": i.CallerID, "userId": i.UserID})
}

// fromClaims is the principal of verified claims whose subject is sub:
// the issuer from "iss", the scopes from "scope" or "scp" (and scopes, as
// the authorizer lists them), the groups and tenant from their
// configured claims. No subject, no principal: a caller everyone could
// be (as "", the owner of what was created anonymously) is no caller.
func (a AuthConfig) fromClaims(claims map[string]string, sub string, scopes []string) *signal.Principal {
	if sub == "" {
		return nil
	}
	p := &signal.Principal{Subject: sub, Issuer: claims["iss"], Claims: claims}
	for _, s := range append(claimList(claims["scope"], ' '), append(claimList(claims["scp"], ' '), scopes...)...) {
		if s != "" && !slices.Contains(p.Scopes, s) {
			p.Scopes = append(p.Scopes, s)
		}
	}
	groups := a.GroupsClaim
	if groups == "" {
		groups = DefaultGroupsClaim
	}
	p.Groups = claimList(claims[groups], ',')
	if a.TenantClaim != "" {
		p.Tenant = claims[a.TenantClaim]
	}
	return p
}

// fromIAM is the principal of an IAM (SigV4) caller: its ARN as the
// subject, facts (the account, the caller id) as claims, the empty ones
// left out; nil without an ARN (no IAM auth on the route).
func (a AuthConfig) fromIAM(arn string, facts map[string]string) *signal.Principal {
	if arn == "" {
		return nil
	}
	claims := map[string]string{"userArn": arn}
	for k, v := range facts {
		if v != "" {
			claims[k] = v
		}
	}
	return a.fromClaims(claims, arn, nil)
}

// fromLambda is the principal of a Lambda authorizer's context: its "sub"
// as the subject, else its principalId (REST APIs add it), every key a
// claim (numbers and booleans in their JSON form).
func (a AuthConfig) fromLambda(ctx map[string]any) *signal.Principal {
	claims := stringClaims(ctx)
	delete(claims, "integrationLatency") // API Gateway's timing, not the authorizer's
	sub := claims["sub"]
	if sub == "" {
		sub = claims["principalId"]
	}
	return a.fromClaims(claims, sub, nil)
}

// stringClaims is a JSON object's members as strings: a string as it is,
// a list as API Gateway writes array claims ("[a b]"), anything else in
// its JSON form; null members are left out.
func stringClaims(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case nil:
		case string:
			out[k] = v
		case []any:
			parts := make([]string, len(v))
			for i, e := range v {
				parts[i] = fmt.Sprint(e)
			}
			out[k] = "[" + strings.Join(parts, " ") + "]"
		default:
			b, err := json.Marshal(v)
			if err == nil {
				out[k] = string(b)
			}
		}
	}
	return out
}

// claimList splits a claim holding a list: API Gateway's form of an
// array claim, "[a b c]" (HTTP API JWT authorizers), a JSON array
// (`["a","b"]`), or a plain string split on sep (Cognito authorizers of
// REST APIs join groups with commas; OAuth joins scopes with spaces).
// Empty items are dropped; "" is no list.
func claimList(s string, sep rune) []string {
	s = strings.TrimSpace(s)
	var items []string
	switch {
	case s == "":
		return nil
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		if json.Unmarshal([]byte(s), &items) == nil {
			break
		}
		items = strings.FieldsFunc(s[1:len(s)-1], func(r rune) bool { return r == ' ' || r == ',' })
	default:
		items = strings.FieldsFunc(s, func(r rune) bool { return r == sep || (sep == ' ' && r == '\t') })
	}
	out := items[:0]
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// anyStrings is a JSON array of strings (a payload 1.0 authorizer's
// "scopes"); nil for anything else.
func anyStrings(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
