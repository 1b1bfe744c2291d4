package access

import (
	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/token"
)

// Token issuer and audience of the service, and the prefix of its API keys.
const (
	TokenIssuer   = "bedrock-shop"
	TokenAudience = "bedrock-shop-api"
	APIKeyPrefix  = "shop"
)

// Claims are the claims of the service's access tokens.
type Claims struct {
	token.Claims
	Roles []string `json:"roles,omitempty"`
	// SID is the refresh-token family the token was issued from, so that
	// logout can end it.
	SID string `json:"sid,omitempty"`
}

// ClaimsFor returns the claims of an access token for subject with role,
// issued from the refresh-token family sid; the issuer fills in iss, aud,
// iat, exp and jti.
func ClaimsFor(subject, role, sid string) *Claims {
	return &Claims{Claims: token.Claims{Subject: subject}, Roles: []string{role}, SID: sid}
}

// Principal turns verified claims into the principal handlers see.
func Principal(c *Claims) auth.Principal {
	return auth.Principal{
		Subject:         c.Subject,
		Method:          auth.MethodToken,
		CredentialID:    c.ID,
		Roles:           c.Roles,
		AuthenticatedAt: c.IssuedAt.Time(),
		Attributes:      map[string]any{"sid": c.SID},
	}
}
