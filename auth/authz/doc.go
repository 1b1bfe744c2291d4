// Package authz decides what a principal may do: role-based access control
// (roles grant permissions, roles inherit roles, users hold roles, per
// tenant) combined with attribute-based rules (Go predicates over subject,
// action, resource and environment), with deny-overrides.
//
// # Decisions
//
// [Authorizer.Decide] returns a [Decision]: allowed or not, and the reason —
// the deny rule that matched, the role that granted the permission, the
// allow rule that matched, or the default deny — so that audit logs can say
// why. The order is fixed: any matching deny rule wins; then a permission
// granted by a role; then a matching allow rule; otherwise deny.
//
// # Performance
//
// A [Policy] is compiled once: inheritance is flattened (and cycles refused)
// at construction, so a permission check is a few map lookups and allocates
// nothing, however many users and roles there are. A new Policy can be
// swapped in at run time with [Authorizer.SetPolicy]; each decision sees
// either the old or the new policy, whole.
//
// # HTTP
//
// A [Requirement], made by [NewRequirement] for one permission, guards
// routes: its Handler answers 401 for an anonymous request, with the
// challenge of the auth.Middleware in front (see auth.Challenge), and 403
// (problem+json, naming the permission) when the principal lacks it; its
// Check makes the same decision without serving. NewRequirement refuses a
// permission the policy grants nowhere, so a typo in a route fails at
// start-up rather than refusing every request:
//
//	orders, err := authz.NewRequirement(authorizer, "orders:write", authz.RequirementConfig{})
//	if err != nil {
//		return err
//	}
//	mux.Handle("POST /orders", orders.Handler(placeOrder))
package authz
