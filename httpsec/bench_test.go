package httpsec_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bedrock-go/bedrock/httpsec"
)

func benchServe(b *testing.B, h http.Handler, r *http.Request) {
	b.Helper()
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

func BenchmarkHeaders(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	r.TLS = &tls.ConnectionState{}
	b.Run("api", func(b *testing.B) {
		benchServe(b, mustHeaders(b, httpsec.HeadersConfig{}).Handler(okHandler), r)
	})
	b.Run("nonce", func(b *testing.B) {
		csp, err := httpsec.StrictPageCSP().Build()
		if err != nil {
			b.Fatal(err)
		}
		benchServe(b, mustHeaders(b, httpsec.HeadersConfig{CSP: csp}).Handler(okHandler), r)
	})
}

func BenchmarkCORS(b *testing.B) {
	c := mustCORS(b, httpsec.CORSConfig{
		AllowedOrigins:   []string{"https://app.example.com", "https://*.example.org"},
		AllowedMethods:   []string{"GET", "POST", "PUT", "DELETE"},
		AllowedHeaders:   []string{"Content-Type", "Authorization", "X-Request-Id"},
		AllowCredentials: true,
	})
	h := c.Handler(okHandler)
	b.Run("preflight", func(b *testing.B) {
		benchServe(b, h, preflight("https://app.example.com", "PUT", "content-type,authorization"))
	})
	b.Run("preflight_wildcard", func(b *testing.B) {
		benchServe(b, h, preflight("https://tenant.example.org", "PUT", "content-type,authorization"))
	})
	b.Run("preflight_refused_header", func(b *testing.B) {
		benchServe(b, h, preflight("https://app.example.com", "PUT", "content-type,x-debug"))
	})
	b.Run("preflight_huge_headers", func(b *testing.B) {
		benchServe(b, h, preflight("https://app.example.com", "PUT", strings.Repeat("a,", 1<<19)))
	})
	b.Run("actual", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Origin", "https://app.example.com")
		benchServe(b, h, r)
	})
}

func BenchmarkCrossOrigin(b *testing.B) {
	c, err := httpsec.NewCrossOrigin(httpsec.CrossOriginConfig{})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "https://bank.example/transfer", nil)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	benchServe(b, c.Handler(okHandler), r)
}

func BenchmarkHostCheck(b *testing.B) {
	c, err := httpsec.NewHostCheck(httpsec.HostCheckConfig{AllowedHosts: []string{"api.example.com", "*.example.org"}})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com:8443/", nil)
	benchServe(b, c.Handler(okHandler), r)
}

func BenchmarkBodyLimit(b *testing.B) {
	bl := mustBodyLimit(b, httpsec.BodyLimitConfig{})
	body := &rewindBody{Reader: strings.NewReader(strings.Repeat("x", 512))}
	r := httptest.NewRequest(http.MethodPost, "/", body)
	h := bl.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		body.rewind(r)
		h.ServeHTTP(w, r)
	}
}

// rewindBody is a request body that can be read again, so that a benchmark
// loop allocates nothing of its own.
type rewindBody struct{ *strings.Reader }

func (b *rewindBody) Close() error { return nil }

func (b *rewindBody) rewind(r *http.Request) {
	_, _ = b.Seek(0, io.SeekStart)
	r.Body = b
}
