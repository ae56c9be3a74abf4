package signal

import (
	"context"
	"strings"
)

// TenantSeparator joins a tenant and an aggregate id, or a view key, into
// the id or key the store keeps, when the Service has Tenancy: tenant
// "acme"'s cart "c1" is stream "cart"/"acme|c1". Under Tenancy ids and
// keys may not contain it, so that no caller can name another tenant's
// data; a tenant is a name (ValidateName), which never does.
const TenantSeparator = "|"

// tenantOf is the tenant ctx's principal acts in when the Service has
// Tenancy: its Tenant, for a policy the tenant of the event it reacts to.
// ErrUnauthenticated without a principal, ErrForbidden for one without a
// valid tenant; "" when Tenancy is off.
func (s *Service) tenantOf(ctx context.Context) (string, error) {
	if !s.tenancy {
		return "", nil
	}
	p := PrincipalFrom(ctx)
	switch {
	case p == nil:
		return "", &Error{Kind: KindUnauthenticated, Op: "signal.Tenant", Message: "authentication required"}
	case p.Tenant == "" || ValidateName(p.Tenant) != nil:
		return "", &Error{Kind: KindForbidden, Op: "signal.Tenant", Message: "the caller has no valid tenant"}
	}
	return p.Tenant, nil
}

// scope is the id or key the store keeps for a caller's id in the
// tenant of ctx: tenant|id under Tenancy, id as it is otherwise.
// ErrInvalid for an id holding the separator; tenantOf's errors.
func (s *Service) scope(ctx context.Context, id string) (string, error) {
	if !s.tenancy {
		return id, nil
	}
	tenant, err := s.tenantOf(ctx)
	if err != nil {
		return "", err
	}
	if strings.Contains(id, TenantSeparator) {
		return "", Errorf(KindInvalid, "", "id contains %q, which ids may not contain when tenancy is on", TenantSeparator)
	}
	return tenant + TenantSeparator + id, nil
}

// unscope splits an id or key the store keeps into its tenant and the
// caller's id: ("acme", "c1") for "acme|c1" under Tenancy; ("", stored)
// otherwise, and for data written before Tenancy was on.
func (s *Service) unscope(stored string) (tenant, id string) {
	if !s.tenancy {
		return "", stored
	}
	if t, rest, ok := strings.Cut(stored, TenantSeparator); ok {
		return t, rest
	}
	return "", stored
}

// localID is the caller's id of a stored one (unscope's).
func (s *Service) localID(stored string) string {
	_, id := s.unscope(stored)
	return id
}

// scoped joins tenant and a key as scope does: for the view keys of a
// tenant's stream, whose tenant is known.
func scoped(tenant, key string) string {
	if tenant == "" {
		return key
	}
	return tenant + TenantSeparator + key
}
