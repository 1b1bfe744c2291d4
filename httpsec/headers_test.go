package httpsec_test

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
)

func mustHeaders(t testing.TB, cfg httpsec.HeadersConfig) *httpsec.Headers {
	t.Helper()
	h, err := httpsec.NewHeaders(cfg)
	require.NoError(t, err)
	return h
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHeaders_ZeroConfigIsStrict(t *testing.T) {
	h := mustHeaders(t, httpsec.HeadersConfig{}).Handler(okHandler)
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	r.TLS = &tls.ConnectionState{}
	got := serve(h, r).Header()
	want := map[string]string{
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
		"Strict-Transport-Security":    "max-age=63072000; includeSubDomains",
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Referrer-Policy":              "no-referrer",
		"Permissions-Policy":           httpsec.DefaultPermissionsPolicy,
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	for key, value := range want {
		t.Run(key, func(t *testing.T) {
			assert.Equal(t, []string{value}, got.Values(key))
		})
	}
	assert.Empty(t, got.Get("Cache-Control"), "an anonymous request may be cached")
}

func TestHeaders_HSTSOnlyOnHTTPS(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	h := mustHeaders(t, httpsec.HeadersConfig{HSTS: httpsec.HSTSConfig{TrustedProxies: proxies}}).Handler(okHandler)
	cases := []struct {
		name   string
		tls    bool
		remote string
		proto  []string
		fwd    []string
		want   bool
	}{
		{"direct TLS", true, "203.0.113.9:5000", nil, nil, true},
		{"plain HTTP", false, "203.0.113.9:5000", nil, nil, false},
		{"trusted proxy says https", false, "10.1.2.3:5000", []string{"https"}, nil, true},
		{"trusted IPv6 proxy says https", false, "[fd00::5]:5000", []string{"HTTPS"}, nil, true},
		{"trusted IPv4-mapped peer", false, "[::ffff:10.1.2.3]:5000", []string{"https"}, nil, true},
		{"trusted proxy says http", false, "10.1.2.3:5000", []string{"http"}, nil, false},
		{"nearest proxy value wins", false, "10.1.2.3:5000", []string{"https, http"}, nil, false},
		{"nearest proxy value wins, https last", false, "10.1.2.3:5000", []string{"http", "https"}, nil, true},
		{"untrusted peer says https", false, "203.0.113.9:5000", []string{"https"}, nil, false},
		{"unparsable peer", false, "somewhere", []string{"https"}, nil, false},
		{"Forwarded proto", false, "10.1.2.3:5000", nil, []string{`for=192.0.2.60;proto=https;by=203.0.113.43`}, true},
		{"Forwarded quoted, last element", false, "10.1.2.3:5000", nil, []string{`proto=http, for=x;Proto="HTTPS"`}, true},
		{"Forwarded last element is http", false, "10.1.2.3:5000", nil, []string{`proto=https, proto=http`}, false},
		{"Forwarded without proto", false, "10.1.2.3:5000", nil, []string{`for=192.0.2.60`}, false},
		{"X-Forwarded-Proto takes precedence", false, "10.1.2.3:5000", []string{"http"}, []string{`proto=https`}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tc.proto != nil {
				r.Header["X-Forwarded-Proto"] = tc.proto
			}
			if tc.fwd != nil {
				r.Header["Forwarded"] = tc.fwd
			}
			got := serve(h, r).Header().Get("Strict-Transport-Security")
			assert.Equal(t, tc.want, got != "", got)
		})
	}
	plain := mustHeaders(t, httpsec.HeadersConfig{}).Handler(okHandler)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-Forwarded-Proto", "https")
	assert.Empty(t, serve(plain, r).Header().Get("Strict-Transport-Security"), "no proxy is trusted by default")
}

func TestHeaders_HSTSValues(t *testing.T) {
	cases := []struct {
		name string
		cfg  httpsec.HSTSConfig
		want string
	}{
		{"default", httpsec.HSTSConfig{}, "max-age=63072000; includeSubDomains"},
		{"preload", httpsec.HSTSConfig{Preload: true}, "max-age=63072000; includeSubDomains; preload"},
		{"exclude subdomains", httpsec.HSTSConfig{ExcludeSubdomains: true, MaxAge: 24 * time.Hour}, "max-age=86400"},
		{"omitted", httpsec.HSTSConfig{MaxAge: -1}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.TLS = &tls.ConnectionState{}
			got := serve(mustHeaders(t, httpsec.HeadersConfig{HSTS: tc.cfg}).Handler(okHandler), r)
			assert.Equal(t, tc.want, got.Header().Get("Strict-Transport-Security"))
		})
	}
}

