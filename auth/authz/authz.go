package authz

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/internal/problem"
)

// Resource is what an action applies to. All fields are optional.
type Resource struct {
	Type   string
	ID     string
	Owner  string // the subject that owns it, for "owner may edit" rules
	Tenant string
	Attrs  map[string]any
}

// Request is one authorization question.
type Request struct {
	Subject  auth.Principal
	Action   string // a permission, such as "products:write"
	Resource Resource
	Time     time.Time
	Env      map[string]any // request attributes: IP, device, ...
}

// Decision is an answer with its reason, for audit logs.
type Decision struct {
	Allowed bool
	Reason  string
}

// Default reasons.
const (
	ReasonDefaultDeny = "default deny"
	ReasonAnonymous   = "anonymous"
)

// Authorizer answers authorization questions against a swappable [Policy]
// and the role assignments it holds. Most callers want a [Requirement]
// per permission in front of their routes ([NewRequirement]); handlers
// that decide on a resource call [Authorizer.Can], and [Authorizer.Decide]
// answers a fully described [Request]. It is safe for concurrent use.
type Authorizer struct {
	policy atomic.Pointer[Policy]

	mu          sync.RWMutex
	assignments map[assignKey][]string
}

type assignKey struct{ tenant, subject string }

// New returns an Authorizer for policy. A nil policy grants nothing.
func New(policy *Policy) *Authorizer {
	if policy == nil {
		policy = &Policy{}
	}
	a := &Authorizer{assignments: map[assignKey][]string{}}
	a.policy.Store(policy)
	return a
}

// SetPolicy swaps the policy atomically: every decision sees the old or the
// new policy, never a mix. A nil policy grants nothing.
func (a *Authorizer) SetPolicy(p *Policy) {
	if p == nil {
		p = &Policy{}
	}
	a.policy.Store(p)
}

// Policy returns the current policy.
func (a *Authorizer) Policy() *Policy { return a.policy.Load() }

// Assign gives subject the roles within tenant ("" for no tenant), in
// addition to the roles the principal carries itself (from a token, say).
// Roles the policy does not define grant nothing.
func (a *Authorizer) Assign(tenant, subject string, roles ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := assignKey{tenant, subject}
	cur := a.assignments[k]
	for _, r := range roles {
		if !slices.Contains(cur, r) {
			cur = append(slices.Clip(cur), r)
		}
	}
	a.assignments[k] = cur
}

// Unassign removes roles from subject within tenant.
func (a *Authorizer) Unassign(tenant, subject string, roles ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := assignKey{tenant, subject}
	cur := slices.DeleteFunc(slices.Clone(a.assignments[k]), func(r string) bool { return slices.Contains(roles, r) })
	if len(cur) == 0 {
		delete(a.assignments, k)
		return
	}
	a.assignments[k] = cur
}

// Decide answers req: deny rules first (deny overrides), then the
// permissions of the subject's roles (its own and those assigned in its
// tenant), then allow rules; otherwise deny.
func (a *Authorizer) Decide(req *Request) Decision {
	p := a.policy.Load()
	if d, ok := p.match(p.deny, req); ok {
		return d
	}
	if req.Subject.Subject == "" {
		if d, ok := p.match(p.allow, req); ok {
			return d
		}
		return Decision{Reason: ReasonAnonymous}
	}
	for _, role := range req.Subject.Roles {
		if r, ok := p.roles[role]; ok && r.grants(req.Action) {
			return Decision{Allowed: true, Reason: r.reason}
		}
	}
	a.mu.RLock()
	assigned := a.assignments[assignKey{req.Subject.Tenant, req.Subject.Subject}]
	a.mu.RUnlock()
	for _, role := range assigned {
		if r, ok := p.roles[role]; ok && r.grants(req.Action) {
			return Decision{Allowed: true, Reason: r.reason}
		}
	}
	if d, ok := p.match(p.allow, req); ok {
		return d
	}
	return Decision{Reason: ReasonDefaultDeny}
}

func (p *Policy) match(index map[string][]*compiledRule, req *Request) (Decision, bool) {
	for _, key := range [2]string{req.Action, "*"} {
		for _, r := range index[key] {
			if r.rule.When == nil || r.rule.When(req) {
				return Decision{Allowed: r.rule.Effect == Allow, Reason: r.reason}, true
			}
		}
	}
	return Decision{}, false
}

