package httpsec

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitOrigin_AcceptsOnlyCanonicalSerialization(t *testing.T) {
	cases := []struct {
		in                 string
		scheme, host, port string
		ok                 bool
	}{
		{"https://example.com", "https", "example.com", "", true},
		{"http://localhost:8080", "http", "localhost", "8080", true},
		{"https://a.b.example.com:8443", "https", "a.b.example.com", "8443", true},
		{"http://127.0.0.1:3000", "http", "127.0.0.1", "3000", true},
		{"http://[::1]:3000", "http", "[::1]", "3000", true},
		{"chrome-extension://abcdef", "chrome-extension", "abcdef", "", true},
		{"https://Example.com", "", "", "", false},     // not lowercase
		{"HTTPS://example.com", "", "", "", false},     // not lowercase
		{"https://example.com:443", "", "", "", false}, // default port
		{"http://example.com:80", "", "", "", false},
		{"https://example.com/", "", "", "", false},
		{"https://example.com/path", "", "", "", false},
		{"https://user@example.com", "", "", "", false},
		{"https://example.com?x", "", "", "", false},
		{"https://example.com#x", "", "", "", false},
		{"https://example.com:0", "", "", "", false},
		{"https://example.com:08443", "", "", "", false},
		{"https://example.com:65536", "", "", "", false},
		{"https://example.com:", "", "", "", false},
		{"https://", "", "", "", false},
		{"null", "", "", "", false},
		{"", "", "", "", false},
		{"://example.com", "", "", "", false},
		{"https://exa mple.com", "", "", "", false},
		{"https://-bad.example.com", "", "", "", false},
		{"https://example..com", "", "", "", false},
		{"https://1.2.3", "", "", "", false},
		{"https://01.2.3.4", "", "", "", false},
		{"https://[::1", "", "", "", false},
		{"https://" + strings.Repeat("a", 400) + ".com", "", "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			scheme, host, port, ok := splitOrigin(tc.in)
			require.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.scheme, scheme)
			assert.Equal(t, tc.host, host)
			assert.Equal(t, tc.port, port)
		})
	}
}

func TestParseOriginEntry(t *testing.T) {
	cases := []struct {
		in        string
		canonical string
		pattern   *originPattern
		err       error
	}{
		{in: "https://example.com", canonical: "https://example.com"},
		{in: "HTTPS://Example.COM", canonical: "https://example.com"},
		{in: "https://example.com:443", canonical: "https://example.com"},
		{in: "http://example.com:8080", canonical: "http://example.com:8080"},
		{in: "http://[0:0::1]:8080", canonical: "http://[::1]:8080"},
		{in: "https://*.example.com", pattern: &originPattern{"https", ".example.com", ""}},
		{in: "https://*.example.com:8443", pattern: &originPattern{"https", ".example.com", "8443"}},
		{in: "null", err: ErrNullOrigin},
		{in: "NULL", err: ErrNullOrigin},
		{in: "example.com", err: ErrInvalidOrigin},
		{in: "https://example.com/", err: ErrInvalidOrigin},
		{in: "https://*.com", err: ErrInvalidOrigin},
		{in: "https://*", err: ErrInvalidOrigin},
		{in: "https://api-*.example.com", err: ErrInvalidOrigin},
		{in: "https://*.*.example.com", err: ErrInvalidOrigin},
		{in: "https://example.*", err: ErrInvalidOrigin},
		{in: "https://example.com:*", err: ErrInvalidOrigin},
		{in: "https://example.com:99999", err: ErrInvalidOrigin},
		{in: "https://ex ample.com", err: ErrInvalidOrigin},
		{in: "https://bücher.example", err: ErrInvalidOrigin},
		{in: "https://[fe80::1%25eth0]", err: ErrInvalidOrigin},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			p, err := parseOriginEntry("F", tc.in)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.ErrorIs(t, err, ErrInvalidConfig)
				var ce *ConfigError
				require.True(t, errors.As(err, &ce))
				assert.Equal(t, "F", ce.Field)
				assert.True(t, strings.HasPrefix(err.Error(), "httpsec: F "), err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.canonical, p.canonical)
			assert.Equal(t, tc.pattern, p.pattern)
		})
	}
}

func TestOriginPattern_MatchesParsedHostNeverPrefix(t *testing.T) {
	l, err := newOriginList("F", []string{"https://*.example.com"})
	require.NoError(t, err)
	cases := map[string]bool{
		"https://a.example.com":                                true,
		"https://a.b.example.com":                              true,
		"https://example.com":                                  false, // the apex is not a subdomain
		"http://a.example.com":                                 false, // scheme
		"https://a.example.com:8443":                           false, // port
		"https://a.example.com.evil.com":                       false,
		"https://evilexample.com":                              false,
		"https://evil.com/.example.com":                        false,
		"https://evil.com?.example.com":                        false,
		"https://evil.com#.example.com":                        false,
		"https://evil.com@a.example.com":                       false,
		"https://A.example.com":                                false, // browsers never send this
		"https://.example.com":                                 false,
		"https://a..example.com":                               false,
		"https://a.example.com:443":                            false, // non-canonical
		"null":                                                 false,
		"https://-a.example.com":                               false,
		"https://" + strings.Repeat("a.", 200) + "example.com": false,
		"https://a.example.co\u212a":                           false,
	}
	for origin, want := range cases {
		t.Run(origin, func(t *testing.T) {
			_, ok := l.match(origin)
			assert.Equal(t, want, ok)
		})
	}
}