func TestHeaders_CustomValuesAndOmit(t *testing.T) {
	h := mustHeaders(t, httpsec.HeadersConfig{
		FrameOptions:              "sameorigin",
		ReferrerPolicy:            "no-referrer, STRICT-ORIGIN-WHEN-CROSS-ORIGIN",
		PermissionsPolicy:         "camera=(self)",
		CrossOriginOpenerPolicy:   "same-origin-allow-popups",
		CrossOriginResourcePolicy: "cross-origin",
		Omit:                      []string{"content-security-policy", "Strict-Transport-Security"},
	}).Handler(okHandler)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.TLS = &tls.ConnectionState{}
	got := serve(h, r).Header()
	assert.Equal(t, "SAMEORIGIN", got.Get("X-Frame-Options"))
	assert.Equal(t, "no-referrer, strict-origin-when-cross-origin", got.Get("Referrer-Policy"))
	assert.Equal(t, "camera=(self)", got.Get("Permissions-Policy"))
	assert.Equal(t, "same-origin-allow-popups", got.Get("Cross-Origin-Opener-Policy"))
	assert.Equal(t, "cross-origin", got.Get("Cross-Origin-Resource-Policy"))
	assert.Empty(t, got.Values("Content-Security-Policy"))
	assert.Empty(t, got.Values("Strict-Transport-Security"))
	assert.Equal(t, "nosniff", got.Get("X-Content-Type-Options"))
}

func TestHeaders_HandlerMayOverride(t *testing.T) {
	h := mustHeaders(t, httpsec.HeadersConfig{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/embed" {
			w.Header().Set("X-Frame-Options", "SAMEORIGIN")
			w.Header().Add("X-Content-Type-Options", "extra")
		}
	}))
	got := serve(h, httptest.NewRequest(http.MethodGet, "/embed", nil)).Header()
	assert.Equal(t, "SAMEORIGIN", got.Get("X-Frame-Options"))
	assert.Equal(t, []string{"nosniff", "extra"}, got.Values("X-Content-Type-Options"))
	// The shared values the middleware uses are untouched by Set and Add.
	got = serve(h, httptest.NewRequest(http.MethodGet, "/", nil)).Header()
	assert.Equal(t, "DENY", got.Get("X-Frame-Options"))
	assert.Equal(t, []string{"nosniff"}, got.Values("X-Content-Type-Options"))
}

func TestHeaders_NoStore(t *testing.T) {
	cases := []struct {
		name    string
		cfg     httpsec.HeadersConfig
		headers map[string]string
		want    string
	}{
		{"anonymous", httpsec.HeadersConfig{}, nil, ""},
		{"bearer token", httpsec.HeadersConfig{}, map[string]string{"Authorization": "Bearer x"}, "no-store"},
		{"cookie", httpsec.HeadersConfig{}, map[string]string{"Cookie": "sid=1"}, "no-store"},
		{"always", httpsec.HeadersConfig{NoStore: httpsec.NoStoreAlways}, nil, "no-store"},
		{"never", httpsec.HeadersConfig{NoStore: httpsec.NoStoreNever}, map[string]string{"Authorization": "Bearer x"}, ""},
		{"custom predicate", httpsec.HeadersConfig{Authenticated: func(r *http.Request) bool { return r.Header.Get("X-User") != "" }},
			map[string]string{"X-User": "ann", "Cookie": "theme=dark"}, "no-store"},
		{"custom predicate says no", httpsec.HeadersConfig{Authenticated: func(r *http.Request) bool { return false }},
			map[string]string{"Cookie": "theme=dark"}, ""},
		{"omitted", httpsec.HeadersConfig{NoStore: httpsec.NoStoreAlways, Omit: []string{"Cache-Control"}}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			got := serve(mustHeaders(t, tc.cfg).Handler(okHandler), r)
			assert.Equal(t, tc.want, got.Header().Get("Cache-Control"))
		})
	}
}

func TestNewHeaders_ConstructionErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  httpsec.HeadersConfig
	}{
		{"frame options", httpsec.HeadersConfig{FrameOptions: "ALLOW-FROM https://a.com"}},
		{"referrer policy", httpsec.HeadersConfig{ReferrerPolicy: "never"}},
		{"coop", httpsec.HeadersConfig{CrossOriginOpenerPolicy: "cross-origin"}},
		{"corp", httpsec.HeadersConfig{CrossOriginResourcePolicy: "anyone"}},
		{"header injection", httpsec.HeadersConfig{PermissionsPolicy: "camera=()\r\nSet-Cookie: a=b"}},
		{"unknown omitted header", httpsec.HeadersConfig{Omit: []string{"Server"}}},
		{"preload without subdomains", httpsec.HeadersConfig{HSTS: httpsec.HSTSConfig{Preload: true, ExcludeSubdomains: true}}},
		{"preload too short", httpsec.HeadersConfig{HSTS: httpsec.HSTSConfig{Preload: true, MaxAge: 30 * 24 * time.Hour}}},
		{"sub-second HSTS", httpsec.HeadersConfig{HSTS: httpsec.HSTSConfig{MaxAge: time.Millisecond}}},
		{"invalid proxy prefix", httpsec.HeadersConfig{HSTS: httpsec.HSTSConfig{TrustedProxies: []netip.Prefix{{}}}}},
		{"CSP set and omitted", httpsec.HeadersConfig{CSP: mustCSP(t, "img-src 'self'"), Omit: []string{"Content-Security-Policy"}}},
		{"unknown no-store mode", httpsec.HeadersConfig{NoStore: httpsec.NoStoreMode(7)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := httpsec.NewHeaders(tc.cfg)
			assert.Nil(t, h)
			require.ErrorIs(t, err, httpsec.ErrInvalidConfig)
			var ce *httpsec.ConfigError
			assert.True(t, errors.As(err, &ce))
		})
	}
}

