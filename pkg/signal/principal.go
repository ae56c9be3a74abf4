package signal

import (
	"context"
	"slices"
)

// Principal is the caller of an operation, as a transport verified it:
// API Gateway's JWT, Cognito or IAM authorizer, a function URL's IAM auth,
// or signal dev's insecure local header. The framework never verifies a
// token itself; it trusts what the transport put in the request context
// (WithPrincipal) and hands it to the App's Authorize rule.
type Principal struct {
	// Subject identifies the caller: the token's "sub" claim, or the IAM
	// caller's ARN. It is recorded as the Actor of every commit the
	// caller's commands write.
	Subject string
	// Issuer is the token's "iss" claim; empty for IAM callers.
	Issuer string
	// Tenant is the caller's tenant, when the transport is configured with
	// a tenant claim; empty otherwise.
	Tenant string
	// Scopes are the token's OAuth scopes ("scope" or "scp").
	Scopes []string
	// Groups are the caller's groups ("cognito:groups").
	Groups []string
	// Claims are the verified claims as the authorizer passed them on, for
	// rules that need more than the fields above.
	Claims map[string]string
	// System marks a principal of the framework itself: a policy sending
	// commands (PolicyPrincipal). Transports never set it.
	System bool
}

// HasScope reports whether the principal holds the OAuth scope.
func (p *Principal) HasScope(scope string) bool { return p != nil && slices.Contains(p.Scopes, scope) }

// InGroup reports whether the principal is in the group.
func (p *Principal) InGroup(group string) bool { return p != nil && slices.Contains(p.Groups, group) }

// PolicyActorPrefix starts the Subject of a policy's principal, and so
// the Actor of the commits its commands write ("policy:open-order").
const PolicyActorPrefix = "policy:"

// PolicyPrincipal is the principal a policy's commands run as: System,
// with the Subject "policy:<name>". An Authorize rule recognises it by
// System (a token's subject can read "policy:...", but never sets System).
func PolicyPrincipal(name string) *Principal {
	return &Principal{Subject: PolicyActorPrefix + name, System: true}
}

type principalKey struct{}

// WithPrincipal returns a copy of ctx that carries p: what a transport
// does once it has the verified caller, before calling the Service.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal ctx carries, or nil when it carries
// none (an anonymous request, or Go code that set none).
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// actorOf is the Actor recorded for a commit written on behalf of p: its
// Subject, "" without a principal.
func actorOf(p *Principal) string {
	if p == nil {
		return ""
	}
	return p.Subject
}
