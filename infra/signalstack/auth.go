package signalstack

import (
	"net/url"
	"regexp"
	"strings"
)

// AuthMode is who may call the API's routes. Every route of the API takes
// the mode's authorizer; the exceptions are the page routes (static
// pages, see Props.PageRoutes) and CORS preflights, which stay public.
type AuthMode string

const (
	// AuthIAM (the default): callers sign requests with SigV4 and need
	// execute-api:Invoke on the API (output ApiExecuteArn). HTTP API:
	// AWS_IAM routes; REST API: AWS_IAM methods. It is the default
	// because it leaves no route open and needs nothing outside the
	// stack: no token issuer, no user pool.
	AuthIAM AuthMode = "iam"
	// AuthJWT: an HTTP API JWT authorizer that accepts tokens of
	// JWTIssuer for one of JWTAudiences (the "aud", or else "client_id",
	// claim). HTTP API only: a REST API has no JWT authorizer.
	AuthJWT AuthMode = "jwt"
	// AuthCognito: a Cognito user pool checks the token. With
	// UserPoolARN empty the stack creates the pool and an app client
	// (outputs UserPoolId, UserPoolClientId). HTTP API: a JWT authorizer
	// on the pool, for the created client or, with a given pool, for the
	// client ids in JWTAudiences (required then). REST API: a Cognito
	// user pools authorizer, which takes the ID token of any client of
	// the pool (JWTAudiences must be empty).
	AuthCognito AuthMode = "cognito"
	// AuthNone leaves every route open to anyone. Only when asked for:
	// the stack then carries a synth warning.
	AuthNone AuthMode = "none"
)

// AuthNoneWarning is the warning id on a stack synthesized with AuthNone.
const AuthNoneWarning = "signalstack:authNone"

// userPoolARNRE is a user pool ARN: partition, region, account, and a
// pool id that starts with its region.
var userPoolARNRE = regexp.MustCompile(`^arn:aws(-[a-z]+)*:cognito-idp:([a-z]{2}(-[a-z]+)+-\d):(\d{12}):userpool/(([a-z]{2}(-[a-z]+)+-\d)_[0-9A-Za-z]+)$`)

// userPool splits a valid user pool ARN into its region and pool id; ok
// is false for anything else (then New would deploy an authorizer no
// token can pass).
func userPool(arn string) (region, id string, ok bool) {
	m := userPoolARNRE.FindStringSubmatch(arn)
	if m == nil || m[6] != m[2] {
		return "", "", false
	}
	return m[2], m[5], true
}

// checkAuth fills the default mode and reports through bad every auth
// field that does not fit the mode and API kind: a bad combination is an
// error of New, not a stack that deploys open or never deploys.
func checkAuth(p *Props, bad func(string, ...any)) {
	switch p.Auth {
	case "":
		p.Auth = AuthIAM
	case AuthIAM, AuthJWT, AuthCognito, AuthNone:
	default:
		bad("Auth %q: want iam, jwt, cognito or none", p.Auth)
		return
	}
	if p.Auth != AuthJWT && p.JWTIssuer != "" {
		bad("JWTIssuer %q: only with Auth jwt (Auth is %s)", p.JWTIssuer, p.Auth)
	}
	if p.Auth != AuthCognito && p.UserPoolARN != "" {
		bad("UserPoolARN %q: only with Auth cognito (Auth is %s)", p.UserPoolARN, p.Auth)
	}
	for _, a := range p.JWTAudiences {
		if a == "" || strings.ContainsAny(a, " ,") {
			bad("JWTAudiences %q: want a non-empty audience or client id without spaces or commas", a)
		}
	}
	switch p.Auth {
	case AuthIAM, AuthNone:
		if len(p.JWTAudiences) > 0 {
			bad("JWTAudiences %v: only with Auth jwt or cognito (Auth is %s)", p.JWTAudiences, p.Auth)
		}
	case AuthJWT:
		checkJWT(p, bad)
	case AuthCognito:
		checkCognito(p, bad)
	}
	for _, c := range [][2]string{{"TenantClaim", p.TenantClaim}, {"GroupsClaim", p.GroupsClaim}} {
		if strings.ContainsAny(c[1], " \t\n,") {
			bad("%s %q: want a claim name without spaces or commas", c[0], c[1])
		}
	}
}

// checkJWT: an HTTP API, an https issuer and at least one audience (an
// authorizer without one would take any token the issuer signs).
func checkJWT(p *Props, bad func(string, ...any)) {
	if p.API == RESTAPI {
		bad("Auth jwt: a REST API has no JWT authorizer; use cognito or iam, or the HTTP API")
	}
	if u, err := url.Parse(p.JWTIssuer); p.JWTIssuer == "" || err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("JWTIssuer %q: Auth jwt needs the issuer's https URL (the tokens' iss claim)", p.JWTIssuer)
	}
	if len(p.JWTAudiences) == 0 {
		bad("JWTAudiences: Auth jwt needs at least one audience (else any token of the issuer passes)")
	}
}

// checkCognito: a given pool ARN must parse; audiences are the given
// pool's client ids on the HTTP API, and meaningless otherwise.
func checkCognito(p *Props, bad func(string, ...any)) {
	if p.UserPoolARN != "" {
		if _, _, ok := userPool(p.UserPoolARN); !ok {
			bad("UserPoolARN %q: want arn:aws:cognito-idp:<region>:<account>:userpool/<region>_<id>", p.UserPoolARN)
		}
	}
	switch {
	case p.API == RESTAPI && len(p.JWTAudiences) > 0:
		bad("JWTAudiences %v: a REST API's Cognito authorizer cannot restrict app clients; leave them empty", p.JWTAudiences)
	case p.API != RESTAPI && p.UserPoolARN != "" && len(p.JWTAudiences) == 0:
		bad("JWTAudiences: Auth cognito with a given UserPoolARN on the HTTP API needs the pool's app client ids")
	case p.API != RESTAPI && p.UserPoolARN == "" && len(p.JWTAudiences) > 0:
		bad("JWTAudiences %v: the stack creates the pool and its client; set UserPoolARN to use your own clients", p.JWTAudiences)
	}
}
