package auth

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Errors shared by the auth packages.
var (
	// ErrUnauthenticated means the request carries no valid credential.
	ErrUnauthenticated = errors.New("auth: unauthenticated")
	// ErrForbidden means the principal is known but not allowed.
	ErrForbidden = errors.New("auth: forbidden")
	// ErrInvalidCredential means a credential was presented but is wrong,
	// malformed, expired or revoked. Sub-packages wrap it with detail.
	ErrInvalidCredential = errors.New("auth: invalid credential")
)

// Method names how a principal authenticated.
type Method string

// Authentication methods.
const (
	MethodPassword Method = "password"
	MethodAPIKey   Method = "apikey"
	MethodToken    Method = "token"
)

// Principal is the identity a request acts as. The zero value is an
// anonymous principal with no roles or scopes.
type Principal struct {
	// Subject is the stable identifier of the user or service (a user id, a
	// key owner). Never an email address, which can change.
	Subject string
	// Method is how the principal authenticated.
	Method Method
	// CredentialID identifies the credential used: an API key id, a token's
	// jti, a session id. It lets audit logs and revocation name it.
	CredentialID string
	// Roles and Scopes grant access; authorization decides what they mean.
	Roles  []string
	Scopes []string
	// Tenant is the organisation the principal acts within, if any.
	Tenant string
	// AuthenticatedAt is when the credential was issued or checked.
	AuthenticatedAt time.Time
	// Attributes carries other claims for attribute-based decisions.
	Attributes map[string]any
}

// HasRole reports whether p has role.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// HasScope reports whether p has scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// IsAnonymous reports whether p has no subject.
func (p Principal) IsAnonymous() bool { return p.Subject == "" }

type principalKey struct{}

// requestAuth is what a request's context says of its authentication: the
// principal, if any, and the [Middleware] that passed the request, whose
// challenge every 401 behind it names.
type requestAuth struct {
	principal     Principal
	authenticated bool
	mw            *Middleware
}

// WithPrincipal returns a copy of ctx that carries p. A Middleware that
// passed the request before stays known to [Challenge].
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	s := &requestAuth{principal: p, authenticated: true}
	if prev, ok := ctx.Value(principalKey{}).(*requestAuth); ok {
		s.mw = prev.mw
	}
	return context.WithValue(ctx, principalKey{}, s)
}

// PrincipalFrom returns the principal stored in ctx by a [Middleware] or
// [WithPrincipal], and false if there is none.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	s, ok := ctx.Value(principalKey{}).(*requestAuth)
	if !ok || !s.authenticated {
		return Principal{}, false
	}
	return s.principal, true
}

// SubjectFrom returns the subject of the principal in ctx, or "" when the
// request is anonymous. It suits idempotency keys and rate-limit keys.
func SubjectFrom(ctx context.Context) string {
	p, _ := PrincipalFrom(ctx)
	return p.Subject
}
