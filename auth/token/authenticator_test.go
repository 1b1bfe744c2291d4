package token_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/apikey"
	"github.com/bedrock-go/bedrock/auth/token"
)

// TestAuthenticators_TokenAndAPIKeyTogether wires the middleware as a
// service would: API keys (bearer or X-API-Key) and JWTs side by side.
func TestAuthenticators_TokenAndAPIKeyTogether(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, func(c *token.VerifierConfig) { c.Now = nil })
	iss, err := token.NewIssuer(token.IssuerConfig{Keys: f.ring, Issuer: "https://id.example", Audience: []string{"api"}})
	require.NoError(t, err)
	jwt, err := iss.Issue(&appClaims{Claims: token.Claims{Subject: "alice"}, Roles: []string{"admin"}})
	require.NoError(t, err)

	keys, err := apikey.New(&apikey.MemoryStore{}, apikey.Config{Prefix: "bk_test"})
	require.NoError(t, err)
	key, _, err := keys.Issue(ctx, apikey.IssueRequest{Owner: "bot", Scopes: []string{"orders:read"}})
	require.NoError(t, err)

	mw, err := auth.NewMiddleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{
		keys.Authenticator(),
		token.Authenticator[appClaims](v, token.AuthenticatorConfig[appClaims]{
			Principal: func(c *appClaims) auth.Principal {
				return auth.Principal{Subject: c.Subject, Roles: c.Roles, Method: auth.MethodToken, CredentialID: c.ID}
			},
		}),
	}})
	require.NoError(t, err)
	var got auth.Principal
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, _ = auth.PrincipalFrom(r.Context()) }))

	cases := []struct {
		name, header, value string
		code                int
		subject             string
		method              auth.Method
	}{
		{"jwt", "Authorization", "Bearer " + jwt, 200, "alice", auth.MethodToken},
		{"api key as bearer", "Authorization", "Bearer " + key, 200, "bot", auth.MethodAPIKey},
		{"api key header", "X-API-Key", key, 200, "bot", auth.MethodAPIKey},
		{"tampered jwt", "Authorization", "Bearer " + tamperSignature(t, jwt), 401, "", ""},
		{"mistyped api key", "X-API-Key", key[:len(key)-1] + otherChar(key[len(key)-1]), 401, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got = auth.Principal{}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set(tc.header, tc.value)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tc.code, w.Code)
			assert.Equal(t, tc.subject, got.Subject)
			assert.Equal(t, tc.method, got.Method)
		})
	}
}

// tamperSignature flips one bit in the first byte of the token's signature.
// Changing the last characters of the text instead is not a tamper: the last
// character of a base64url signature carries padding bits (an Ed25519
// signature's last byte is often below 0x10, so it often already ends in
// "AA"), and the token may come out unchanged.
func tamperSignature(t *testing.T, jwt string) string {
	t.Helper()
	dot := strings.LastIndexByte(jwt, '.')
	require.Positive(t, dot)
	sig, err := base64.RawURLEncoding.DecodeString(jwt[dot+1:])
	require.NoError(t, err)
	sig[0] ^= 1
	tampered := jwt[:dot+1] + base64.RawURLEncoding.EncodeToString(sig)
	require.NotEqual(t, jwt, tampered, "the tampered token differs from the original")
	return tampered
}

func otherChar(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}