func TestHeaders_NonceIsFreshAndInContext(t *testing.T) {
	csp, err := httpsec.StrictPageCSP().Build()
	require.NoError(t, err)
	var seen []string
	h := mustHeaders(t, httpsec.HeadersConfig{CSP: csp}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, httpsec.Nonce(r.Context()))
	}))
	var policies []string
	for range 3 {
		policies = append(policies, serve(h, httptest.NewRequest(http.MethodGet, "/", nil)).Header().Get("Content-Security-Policy"))
	}
	require.Len(t, seen, 3)
	for i, nonce := range seen {
		assert.Len(t, nonce, 24)
		want := "default-src 'self'; script-src 'nonce-" + nonce + "' 'strict-dynamic'; style-src 'self' 'nonce-" + nonce +
			"'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
		assert.Equal(t, want, policies[i])
	}
	assert.NotEqual(t, seen[0], seen[1])
	assert.NotEqual(t, seen[1], seen[2])
	assert.Empty(t, httpsec.Nonce(httptest.NewRequest(http.MethodGet, "/", nil).Context()))
}

func TestHeaders_NonceContextKeepsParentValues(t *testing.T) {
	type key struct{}
	csp, err := httpsec.ParseCSP("script-src 'nonce-{nonce}'")
	require.NoError(t, err)
	var got any
	h := mustHeaders(t, httpsec.HeadersConfig{CSP: csp}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Context().Value(key{})
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	serve(h, r.WithContext(contextWith(r, key{}, "parent")))
	assert.Equal(t, "parent", got)
}

func TestHeaders_ConcurrentNoncesAreUnique(t *testing.T) {
	csp, err := httpsec.StrictPageCSP().Build()
	require.NoError(t, err)
	var mu sync.Mutex
	seen := map[string]bool{}
	h := mustHeaders(t, httpsec.HeadersConfig{CSP: csp}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := httpsec.Nonce(r.Context())
		if !strings.Contains(w.Header().Get("Content-Security-Policy"), "'nonce-"+n+"'") {
			t.Error("nonce in context differs from the header")
		}
		mu.Lock()
		seen[n] = true
		mu.Unlock()
	}))
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				serve(h, httptest.NewRequest(http.MethodGet, "/", nil))
			}
		}()
	}
	wg.Wait()
	assert.Len(t, seen, 1000)
}

func TestHeaders_Allocations(t *testing.T) {
	w := &discardWriter{h: http.Header{}}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.TLS = &tls.ConnectionState{}
	h := mustHeaders(t, httpsec.HeadersConfig{}).Handler(okHandler)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}))

	csp, err := httpsec.StrictPageCSP().Build()
	require.NoError(t, err)
	hn := mustHeaders(t, httpsec.HeadersConfig{CSP: csp}).Handler(okHandler)
	// The header string, the context that carries the nonce, and the
	// request copy that r.WithContext makes.
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() {
		clear(w.h)
		hn.ServeHTTP(w, r)
	}), 3.0+raceAllocSlack)
}

func mustCSP(t testing.TB, policy string) httpsec.CSP {
	t.Helper()
	csp, err := httpsec.ParseCSP(policy)
	require.NoError(t, err)
	return csp
}

func TestHeaders_CSPReportOnly(t *testing.T) {
	for name, csp := range map[string]httpsec.CSP{
		"static": mustCSP(t, "default-src 'self'"),
		"nonce":  mustCSP(t, "script-src 'nonce-{nonce}'"),
	} {
		t.Run(name, func(t *testing.T) {
			h := mustHeaders(t, httpsec.HeadersConfig{CSP: csp, CSPReportOnly: true}).Handler(okHandler)
			got := serve(h, httptest.NewRequest(http.MethodGet, "/", nil)).Header()
			assert.Empty(t, got.Values("Content-Security-Policy"))
			assert.Contains(t, got.Get("Content-Security-Policy-Report-Only"), strings.Split(csp.String(), " ")[0])
			assert.NotContains(t, got.Get("Content-Security-Policy-Report-Only"), "{nonce}")
		})
	}
}
