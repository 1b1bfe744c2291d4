package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
)

// Errors about PKCE, state and nonce.
var (
	ErrPKCEMethod   = errors.New("oauth: PKCE method must be S256")
	ErrPKCEVerifier = errors.New("oauth: PKCE verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
	ErrPKCEMismatch = errors.New("oauth: PKCE verifier does not match the challenge")
	ErrState        = errors.New("oauth: state mismatch")
	ErrNonce        = errors.New("oauth: nonce mismatch")
)

// NewVerifier returns a PKCE code verifier: 32 random bytes, base64url, 43
// characters.
func NewVerifier() string { return random32() }

// NewState returns a random state value for one authorization request.
func NewState() string { return random32() }

// NewNonce returns a random nonce for one authentication request.
func NewNonce() string { return random32() }

func random32() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidVerifier checks a code verifier's length and alphabet (RFC 7636
// §4.1).
func ValidVerifier(v string) error {
	if len(v) < 43 || len(v) > 128 {
		return ErrPKCEVerifier
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return ErrPKCEVerifier
		}
	}
	return nil
}

// Challenge returns the S256 code challenge of verifier.
func Challenge(verifier string) (string, error) {
	if err := ValidVerifier(verifier); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// VerifyChallenge is the authorization server's check (RFC 7636 §4.6): the
// method must be S256 ("plain" offers no protection against a stolen code
// and is refused) and the verifier must hash to the challenge.
func VerifyChallenge(verifier, challenge, method string) error {
	if method != "S256" {
		return fmt.Errorf("%w: got %q", ErrPKCEMethod, method)
	}
	want, err := Challenge(verifier)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) != 1 {
		return ErrPKCEMismatch
	}
	return nil
}

// CheckState compares the state returned by the provider with the one sent,
// in constant time. An empty expected state always fails.
func CheckState(got, want string) error {
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return ErrState
	}
	return nil
}
