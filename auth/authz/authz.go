package authz

import (
	"context"
	"net/http"
	"slices"
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
// and the role assignments it holds. It is safe for concurrent use.
type Authorizer struct {
	policy atomic.Pointer[Policy]

	mu          sync.RWMutex
	assignments map[assignKey][]string
}

type assignKey struct{ tenant, subject string }

// New returns an Authorizer for policy.
func New(policy *Policy) *Authorizer {
	a := &Authorizer{assignments: map[assignKey][]string{}}
	a.policy.Store(policy)
	return a
}

// SetPolicy swaps the policy atomically: every decision sees the old or the
// new policy, never a mix.
func (a *Authorizer) SetPolicy(p *Policy) { a.policy.Store(p) }

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

// Require returns middleware that lets a request through only if its
// principal holds perm: 401 for an anonymous request, 403 otherwise. The
// answer is problem+json and names the missing permission, never the
// reason (which stays in the server's hooks and logs).
func (a *Authorizer) Require(perm string) func(http.Handler) http.Handler {
	return a.RequireFunc(perm, nil)
}

// RequireFunc is Require with a callback told every refusal and its reason,
// for audit logs; onDeny may be nil.
func (a *Authorizer) RequireFunc(perm string, onDeny func(r *http.Request, d Decision)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := auth.PrincipalFrom(r.Context())
			d := a.Decide(&Request{Subject: p, Action: perm, Time: time.Now()})
			if d.Allowed {
				next.ServeHTTP(w, r)
				return
			}
			if onDeny != nil {
				onDeny(r, d)
			}
			if p.Subject == "" {
				w.Header().Set("WWW-Authenticate", `Bearer`)
				problem.Write(w, problem.Details{Status: http.StatusUnauthorized, Detail: "Authentication is required."})
				return
			}
			problem.Write(w, problem.Details{Status: http.StatusForbidden, Type: "https://bedrock-go.dev/problems/forbidden",
				Detail: "The permission " + perm + " is required.", Extensions: map[string]any{"permission": perm}})
		})
	}
}
