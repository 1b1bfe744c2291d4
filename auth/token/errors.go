package token

import (
	"fmt"

	"github.com/bedrock-go/bedrock/auth"
)

// Errors returned by [Verifier.Verify]. Each wraps [auth.ErrInvalidCredential],
// so a handler can answer 401 for all of them with one errors.Is.
var (
	ErrTokenMalformed   = fmt.Errorf("token: malformed: %w", auth.ErrInvalidCredential)
	ErrTokenSignature   = fmt.Errorf("token: bad signature: %w", auth.ErrInvalidCredential)
	ErrTokenExpired     = fmt.Errorf("token: expired: %w", auth.ErrInvalidCredential)
	ErrTokenNotYetValid = fmt.Errorf("token: not yet valid: %w", auth.ErrInvalidCredential)
	ErrTokenAudience    = fmt.Errorf("token: wrong audience: %w", auth.ErrInvalidCredential)
	ErrTokenIssuer      = fmt.Errorf("token: wrong issuer: %w", auth.ErrInvalidCredential)
	ErrTokenType        = fmt.Errorf("token: wrong type: %w", auth.ErrInvalidCredential)
	ErrUnknownKey       = fmt.Errorf("token: unknown key: %w", auth.ErrInvalidCredential)
	// ErrTokenAlgorithm means the header's alg is missing, not allowed, or
	// not the algorithm of the key named by kid.
	ErrTokenAlgorithm = fmt.Errorf("token: algorithm not allowed: %w", ErrTokenMalformed)
	// ErrTokenHeader means the header carries a parameter the verifier
	// refuses: jku, x5u, jwk, x5c (keys must never come from the token) or
	// crit (no extension is understood).
	ErrTokenHeader = fmt.Errorf("token: forbidden header parameter: %w", ErrTokenMalformed)
	// ErrTokenMissingClaim means a required claim (exp, iss, aud) is absent.
	ErrTokenMissingClaim = fmt.Errorf("token: missing required claim: %w", ErrTokenMalformed)
	// ErrTokenDate means exp, nbf or iat is a number but not a NumericDate
	// this package accepts: negative, or after [MaxNumericDate]. Such a
	// token is refused whatever the other claims say.
	ErrTokenDate = fmt.Errorf("token: NumericDate out of range: %w", ErrTokenMalformed)
)
