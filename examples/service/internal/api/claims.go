package api

import "github.com/bedrock-go/bedrock/auth/token"

// claimsFor returns the registered claims of an access token for subject;
// the issuer fills in iss, aud, iat, exp and jti.
func claimsFor(subject string) token.Claims { return token.Claims{Subject: subject} }
