package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth"
)

// fixed authenticates "Bearer good-<name>" as subject name, refuses
// "Bearer bad", fails on "Bearer outage", and ignores anything else.
var fixed = auth.AuthenticatorFunc(func(_ context.Context, r *http.Request) (auth.Principal, error) {
	tok, ok := auth.BearerToken(r)
	switch {
	case !ok:
		return auth.Principal{}, auth.ErrNoCredential
	case tok == "bad":
		return auth.Principal{}, fmt.Errorf("token: expired: %w", auth.ErrInvalidCredential)
	case tok == "outage":
		return auth.Principal{}, errors.New("store down")
	case len(tok) > 5 && tok[:5] == "good-":
		return auth.Principal{Subject: tok[5:], Method: auth.MethodToken}, nil
	}
	return auth.Principal{}, auth.ErrNoCredential
})

var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	fmt.Fprint(w, "subject=", p.Subject)
})

func TestMiddleware(t *testing.T) {
	cases := []struct {
		name      string
		required  bool
		header    string
		code      int
		body      string
		challenge string
	}{
		{"valid credential", false, "Bearer good-alice", 200, "subject=alice", ""},
		{"scheme is case-insensitive", false, "bearer good-alice", 200, "subject=alice", ""},
		{"no credential passes anonymous", false, "", 200, "subject=", ""},
		{"no credential on a required route", true, "", 401, "", `Bearer realm="api"`},
		{"bad credential", false, "Bearer bad", 401, "", `Bearer realm="api", error="invalid_token"`},
		{"store outage is not the client's fault", false, "Bearer outage", 503, "", ""},
		{"basic auth is not a bearer token", true, "Basic dXNlcjpwdw==", 401, "", `Bearer realm="api"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var failures []error
			mw, err := auth.Middleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{fixed}, Required: tc.required,
				OnFailure: func(_ *http.Request, err error) { failures = append(failures, err) }})
			require.NoError(t, err)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			w := httptest.NewRecorder()
			mw(whoami).ServeHTTP(w, r)
			assert.Equal(t, tc.code, w.Code)
			assert.Equal(t, tc.challenge, w.Header().Get("WWW-Authenticate"))
			if tc.code == 200 {
				assert.Equal(t, tc.body, w.Body.String())
			} else {
				assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
				assert.NotContains(t, w.Body.String(), "expired", "no detail that helps an attacker")
			}
			if tc.code == 401 && tc.header == "Bearer bad" || tc.code == 503 {
				assert.Len(t, failures, 1)
			}
		})
	}
	_, err := auth.Middleware(auth.MiddlewareConfig{})
	assert.ErrorIs(t, err, auth.ErrInvalidConfig)
}

func TestRequireAuthenticated(t *testing.T) {
	h := auth.RequireAuthenticated(whoami)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Subject: "a"}))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusOK, w.Code)
}

func TestBearerToken(t *testing.T) {
	cases := map[string]struct {
		headers []string
		tok     string
		ok      bool
	}{
		"plain":        {[]string{"Bearer abc"}, "abc", true},
		"extra spaces": {[]string{"Bearer   abc"}, "abc", true},
		"inner space":  {[]string{"Bearer a b"}, "", false},
		"no token":     {[]string{"Bearer "}, "", false},
		"other scheme": {[]string{"Token abc"}, "", false},
		"two headers":  {[]string{"Bearer a", "Bearer b"}, "", false},
		"none":         {nil, "", false},
	}
	for name, tc := range cases {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, h := range tc.headers {
			r.Header.Add("Authorization", h)
		}
		tok, ok := auth.BearerToken(r)
		assert.Equal(t, tc.tok, tok, name)
		assert.Equal(t, tc.ok, ok, name)
	}
}

func FuzzBearerToken(f *testing.F) {
	f.Add("Bearer abc")
	f.Add("bearer\tx")
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{h}
		tok, ok := auth.BearerToken(r)
		if ok && (tok == "" || len(tok) >= len(h)) {
			t.Fatalf("token %q from %q", tok, h)
		}
	})
}

func ExampleMiddleware() {
	mw, err := auth.Middleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{fixed}, Required: true})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/me", nil)
	r.Header.Set("Authorization", "Bearer good-user_42")
	w := httptest.NewRecorder()
	mw(whoami).ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body.String())
	// Output: 200 subject=user_42
}

func BenchmarkMiddleware(b *testing.B) {
	mw, _ := auth.Middleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{fixed}})
	h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer good-alice")
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(nil, r)
	}
}
