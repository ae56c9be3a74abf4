package signaltest

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/signalforgo/signal/pkg/signal"
)

// DefaultTenant is the tenant a scenario's aggregate lives in when its
// Service has Tenancy, unless Tenant sets another.
const DefaultTenant = "test"

// Authorize runs the scenario's Service under rule, the app's
// authorization rule (signal.App.Authorize): every When, WhenJSON and
// WhenEnd is decided by it for the scenario's caller (As), and so are the
// commands the scenario's policies send (as signal.PolicyPrincipal). A
// refusal is the When's error: ThenError(signal.ErrForbidden) or
// ThenError(signal.ErrUnauthenticated) checks it, and that nothing was
// written. The kit's own reads (ThenState, State, Events, EventsOf,
// Version) are not decided by the rule: they show the test what is
// stored, whoever the caller is. A later Authorize or WithApp replaces
// the rule; nil removes it.
func Authorize(rule signal.Authorizer) Option { return func(c *config) { c.rule = rule } }

// WithApp wires the scenario's Service as app wires a deployed one: its
// Types (with the scenario's own type, held once), its Subscribers (run
// as WithSubscribers runs them), its Authorize rule (as Authorize) and
// its Tenancy (the scenario's aggregate then lives in DefaultTenant, or
// Tenant's). Options after it add to the types and subscribers and may
// replace the rule. A nil app fails the test (Fatalf, in For).
func WithApp(app *signal.App) Option {
	return func(c *config) {
		if app == nil {
			c.problem = "WithApp: the App is nil"
			return
		}
		c.types = append(c.types, app.Types...)
		c.subs = append(c.subs, app.Subscribers...)
		c.rule, c.tenancy = app.Authorize, app.Tenancy
	}
}

// Tenant sets the tenant the scenario's aggregate (and GivenOn's) lives
// in, for a Service with Tenancy (WithApp of an App with Tenancy); the
// default is DefaultTenant. AsSubject's callers act in it. A name that is
// not a valid tenant (signal.ValidateName), or Tenant without Tenancy,
// fails the test (Fatalf, in For).
func Tenant(name string) Option { return func(c *config) { c.tenant = name } }

// checkTenancy sets the setup's tenant from the options, or says why
// they do not make sense.
func (c *config) checkTenancy() error {
	switch {
	case c.problem != "":
		return fmt.Errorf("%s", c.problem)
	case !c.tenancy && c.tenant != "":
		return fmt.Errorf("Tenant(%q) without Tenancy: pass an App with Tenancy (WithApp)", c.tenant)
	case !c.tenancy:
		return nil
	}
	c.setup.tenant = DefaultTenant
	if c.tenant != "" {
		c.setup.tenant = c.tenant
	}
	if err := signal.ValidateName(c.setup.tenant); err != nil {
		return fmt.Errorf("Tenant(%q): %w", c.setup.tenant, err)
	}
	return nil
}

// validID checks an aggregate id as the Service does: ValidateID, and
// without the TenantSeparator under Tenancy.
func validID(id string, tenancy bool) error {
	if err := signal.ValidateID(id); err != nil {
		return err
	}
	if tenancy && strings.Contains(id, signal.TenantSeparator) {
		return fmt.Errorf("ids may not contain %q when the Service has Tenancy", signal.TenantSeparator)
	}
	return nil
}

func (e *env) validID(id string) error { return validID(id, e.tenant != "") }

// streamOf is aggregate id of typ as the store keeps it: under Tenancy,
// in the scenario's tenant ("test|test-1").
func (e *env) streamOf(typ, id string) signal.StreamID {
	if e.tenant != "" {
		id = e.tenant + signal.TenantSeparator + id
	}
	return signal.StreamID{Type: typ, ID: id}
}

// inspectKey marks the context of the kit's own reads, which the app's
// rule does not decide (guard).
type inspectKey struct{}

// inspect is the context of the kit's own reads: marked for guard, and
// under Tenancy with a principal of the scenario's tenant, whose data
// they read.
func (e *env) inspect() context.Context {
	ctx := context.WithValue(e.t.Context(), inspectKey{}, true)
	if e.tenant != "" {
		ctx = signal.WithPrincipal(ctx, &signal.Principal{Subject: "signaltest", System: true, Tenant: e.tenant})
	}
	return ctx
}