// Can reports whether the principal in ctx may perform action on resource.
func (a *Authorizer) Can(ctx context.Context, action string, resource Resource) Decision {
	p, _ := auth.PrincipalFrom(ctx)
	return a.Decide(&Request{Subject: p, Action: action, Resource: resource, Time: time.Now()})
}

// RequirementConfig configures [NewRequirement].
type RequirementConfig struct {
	// Hooks receives instrumentation callbacks.
	Hooks Hooks
}

// Hooks are the callbacks of a [Requirement]. Nil fields are skipped.
type Hooks struct {
	// OnDeny is told every request the Requirement refuses, with the
	// decision and its reason, for audit logs; the client never sees the
	// reason.
	OnDeny func(r *http.Request, d Decision)
}

// Requirement lets a request through only if its principal holds one
// permission. Most callers want [Requirement.Handler] around the routes
// that need the permission; [Requirement.Check] makes the same decision
// without serving. A Requirement must be created with [NewRequirement];
// the zero value is not usable. It is safe for concurrent use, and it
// follows [Authorizer.SetPolicy]: each request is decided by the policy
// current at that moment.
type Requirement struct {
	a         *Authorizer
	perm      string
	hooks     Hooks
	forbidden *problem.Rendered
}

// NewRequirement returns the requirement of perm under a, or an error
// wrapping [ErrInvalidConfig]: for a nil a, an empty perm or one with '*'
// (a requirement names one permission; roles grant patterns), and for a
// perm that the current policy mentions nowhere (no role grants it, no
// rule names it or "*"), which is a typo or a policy loaded too late and
// would refuse every request.
func NewRequirement(a *Authorizer, perm string, cfg RequirementConfig) (*Requirement, error) {
	switch {
	case a == nil:
		return nil, fmt.Errorf("%w: nil Authorizer", ErrInvalidConfig)
	case perm == "" || strings.Contains(perm, "*"):
		return nil, fmt.Errorf("%w: permission %q: want one permission, not empty and without '*'", ErrInvalidConfig, perm)
	case !a.policy.Load().mentions(perm):
		return nil, fmt.Errorf("%w: permission %q is granted by no role and named by no rule of the policy", ErrInvalidConfig, perm)
	}
	return &Requirement{a: a, perm: perm, hooks: cfg.Hooks,
		forbidden: problem.Render(problem.Details{Status: http.StatusForbidden, Type: "https://bedrock-go.dev/problems/forbidden",
			Detail: "The permission " + perm + " is required.", Extensions: map[string]any{"permission": perm}}),
	}, nil
}

// Permission returns the permission r requires.
func (q *Requirement) Permission() string { return q.perm }

// DeniedError is the error of [Requirement.Check] for a refused request.
// It wraps auth.ErrUnauthenticated when the request has no principal and
// auth.ErrForbidden otherwise.
type DeniedError struct {
	Permission string
	Decision   Decision
	Anonymous  bool
}

// Error says what was required and why it was refused.
func (e *DeniedError) Error() string {
	return "authz: permission " + e.Permission + " denied: " + e.Decision.Reason
}

// Unwrap returns auth.ErrUnauthenticated or auth.ErrForbidden.
func (e *DeniedError) Unwrap() error {
	if e.Anonymous {
		return auth.ErrUnauthenticated
	}
	return auth.ErrForbidden
}

// Check returns nil when the principal in r's context holds the
// permission, and a [*DeniedError] otherwise. Hooks are not called.
func (q *Requirement) Check(r *http.Request) error {
	d, anonymous := q.decide(r)
	if d.Allowed {
		return nil
	}
	return &DeniedError{Permission: q.perm, Decision: d, Anonymous: anonymous}
}

func (q *Requirement) decide(r *http.Request) (Decision, bool) {
	p, _ := auth.PrincipalFrom(r.Context())
	return q.a.Decide(&Request{Subject: p, Action: q.perm, Time: time.Now()}), p.Subject == ""
}

// Handler returns next behind the requirement: an anonymous request is
// answered 401 by [auth.Challenge], with the realm of the auth.Middleware
// in front; a principal without the permission gets 403. Both answers are
// problem+json; the 403 names the missing permission, never the reason,
// which goes to Hooks.OnDeny.
func (q *Requirement) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, anonymous := q.decide(r)
		if d.Allowed {
			next.ServeHTTP(w, r)
			return
		}
		if q.hooks.OnDeny != nil {
			q.hooks.OnDeny(r, d)
		}
		if anonymous {
			auth.Challenge(w, r)
			return
		}
		q.forbidden.Write(w)
	})
}
