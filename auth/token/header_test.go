package token_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/token"
)

// hsRing is a ring of HS256 keys with the given ids, all with secr.
func hsRing(t testing.TB, ids ...string) *token.KeyRing {
	t.Helper()
	ring, err := token.NewKeyRing(nil)
	require.NoError(t, err)
	for _, id := range ids {
		k, err := token.NewHS256(id, secr)
		require.NoError(t, err)
		require.NoError(t, ring.Add(k))
	}
	return ring
}

func hsVerifier(t testing.TB, ring *token.KeyRing) *token.Verifier {
	t.Helper()
	v, err := token.NewVerifier(token.VerifierConfig{Keys: ring, Issuer: "https://id.example", Audience: "api",
		Algorithms: []token.Algorithm{token.HS256}, Now: func() time.Time { return now }})
	require.NoError(t, err)
	return v
}

// TestVerify_HeaderStringsWithJSONEscapes: RFC 7515 §5.2 with RFC 8259 §7,
// an escaped and an unescaped string are the same string (issue 21.1).
func TestVerify_HeaderStringsWithJSONEscapes(t *testing.T) {
	v := hsVerifier(t, hsRing(t, "k<&>1", "keys/2024", "hs-1"))
	sign := hs256(secr)
	cases := map[string]string{
		"kid escaped as golang-jwt and go-jose do": `{"alg":"HS256","kid":"k\u003c\u0026\u003e1","typ":"at+jwt"}`,
		"kid with an escaped solidus (PHP)":        `{"alg":"HS256","kid":"keys\/2024","typ":"at+jwt"}`,
		"typ with an escaped solidus":              `{"alg":"HS256","kid":"hs-1","typ":"application\/at+jwt"}`,
		"alg spelt with escapes":                   `{"alg":"HS\u0032\u00356","kid":"hs-1","typ":"at+jwt"}`,
		"upper-case hex digits":                    `{"alg":"HS256","kid":"k\u003C\u0026\u003E1","typ":"AT+JWT"}`,
		"every member name escaped":                `{"\u0061lg":"HS256","\u006bid":"hs-1","\u0074yp":"at+jwt"}`,
	}
	for name, hdr := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := v.Verify(ctx, forge(hdr, validPayload(), sign))
			require.NoError(t, err)
			assert.Equal(t, "user_1", c.Subject)
		})
	}
}

func TestVerify_HeaderStringsThatStayRefused(t *testing.T) {
	v := hsVerifier(t, hsRing(t, "hs-1"))
	sign := hs256(secr)
	cases := []struct {
		name, hdr string
		want      error
	}{
		{"escaped duplicate kid", `{"alg":"HS256","kid":"hs-1","typ":"at+jwt","k\u0069d":"other"}`, token.ErrMalformed},
		{"case-folded duplicate kid", `{"alg":"HS256","kid":"hs-1","typ":"at+jwt","KID":"other"}`, token.ErrMalformed},
		{"escaped duplicate alg", `{"alg":"HS256","\u0041LG":"none","kid":"hs-1","typ":"at+jwt"}`, token.ErrMalformed},
		{"lone high surrogate", `{"alg":"HS256","kid":"hs-1\ud800","typ":"at+jwt"}`, token.ErrMalformed},
		{"lone low surrogate", `{"alg":"HS256","kid":"hs-1\udc00","typ":"at+jwt"}`, token.ErrMalformed},
		{"reversed surrogates", `{"alg":"HS256","kid":"\udc00\ud800","typ":"at+jwt"}`, token.ErrMalformed},
		{"invalid UTF-8", "{\"alg\":\"HS256\",\"kid\":\"hs-1\xff\",\"typ\":\"at+jwt\"}", token.ErrMalformed},
		{"bad escape", `{"alg":"HS256","kid":"hs-1\x","typ":"at+jwt"}`, token.ErrMalformed},
		{"escaped NUL in kid names no key", `{"alg":"HS256","kid":"hs-1\u0000","typ":"at+jwt"}`, token.ErrUnknownKey},
		{"escaped alg none", `{"alg":"\u006eone","kid":"hs-1","typ":"at+jwt"}`, token.ErrAlgorithm},
		{"kid a number", `{"alg":"HS256","kid":1,"typ":"at+jwt"}`, token.ErrUnknownKey},
		{"typ an array", `{"alg":"HS256","kid":"hs-1","typ":["at+jwt"]}`, token.ErrType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(ctx, forge(tc.hdr, validPayload(), sign))
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, auth.ErrInvalidCredential)
		})
	}
}

// TestIssuer_KidsRoundTripThroughEncodingJSON: every key id a signing key
// may have is written without escapes, read back unchanged by an
// independent decoder, and still verifies when another encoder escapes it
// (encoding/json escapes <, > and &, as golang-jwt and go-jose do).
func TestIssuer_KidsRoundTripThroughEncodingJSON(t *testing.T) {
	var ids []string
	for c := byte(0x21); c <= 0x7e; c++ {
		if c != '"' && c != '\\' {
			ids = append(ids, "k"+string(c)+"1")
		}
	}
	ring := hsRing(t, ids...)
	v := hsVerifier(t, ring)
	for _, id := range ids {
		require.NoError(t, ring.Promote(id))
		iss, err := token.NewIssuer(token.IssuerConfig{Keys: ring, Issuer: "https://id.example", Audience: []string{"api"},
			Now: func() time.Time { return now }})
		require.NoError(t, err)
		tok, err := iss.Issue(&token.Claims{Subject: "user_1"})
		require.NoError(t, err)

		raw, err := enc.DecodeString(strings.Split(tok, ".")[0])
		require.NoError(t, err)
		var hdr map[string]string
		require.NoError(t, json.Unmarshal(raw, &hdr), "header %s", raw)
		assert.Equal(t, id, hdr["kid"], "encoding/json reads the kid back unchanged")

		reencoded, err := json.Marshal(hdr)
		require.NoError(t, err)
		payload, err := enc.DecodeString(strings.Split(tok, ".")[1])
		require.NoError(t, err)
		_, err = v.Verify(ctx, forge(string(reencoded), string(payload), hs256(secr)))
		assert.NoError(t, err, "kid %q re-encoded as %s", id, reencoded)
	}
}

// TestVerify_EscapedHeaderStaysWithinTheAllocationBudget: the budget of
// TestVerify_HS256AllocatesAtMostTen holds for escaped headers too (the
// decoder itself allocates nothing: TestUnquoteInPlace_AllocatesNothing).
func TestVerify_EscapedHeaderStaysWithinTheAllocationBudget(t *testing.T) {
	v := hsVerifier(t, hsRing(t, "k<&>1"))
	escaped := forge(`{"alg":"HS256","kid":"k\u003c\u0026\u003e1","typ":"application\/at+jwt"}`, validPayload(), hs256(secr))
	_, err := v.Verify(ctx, escaped)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := v.Verify(ctx, escaped); err != nil {
			panic(err)
		}
	})
	assert.LessOrEqual(t, allocs, 10.0)
}