// guard is rule for every action but the kit's own reads, which it
// allows; nil without a rule, so that the Service runs none.
func guard(rule signal.Authorizer) signal.Authorizer {
	if rule == nil {
		return nil
	}
	return func(ctx context.Context, p *signal.Principal, a *signal.Action) error {
		if ctx.Value(inspectKey{}) != nil {
			return nil
		}
		return rule(ctx, p, a)
	}
}

// As makes p the caller of the following When, WhenJSON and WhenEnd: the
// principal their context carries, as a transport puts the verified
// caller there (signal.WithPrincipal). The scenario's rule (Authorize,
// WithApp) decides for p, and the commits the commands write record
// p.Subject as their Actor (ThenActor). As(nil) makes them anonymous,
// which they are until the first As. It is no step: the Then methods
// still check the last When. Under Tenancy p acts in p.Tenant, the
// scenario's aggregate only when that is the scenario's tenant (a
// principal without one is refused, signal.ErrForbidden); AsSubject
// fills it in.
func (s *Scenario[S]) As(p *signal.Principal) *Scenario[S] {
	s.caller, s.callerSet = p, true
	return s
}

// AsSubject is As with a principal of subject alone (a token's "sub")
// and, under Tenancy, the scenario's tenant.
func (s *Scenario[S]) AsSubject(subject string) *Scenario[S] {
	return s.As(&signal.Principal{Subject: subject, Tenant: s.tenant})
}

// callerContext is the context a When runs in: with the caller As set.
func (s *Scenario[S]) callerContext() context.Context {
	if s.caller == nil {
		return s.t.Context()
	}
	return signal.WithPrincipal(s.t.Context(), s.caller)
}

// callerText names the caller in a When's messages (" as ann"), once As
// has set one.
func (s *Scenario[S]) callerText() string {
	p := s.caller
	switch {
	case !s.callerSet:
		return ""
	case p == nil:
		return " without a principal"
	case s.tenant != "" && p.Tenant != s.tenant:
		return fmt.Sprintf(" as %s of tenant %q", shown(p.Subject), p.Tenant)
	}
	return " as " + shown(p.Subject)
}

// shown is a subject as messages show it: quoted when it holds what
// would garble a message (a newline) or is empty.
func shown(subject string) string {
	if q := strconv.Quote(subject); subject == "" || q[1:len(q)-1] != subject {
		return q
	}
	return subject
}

// GivenBy is Given with subject as the Actor of every commit: history
// written by that caller. The Actor of an aggregate's first commit is its
// owner, which the rule sees as signal.Action.Owner, so GivenBy gives the
// aggregate an owner that Given (Actor "") does not. Its failures are
// Given's, and a subject the store refuses as an actor (control
// characters, more than signal.MaxIDBytes) fails the test too (Fatalf).
func (s *Scenario[S]) GivenBy(subject string, events ...any) *Scenario[S] {
	s.t.Helper()
	return s.givenOn(s.typ, s.id, subject, events)
}

// GivenOnBy is GivenBy for another aggregate, as GivenOn is Given.
func (s *Scenario[S]) GivenOnBy(typ signal.AggregateType, id, subject string, events ...any) *Scenario[S] {
	s.t.Helper()
	return s.givenOn(typ, id, subject, events)
}

// ThenActor checks that the last When succeeded and appended at least
// one commit to the aggregate, each recording subject as its Actor: the
// Subject of the caller it ran as (As), "" when it had none. It fails
// (Errorf) when the When failed, appended nothing (a duplicate, or a
// command deciding no events), or a commit records another actor.
func (s *Scenario[S]) ThenActor(subject string) *Scenario[S] {
	s.t.Helper()
	w := s.lastWhen("ThenActor")
	switch {
	case w == nil:
	case w.err != nil:
		s.t.Errorf("%s: %s failed, want commits by %q:\n%s", s.who(), w.what, subject, text("got", "error: "+describe(w.err)))
	case len(w.commits) == 0:
		s.t.Errorf("%s: %s appended nothing, want commits by %q", s.who(), w.what, subject)
	default:
		for i, c := range w.commits {
			if c.Actor != subject {
				s.t.Errorf("%s: %s: commit %d of %d records another actor\n%s\n%s", s.who(), w.what, i+1, len(w.commits),
					text("want", fmt.Sprintf("%q", subject)), text("got", fmt.Sprintf("%q", c.Actor)))
				break
			}
		}
	}
	return s
}
