// Package access is the service's authorization: its roles, the
// permissions the routes check, the policy that joins them, and the claims
// of its access tokens. Every domain asks it for the guard of a permission.
package access

import (
	"net/http"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/authz"
	"github.com/bedrock-go/bedrock/httpapi"
)

// Permissions checked by the routes.
const (
	PermProductsWrite = "products:write"
	PermOrdersRead    = "orders:read"
	PermOrdersWrite   = "orders:write"
	PermAPIKeysManage = "apikeys:manage"
	PermAdminFaults   = "admin:faults"
)

// permissions lists every permission above, so that each gets its guard
// (and a permission the policy grants nowhere fails at start).
var permissions = []string{PermProductsWrite, PermOrdersRead, PermOrdersWrite, PermAPIKeysManage, PermAdminFaults}

// Roles a user can have. An account has one: customer, which every
// signup gets, or admin, which includes everything a customer may do and
// only the operator grants (the service's grant-role command).
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
)

// IsRole reports whether name is one of the roles above.
func IsRole(name string) bool { return name == RoleCustomer || name == RoleAdmin }

// HasRole reports whether an account whose role is have holds role: its
// own, or customer, which admin includes.
func HasRole(have, role string) bool { return have == role || role == RoleCustomer && IsRole(have) }

// NewPolicy returns the service's authorization policy. API keys carry no
// role: they may do exactly what their scopes say, and keys are only issued
// with scopes their owner's role grants.
func NewPolicy() (*authz.Policy, error) {
	return authz.NewPolicy(authz.PolicyConfig{
		Roles: []authz.Role{
			{Name: RoleCustomer, Permissions: []string{PermOrdersRead, PermOrdersWrite, PermAPIKeysManage}},
			{Name: RoleAdmin, Permissions: []string{PermProductsWrite, PermAdminFaults}, Inherits: []string{RoleCustomer}},
		},
		Rules: []authz.Rule{
			{Name: "api keys act within their scopes", Effect: authz.Allow, Actions: []string{"*"},
				When: func(r *authz.Request) bool {
					return r.Subject.Method == auth.MethodAPIKey && r.Subject.HasScope(r.Action)
				}},
			// A leaked key must not be able to mint more keys.
			{Name: "api keys cannot manage api keys", Effect: authz.Deny, Actions: []string{PermAPIKeysManage},
				When: func(r *authz.Request) bool { return r.Subject.Method == auth.MethodAPIKey }},
		},
	})
}

// Control answers the authorization questions of the domains: the guard
// of a permission and the permissions a role grants. It is safe for
// concurrent use.
type Control struct {
	policy *authz.Policy
	guards map[string]*authz.Requirement
}

// New returns the service's Control, with a guard for every permission.
func New() (*Control, error) {
	policy, err := NewPolicy()
	if err != nil {
		return nil, err
	}
	az := authz.New(policy)
	c := &Control{policy: policy, guards: map[string]*authz.Requirement{}}
	for _, perm := range permissions {
		if c.guards[perm], err = authz.NewRequirement(az, perm, authz.RequirementConfig{}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Require wraps next so that only principals holding perm reach it. A
// permission this package does not define refuses everyone (403): a typo
// fails closed.
func (c *Control) Require(perm string, next http.Handler) http.Handler {
	if g, ok := c.guards[perm]; ok {
		return g.Handler(next)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpapi.Problem{Status: http.StatusForbidden}.Write(w)
	})
}

// Permissions returns the permissions role grants.
func (c *Control) Permissions(role string) []string { return c.policy.Permissions(role) }
