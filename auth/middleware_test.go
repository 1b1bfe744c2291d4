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
			mw, err := auth.NewMiddleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{fixed}, Required: tc.required,
				Hooks: auth.Hooks{OnFailure: func(_ *http.Request, err error) { failures = append(failures, err) }}})
			require.NoError(t, err)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			w := httptest.NewRecorder()
			mw.Handler(whoami).ServeHTTP(w, r)
			assert.Equal(t, tc.code, w.Code)
			assert.Equal(t, tc.challenge, w.Header().Get("WWW-Authenticate"))
			if tc.code == 200 {
				assert.Equal(t, tc.body, w.Body.String())
			} else {
				assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
				assert.NotContains(t, w.Body.String(), "expired", "no detail that helps an attacker")
			}
			if tc.code == 503 {
				assert.Equal(t, "1", w.Header().Get("Retry-After"))
			}
			if tc.header == "Bearer bad" || tc.code == 503 {
				assert.Len(t, failures, 1)
			} else {
				assert.Empty(t, failures, "a missing credential is not a failure")
			}
		})
	}
}

func TestNewMiddleware_RejectsBadConfig(t *testing.T) {
	cases := map[string]auth.MiddlewareConfig{
		"no authenticator":       {},
		"nil authenticator":      {Authenticators: []auth.Authenticator{nil}},
		"quote in the realm":     {Authenticators: []auth.Authenticator{fixed}, Realm: `shop", error="x`},
		"backslash in the realm": {Authenticators: []auth.Authenticator{fixed}, Realm: `a\b`},
		"newline in the realm":   {Authenticators: []auth.Authenticator{fixed}, Realm: "a\nb"},
		"non-ASCII realm":        {Authenticators: []auth.Authenticator{fixed}, Realm: "café"},
	}
	for name, cfg := range cases {
		mw, err := auth.NewMiddleware(cfg)
		assert.Nil(t, mw, name)
		assert.ErrorIs(t, err, auth.ErrInvalidConfig, name)
	}
}

// TestMiddleware_AuthenticateIsTheDecisionAlone: Authenticate answers what
// Handler would, without serving and without calling hooks.
func TestMiddleware_AuthenticateIsTheDecisionAlone(t *testing.T) {
	calls := 0
	cfg := auth.MiddlewareConfig{Authenticators: []auth.Authenticator{fixed},
		Hooks: auth.Hooks{OnFailure: func(*http.Request, error) { calls++ }}}
	optional, err := auth.NewMiddleware(cfg)
	require.NoError(t, err)
	cfg.Required = true
	required, err := auth.NewMiddleware(cfg)
	require.NoError(t, err)
	req := func(h string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		return r
	}

	p, err := optional.Authenticate(req("Bearer good-alice"))
	require.NoError(t, err)
	assert.Equal(t, "alice", p.Subject)
	p, err = optional.Authenticate(req(""))
	require.NoError(t, err, "anonymous is allowed")
	assert.True(t, p.IsAnonymous())
	_, err = required.Authenticate(req(""))
	assert.ErrorIs(t, err, auth.ErrNoCredential)
	_, err = optional.Authenticate(req("Bearer bad"))
	assert.ErrorIs(t, err, auth.ErrInvalidCredential)
	_, err = optional.Authenticate(req("Bearer outage"))
	require.Error(t, err)
	assert.NotErrorIs(t, err, auth.ErrInvalidCredential)
	assert.Zero(t, calls, "hooks belong to Handler")
}

// TestRealm_OneRealmBehindOneMiddleware: RequireAuthenticated used to
// answer realm="api" whatever the Middleware in front said, so a service
// with Realm "shop" gave a missing token realm="api" and a bad one
// realm="shop". Every 401 behind a Middleware now names its realm.
func TestRealm_OneRealmBehindOneMiddleware(t *testing.T) {
	mw, err := auth.NewMiddleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{fixed}, Realm: "shop"})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /me", auth.RequireAuthenticated(whoami))
	mux.HandleFunc("GET /custom", func(w http.ResponseWriter, r *http.Request) { auth.Challenge(w, r) })
	h := mw.Handler(mux)
	for _, tc := range []struct{ path, header, challenge string }{
		{"/me", "", `Bearer realm="shop"`},
		{"/me", "Bearer bad", `Bearer realm="shop", error="invalid_token"`},
		{"/custom", "", `Bearer realm="shop"`},
		{"/custom", "Bearer good-alice", `Bearer realm="shop"`},
	} {
		r := httptest.NewRequest(http.MethodGet, tc.path, nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, http.StatusUnauthorized, w.Code, tc.path+" "+tc.header)
		assert.Equal(t, tc.challenge, w.Header().Get("WWW-Authenticate"), tc.path+" "+tc.header)
		assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	}
}

func TestRequireAuthenticated(t *testing.T) {
	h := auth.RequireAuthenticated(whoami)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, `Bearer realm="api"`, w.Header().Get("WWW-Authenticate"), "no Middleware in front: the default realm")
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Subject: "a"}))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusOK, w.Code)
}

func TestMiddleware_RefusalsAllocateLittle(t *testing.T) {
	mw, err := auth.NewMiddleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{fixed}, Required: true})
	require.NoError(t, err)
	h := mw.Handler(whoami)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	w := discard{header: http.Header{}}
	allocs := testing.AllocsPerRun(100, func() {
		clear(w.header)
		h.ServeHTTP(w, r)
	})
	assert.LessOrEqual(t, allocs, 1.0, "a 401 for a missing credential is rendered once")
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

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
	mw, err := auth.NewMiddleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{fixed}, Realm: "shop"})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /me", auth.RequireAuthenticated(whoami)) // this route needs a principal
	mux.Handle("GET /products", whoami)                      // this one serves anyone
	h := mw.Handler(mux)

	for _, header := range []string{"Bearer good-user_42", ""} {
		r := httptest.NewRequest(http.MethodGet, "/me", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), w.Body.Len() > 0)
	}
	// Output:
	// 200  true
	// 401 Bearer realm="shop" true
}

func ExampleMiddleware_Authenticate() {
	mw, err := auth.NewMiddleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{fixed}})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer bad")
	_, err = mw.Authenticate(r)
	fmt.Println(errors.Is(err, auth.ErrInvalidCredential))
	// Output: true
}

func BenchmarkMiddleware(b *testing.B) {
	mw, err := auth.NewMiddleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{fixed}})
	require.NoError(b, err)
	h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, bc := range []struct{ name, header string }{{"authenticated", "Bearer good-alice"}, {"anonymous", ""}} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if bc.header != "" {
				r.Header.Set("Authorization", bc.header)
			}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(nil, r)
			}
		})
	}
}