func TestConfigError_Message(t *testing.T) {
	err := configErr("CORSConfig.AllowedOrigins", "x\"y", ErrInvalidOrigin, "")
	assert.Equal(t, `httpsec: CORSConfig.AllowedOrigins "x\"y": invalid origin`, err.Error())
	long := configErr("F", strings.Repeat("v", 500), ErrInvalidConfig, "why")
	assert.Less(t, len(long.Error()), 200)
}

// FuzzOrigin checks that origin parsing never panics, that what it accepts
// is exactly what it reassembles, and that a wildcard pattern only ever
// admits a real subdomain with the pattern's scheme and port.
func FuzzOrigin(f *testing.F) {
	for _, s := range []string{
		"https://example.com", "https://a.example.com", "http://localhost:8080", "null",
		"https://a.example.com.evil.com", "https://evil.com/.example.com", "http://[::1]:80",
		"https://A.example.com:443", "https://x@a.example.com", "", "https://*.example.com",
	} {
		f.Add(s)
	}
	l, err := newOriginList("F", []string{"https://*.example.com", "https://exact.test"})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, s string) {
		scheme, host, port, ok := splitOrigin(s)
		if ok {
			rebuilt := scheme + "://" + host
			if port != "" {
				rebuilt += ":" + port
			}
			if rebuilt != s {
				t.Fatalf("split %q into %q", s, rebuilt)
			}
			if !strings.HasPrefix(host, "[") {
				p, err := parseOriginEntry("F", s)
				if err != nil || p.canonical != s {
					t.Fatalf("canonical origin %q re-parsed as %q, %v", s, p.canonical, err)
				}
			}
		}
		if _, allowed := l.match(s); allowed && s != "https://exact.test" {
			rest, found := strings.CutPrefix(s, "https://")
			if !found || !strings.HasSuffix(rest, ".example.com") || strings.ContainsAny(rest, "/?#@:") ||
				len(rest) <= len(".example.com") || strings.Contains(rest, "..") {
				t.Fatalf("pattern admitted %q", s)
			}
		}
		// A parse of the entry itself must never panic either.
		_, _ = parseOriginEntry("F", s)
	})
}

// FuzzPreflightHeaders checks the allocation-free Access-Control-Request-
// Headers parser against a straightforward reference.
func FuzzPreflightHeaders(f *testing.F) {
	for _, s := range []string{
		"content-type", "Content-Type, X-Request-Id", "content-type,,x-request-id", " content-type ",
		"x-evil", "content-type,x-evil", ",,,", "content type", "\tcontent-type\t", strings.Repeat(",", 200),
	} {
		f.Add(s)
	}
	c, err := NewCORS(CORSConfig{
		AllowedOrigins: []string{"https://example.com"},
		AllowedHeaders: []string{"Content-Type", "X-Request-Id"},
	})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, v string) {
		got := c.checkHeaders([]string{v}) == headersOK
		want := len(v) <= c.maxHeaderLen
		for _, name := range strings.Split(v, ",") {
			name = strings.Trim(name, " \t")
			if name == "" {
				continue
			}
			known := strings.EqualFold(name, "content-type") || strings.EqualFold(name, "x-request-id")
			if !validToken(name) || !known {
				want = false
			}
		}
		if got != want {
			t.Fatalf("headersAllowed(%q) = %v, want %v", v, got, want)
		}
		if got {
			// An accepted list must be answerable: a preflight built from it is granted.
			r, _ := http.NewRequest(http.MethodOptions, "https://api.test/", nil)
			r.Header.Set("Origin", "https://example.com")
			r.Header.Set("Access-Control-Request-Method", "GET")
			r.Header["Access-Control-Request-Headers"] = []string{v}
			w := &headerRecorder{h: http.Header{}}
			c.preflight(w, r)
			if w.code != http.StatusNoContent {
				t.Fatalf("accepted %q but answered %d", v, w.code)
			}
		}
	})
}

type headerRecorder struct {
	h    http.Header
	code int
}

func (r *headerRecorder) Header() http.Header         { return r.h }
func (r *headerRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (r *headerRecorder) WriteHeader(code int)        { r.code = code }

// FuzzHost checks that Host parsing never panics and that the allow-list
// admits only the listed name or a real subdomain of the listed domain.
func FuzzHost(f *testing.F) {
	for _, s := range []string{
		"api.example.com", "API.example.com.:8080", "a.example.org", "example.org", "[::1]:80",
		"a.example.org.evil.com", "evil.com/.example.org", "", ":", "a..example.org",
	} {
		f.Add(s)
	}
	c, err := NewHostCheck(HostCheckConfig{AllowedHosts: []string{"api.example.com", "*.example.org"}})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, s string) {
		if !c.allowed(s) {
			return
		}
		name, _, ok := splitHost(lowerASCII(s))
		if !ok {
			t.Fatalf("allowed unparsable host %q", s)
		}
		if name != "api.example.com" && !(strings.HasSuffix(name, ".example.org") && validHostname(name)) {
			t.Fatalf("allowed %q (name %q)", s, name)
		}
	})
}
