package token_test

import (
	"crypto/elliptic"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/token"
)

// TestVerify_RefusesBytesOutsideTheBase64urlAlphabet: encoding/base64 skips
// CR and LF even in strict mode, so "\r\n" inside a segment used to verify
// and one token had many spellings (issue 20.8).
func TestVerify_RefusesBytesOutsideTheBase64urlAlphabet(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, nil)
	tok, err := f.issuer(t, "hs-1").Issue(&token.Claims{Subject: "user_1"})
	require.NoError(t, err)
	_, err = v.Verify(ctx, tok)
	require.NoError(t, err)

	parts := strings.Split(tok, ".")
	insert := func(seg int, at int, s string) string {
		p := append([]string(nil), parts...)
		p[seg] = p[seg][:at] + s + p[seg][at:]
		return strings.Join(p, ".")
	}
	for segName, seg := range map[string]int{"header": 0, "payload": 1, "signature": 2} {
		for name, bad := range map[string]string{
			"CRLF": "\r\n", "LF": "\n", "CR": "\r", "space": " ", "tab": "\t", "NUL": "\x00",
			"padding": "==", "std alphabet +": "+", "std alphabet /": "/", "non-ASCII": "é",
		} {
			for _, at := range []int{0, 4, len(parts[seg])} {
				t.Run(segName+"/"+name, func(t *testing.T) {
					_, err := v.Verify(ctx, insert(seg, at, bad))
					assert.ErrorIs(t, err, token.ErrMalformed)
				})
			}
		}
	}
}

// TestVerify_ES256HighSIsAccepted records a decision: (r, n-s) is as valid
// an ECDSA signature as (r, s). RFC 7518 does not ask for low S, Go's own
// ecdsa.Sign (and so this package's issuer) produces high S half the time,
// and a JWS is identified by its jti, never by its bytes.
func TestVerify_ES256HighSIsAccepted(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, nil)
	tok, err := f.issuer(t, "es-1").Issue(&token.Claims{Subject: "user_1"})
	require.NoError(t, err)
	parts := strings.Split(tok, ".")
	sig, err := enc.DecodeString(parts[2])
	require.NoError(t, err)
	n := elliptic.P256().Params().N
	s := new(big.Int).SetBytes(sig[32:])
	flipped := make([]byte, 64)
	copy(flipped, sig[:32])
	new(big.Int).Sub(n, s).FillBytes(flipped[32:])
	other := parts[0] + "." + parts[1] + "." + enc.EncodeToString(flipped)
	require.NotEqual(t, tok, other)

	a, err := v.Verify(ctx, tok)
	require.NoError(t, err)
	b, err := v.Verify(ctx, other)
	require.NoError(t, err, "the other S verifies too")
	assert.Equal(t, a, b, "same claims, same jti")
}

// TestVerify_Ed25519NonCanonicalSIsRefused: for EdDSA there is one
// signature per token; S + L (RFC 8032 §5.1.7) is refused.
func TestVerify_Ed25519NonCanonicalSIsRefused(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, nil)
	tok, err := f.issuer(t, "ed-1").Issue(&token.Claims{Subject: "user_1"})
	require.NoError(t, err)
	parts := strings.Split(tok, ".")
	sig, err := enc.DecodeString(parts[2])
	require.NoError(t, err)
	// S is little-endian in sig[32:]; L = 2^252 + 27742317777372353535851937790883648493.
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	le := func(b []byte) *big.Int {
		r := make([]byte, len(b))
		for i := range b {
			r[len(b)-1-i] = b[i]
		}
		return new(big.Int).SetBytes(r)
	}
	sPlusL := new(big.Int).Add(le(sig[32:]), l)
	if sPlusL.BitLen() > 256 {
		t.Fatalf("S + L does not fit in 32 bytes: %v", sPlusL)
	}
	be := sPlusL.FillBytes(make([]byte, 32))
	forged := append([]byte(nil), sig[:32]...)
	for i := range be {
		forged = append(forged, be[31-i])
	}
	_, err = v.Verify(ctx, parts[0]+"."+parts[1]+"."+enc.EncodeToString(forged))
	assert.ErrorIs(t, err, token.ErrSignature)
}
