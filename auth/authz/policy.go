package authz

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Errors from building a policy. ErrCycle and ErrUnknownRole say why more
// precisely; both wrap ErrInvalidConfig, as does every error [NewPolicy]
// returns.
var (
	ErrInvalidConfig = errors.New("authz: invalid config")
	ErrCycle         = fmt.Errorf("%w: role inheritance has a cycle", ErrInvalidConfig)
	ErrUnknownRole   = fmt.Errorf("%w: unknown role", ErrInvalidConfig)
)

// Role grants permissions, directly and through the roles it inherits.
// Permissions are strings such as "products:write"; "*" grants every
// permission, and "products:*" every permission with that prefix.
type Role struct {
	Name        string
	Permissions []string
	Inherits    []string
}

// Effect is what a rule does when it matches.
type Effect uint8

// Effects.
const (
	Deny Effect = iota
	Allow
)

// Rule is an attribute-based rule: when the request's action is one of
// Actions ("*" for any) and When holds, the rule's Effect applies. When may
// be nil (always). Rules must not block or keep the Request.
type Rule struct {
	Name    string
	Effect  Effect
	Actions []string
	When    func(*Request) bool
}

// PolicyConfig is the input to [NewPolicy].
type PolicyConfig struct {
	Roles []Role
	Rules []Rule
}

// Policy is a compiled, immutable set of roles and rules, built by
// [NewPolicy] and handed to an [Authorizer]; [Policy.Permissions] and
// [Policy.HasRole] describe it (for an API that lists what a role may do).
// It is safe for concurrent use.
type Policy struct {
	roles map[string]*compiledRole
	deny  map[string][]*compiledRule // by action; "*" for any
	allow map[string][]*compiledRule
}

type compiledRole struct {
	name     string
	reason   string
	perms    map[string]struct{}
	prefixes []string // from "x:*" grants
	all      bool     // "*"
}

type compiledRule struct {
	rule   Rule
	reason string
}

// NewPolicy compiles cfg: it checks names, resolves inheritance (refusing
// unknown roles and cycles) and indexes rules by action.
func NewPolicy(cfg PolicyConfig) (*Policy, error) {
	defs := make(map[string]*Role, len(cfg.Roles))
	for i := range cfg.Roles {
		r := &cfg.Roles[i]
		if r.Name == "" || strings.TrimSpace(r.Name) != r.Name {
			return nil, fmt.Errorf("%w: role name %q", ErrInvalidConfig, r.Name)
		}
		if _, dup := defs[r.Name]; dup {
			return nil, fmt.Errorf("%w: role %q defined twice", ErrInvalidConfig, r.Name)
		}
		defs[r.Name] = r
	}
	p := &Policy{roles: make(map[string]*compiledRole, len(defs)), deny: map[string][]*compiledRule{}, allow: map[string][]*compiledRule{}}
	state := make(map[string]uint8, len(defs)) // 0 new, 1 visiting, 2 done
	for _, r := range cfg.Roles {
		if _, err := p.compile(r.Name, defs, state, nil); err != nil {
			return nil, err
		}
	}
	for _, rule := range cfg.Rules {
		if rule.Name == "" || len(rule.Actions) == 0 || (rule.Effect != Allow && rule.Effect != Deny) {
			return nil, fmt.Errorf("%w: rule %q needs a name, actions and an effect", ErrInvalidConfig, rule.Name)
		}
		effect := "deny"
		idx := p.deny
		if rule.Effect == Allow {
			effect, idx = "allow", p.allow
		}
		cr := &compiledRule{rule: rule, reason: "rule " + effect + ": " + rule.Name}
		for _, a := range rule.Actions {
			idx[a] = append(idx[a], cr)
		}
	}
	return p, nil
}

// compile flattens the permissions of role name, depth first; path is the
// chain being resolved, for the cycle error.
func (p *Policy) compile(name string, defs map[string]*Role, state map[string]uint8, path []string) (*compiledRole, error) {
	switch state[name] {
	case 2:
		return p.roles[name], nil
	case 1:
		return nil, fmt.Errorf("%w: %s", ErrCycle, strings.Join(append(path, name), " -> "))
	}
	def, ok := defs[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q (inherited by %q)", ErrUnknownRole, name, path[len(path)-1])
	}
	state[name] = 1
	cr := &compiledRole{name: name, reason: "role " + name, perms: map[string]struct{}{}}
	for _, perm := range def.Permissions {
		if err := cr.grant(perm); err != nil {
			return nil, err
		}
	}
	for _, parent := range def.Inherits {
		pr, err := p.compile(parent, defs, state, append(path, name))
		if err != nil {
			return nil, err
		}
		for perm := range pr.perms {
			cr.perms[perm] = struct{}{}
		}
		cr.all = cr.all || pr.all
		for _, pre := range pr.prefixes {
			if !slices.Contains(cr.prefixes, pre) {
				cr.prefixes = append(cr.prefixes, pre)
			}
		}
	}
	state[name] = 2
	p.roles[name] = cr
	return cr, nil
}

func (r *compiledRole) grant(perm string) error {
	switch {
	case perm == "":
		return fmt.Errorf("%w: empty permission in role %q", ErrInvalidConfig, r.name)
	case perm == "*":
		r.all = true
	case strings.HasSuffix(perm, ":*"):
		r.prefixes = append(r.prefixes, perm[:len(perm)-1])
	case strings.Contains(perm, "*"):
		return fmt.Errorf("%w: %q: '*' is allowed alone or as a final \":*\"", ErrInvalidConfig, perm)
	default:
		r.perms[perm] = struct{}{}
	}
	return nil
}

// grants reports whether the role grants perm.
func (r *compiledRole) grants(perm string) bool {
	if _, ok := r.perms[perm]; ok || r.all {
		return true
	}
	for _, pre := range r.prefixes {
		if strings.HasPrefix(perm, pre) {
			return true
		}
	}
	return false
}

// Permissions returns the flattened permissions of role, sorted, or nil for
// an unknown role.
func (p *Policy) Permissions(role string) []string {
	r, ok := p.roles[role]
	if !ok {
		return nil
	}
	out := make([]string, 0, len(r.perms)+len(r.prefixes)+1)
	for perm := range r.perms {
		out = append(out, perm)
	}
	for _, pre := range r.prefixes {
		out = append(out, pre+"*")
	}
	if r.all {
		out = append(out, "*")
	}
	slices.Sort(out)
	return out
}

// mentions reports whether any role grants perm or any rule names it
// (or "*"): whether a requirement of perm can ever be met.
func (p *Policy) mentions(perm string) bool {
	for _, r := range p.roles {
		if r.grants(perm) {
			return true
		}
	}
	for _, idx := range [2]map[string][]*compiledRule{p.allow, p.deny} {
		if len(idx[perm]) > 0 || len(idx["*"]) > 0 {
			return true
		}
	}
	return false
}

// HasRole reports whether the policy defines role.
func (p *Policy) HasRole(role string) bool {
	_, ok := p.roles[role]
	return ok
}
