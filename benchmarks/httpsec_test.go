package benchmarks

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/cors"
	"github.com/unrolled/secure"

	"github.com/bedrock-go/bedrock/httpsec"
)

// httpsecWriter is a reusable ResponseWriter, so that the figures measure
// the middleware rather than a recorder.
type httpsecWriter struct {
	h    http.Header
	code int
}

func (w *httpsecWriter) Header() http.Header         { return w.h }
func (w *httpsecWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *httpsecWriter) WriteHeader(code int)        { w.code = code }

var httpsecOK = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

func runHandler(b *testing.B, h http.Handler, r *http.Request, wantCode int) {
	b.Helper()
	w := &httpsecWriter{h: http.Header{}}
	h.ServeHTTP(w, r)
	if w.code != wantCode {
		b.Fatalf("status %d, want %d", w.code, wantCode)
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkCORSPreflight answers the same preflights with the same policy:
// two exact origins and a wildcard subdomain, four methods, three headers,
// credentials. The huge case sends 1 MiB of Access-Control-Request-Headers,
// the preflight amplification attack; both libraries refuse it (rs/cors
// with a bare 204, Bedrock with a 403 problem+json).
func BenchmarkCORSPreflight(b *testing.B) {
	origins := []string{"https://app.example.com", "https://admin.example.com", "https://*.example.org"}
	methods := []string{"GET", "POST", "PUT", "DELETE"}
	headers := []string{"Content-Type", "Authorization", "X-Request-Id"}
	br, err := httpsec.NewCORS(httpsec.CORSConfig{
		AllowedOrigins: origins, AllowedMethods: methods, AllowedHeaders: headers,
		AllowCredentials: true, MaxAge: 600e9,
	})
	if err != nil {
		b.Fatal(err)
	}
	rs := cors.New(cors.Options{
		AllowedOrigins: origins, AllowedMethods: methods, AllowedHeaders: headers,
		AllowCredentials: true, MaxAge: 600,
	})
	cases := []struct {
		name, origin, acrh string
		bedrockCode        int
	}{
		{"exact", "https://admin.example.com", "content-type,authorization", http.StatusNoContent},
		{"wildcard", "https://tenant.example.org", "content-type,x-request-id", http.StatusNoContent},
		{"denied_origin", "https://evil.example", "content-type", http.StatusForbidden},
		{"huge_acrh_1MiB", "https://app.example.com", strings.Repeat("a,", 1<<19), http.StatusForbidden},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodOptions, "https://api.example.com/items", nil)
		r.Header.Set("Origin", tc.origin)
		r.Header.Set("Access-Control-Request-Method", "PUT")
		r.Header.Set("Access-Control-Request-Headers", tc.acrh)
		b.Run(tc.name, func(b *testing.B) {
			b.Run("bedrock", func(b *testing.B) { runHandler(b, br.Handler(httpsecOK), r, tc.bedrockCode) })
			b.Run("rscors", func(b *testing.B) { runHandler(b, rs.Handler(httpsecOK), r, http.StatusNoContent) })
		})
	}
}

// BenchmarkCORSActual adds the CORS headers to a simple cross-origin GET.
func BenchmarkCORSActual(b *testing.B) {
	origins := []string{"https://app.example.com", "https://*.example.org"}
	br, err := httpsec.NewCORS(httpsec.CORSConfig{AllowedOrigins: origins, AllowCredentials: true})
	if err != nil {
		b.Fatal(err)
	}
	rs := cors.New(cors.Options{AllowedOrigins: origins, AllowCredentials: true})
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/items", nil)
	r.Header.Set("Origin", "https://app.example.com")
	b.Run("bedrock", func(b *testing.B) { runHandler(b, br.Handler(httpsecOK), r, 0) })
	b.Run("rscors", func(b *testing.B) { runHandler(b, rs.Handler(httpsecOK), r, 0) })
}

// BenchmarkSecureHeaders sets the same eight headers on an HTTPS request:
// CSP, HSTS (two years, subdomains), nosniff, DENY, no-referrer,
// Permissions-Policy, COOP and CORP; the nonce case adds a fresh CSP nonce
// to the request context.
func BenchmarkSecureHeaders(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	r.TLS = &tls.ConnectionState{}
	unrolled := func(csp string) *secure.Secure {
		return secure.New(secure.Options{
			ContentSecurityPolicy:     csp,
			STSSeconds:                63072000,
			STSIncludeSubdomains:      true,
			ContentTypeNosniff:        true,
			FrameDeny:                 true,
			ReferrerPolicy:            "no-referrer",
			PermissionsPolicy:         httpsec.DefaultPermissionsPolicy,
			CrossOriginOpenerPolicy:   "same-origin",
			CrossOriginResourcePolicy: "same-origin",
		})
	}
	b.Run("api", func(b *testing.B) {
		br, err := httpsec.NewHeaders(httpsec.HeadersConfig{NoStore: httpsec.NoStoreNever})
		if err != nil {
			b.Fatal(err)
		}
		b.Run("bedrock", func(b *testing.B) { runHandler(b, br.Handler(httpsecOK), r, 0) })
		b.Run("unrolled", func(b *testing.B) { runHandler(b, unrolled(httpsec.APICSP).Handler(httpsecOK), r, 0) })
	})
	b.Run("nonce", func(b *testing.B) {
		policy := "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'; base-uri 'none'"
		csp, err := httpsec.ParseCSP(policy)
		if err != nil {
			b.Fatal(err)
		}
		br, err := httpsec.NewHeaders(httpsec.HeadersConfig{CSP: csp, NoStore: httpsec.NoStoreNever})
		if err != nil {
			b.Fatal(err)
		}
		u := unrolled(strings.ReplaceAll(policy, "'nonce-{nonce}'", "'nonce-$NONCE'"))
		b.Run("bedrock", func(b *testing.B) { runHandler(b, br.Handler(httpsecOK), r, 0) })
		b.Run("unrolled", func(b *testing.B) { runHandler(b, u.Handler(httpsecOK), r, 0) })
	})
}
