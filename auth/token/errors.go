package token

import (
	"fmt"

	"github.com/bedrock-go/bedrock/auth"
)

// Errors returned by [Verifier.Verify]. Each wraps [auth.ErrInvalidCredential],
// so a handler can answer 401 for all of them with one errors.Is.
var (
	ErrMalformed   = fmt.Errorf("token: malformed: %w", auth.ErrInvalidCredential)
	ErrSignature   = fmt.Errorf("token: bad signature: %w", auth.ErrInvalidCredential)
	ErrExpired     = fmt.Errorf("token: expired: %w", auth.ErrInvalidCredential)
	ErrNotYetValid = fmt.Errorf("token: not yet valid: %w", auth.ErrInvalidCredential)
	ErrAudience    = fmt.Errorf("token: wrong audience: %w", auth.ErrInvalidCredential)
	ErrIssuer      = fmt.Errorf("token: wrong issuer: %w", auth.ErrInvalidCredential)
	ErrType        = fmt.Errorf("token: wrong type: %w", auth.ErrInvalidCredential)
	ErrUnknownKey  = fmt.Errorf("token: unknown key: %w", auth.ErrInvalidCredential)
	// ErrAlgorithm means the header's alg is missing, not allowed, or
	// not the algorithm of the key named by kid.
	ErrAlgorithm = fmt.Errorf("token: algorithm not allowed: %w", ErrMalformed)
	// ErrHeader means the header carries a parameter the verifier
	// refuses: jku, x5u, jwk, x5c (keys must never come from the token) or
	// crit (no extension is understood).
	ErrHeader = fmt.Errorf("token: forbidden header parameter: %w", ErrMalformed)
	// ErrMissingClaim means a required claim (exp, iss, aud) is absent.
	ErrMissingClaim = fmt.Errorf("token: missing required claim: %w", ErrMalformed)
	// ErrDate means exp, nbf or iat is a number but not a NumericDate
	// this package accepts: negative, or after [MaxNumericDate]. Such a
	// token is refused whatever the other claims say.
	ErrDate = fmt.Errorf("token: NumericDate out of range: %w", ErrMalformed)
)
