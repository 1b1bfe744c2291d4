package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/bedrock-go/bedrock/auth/oauth"
)

// TestPKCE_RFC7636AppendixB checks the S256 challenge against the RFC's
// example and x/oauth2, both ways: the challenge Bedrock computes, and the
// authorization server's check of a verifier against a challenge.
func TestPKCE_RFC7636AppendixB(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	got, err := oauth.Challenge(verifier)
	require.NoError(t, err)
	assert.Equal(t, challenge, got)
	assert.Equal(t, challenge, oauth2.S256ChallengeFromVerifier(verifier))
	assert.NoError(t, oauth.VerifyChallenge(verifier, challenge, "S256"))
	assert.ErrorIs(t, oauth.VerifyChallenge(verifier, challenge, "plain"), oauth.ErrPKCEMethod,
		"plain is refused on purpose: it protects nothing once the code leaks (RFC 7636 §7.2)")
}

// TestPKCE_VerifiersInteroperate: verifiers from x/oauth2 pass Bedrock's
// checks, and Bedrock's verifiers give x/oauth2's challenge.
func TestPKCE_VerifiersInteroperate(t *testing.T) {
	for range 16 {
		v := oauth2.GenerateVerifier()
		require.NoError(t, oauth.ValidVerifier(v))
		assert.NoError(t, oauth.VerifyChallenge(v, oauth2.S256ChallengeFromVerifier(v), "S256"))

		b := oauth.NewVerifier()
		got, err := oauth.Challenge(b)
		require.NoError(t, err)
		assert.Equal(t, oauth2.S256ChallengeFromVerifier(b), got)
	}
	for _, bad := range []string{"short", string(make([]byte, 129)), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+"} {
		assert.ErrorIs(t, oauth.ValidVerifier(bad), oauth.ErrPKCEVerifier, "%q (RFC 7636 §4.1: 43-128 unreserved characters)", bad)
	}
}
