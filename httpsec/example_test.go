package httpsec_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bedrock-go/bedrock/httpsec"
)

// A JSON API called with cookies by a single-page app on another origin.
func Example() {
	cors, err := httpsec.NewCORS(httpsec.CORSConfig{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowedMethods:   []string{"GET", "POST", "DELETE"},
		AllowCredentials: true,
		ExposedHeaders:   []string{"RateLimit-Policy", "RateLimit"},
	})
	if err != nil {
		panic(err)
	}
	headers, err := httpsec.NewHeaders(httpsec.HeadersConfig{})
	if err != nil {
		panic(err)
	}
	csrf, err := httpsec.NewCrossOrigin(httpsec.CrossOriginConfig{TrustedOrigins: []string{"https://app.example.com"}})
	if err != nil {
		panic(err)
	}
	body, err := httpsec.NewBodyLimit(httpsec.BodyLimitConfig{MaxBytes: 64 << 10})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	handler := headers.Handler(cors.Handler(csrf.Handler(body.Handler(mux))))

	pre := httptest.NewRequest(http.MethodOptions, "https://api.example.com/items", nil)
	pre.Header.Set("Origin", "https://app.example.com")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "content-type")
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, pre)
	fmt.Println("preflight:", w.Code, w.Header().Get("Access-Control-Allow-Origin"))

	post := httptest.NewRequest(http.MethodPost, "https://api.example.com/items", strings.NewReader(`{}`))
	post.Header.Set("Origin", "https://app.example.com")
	post.Header.Set("Sec-Fetch-Site", "same-site")
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, post)
	fmt.Println("app:", w.Code, w.Header().Get("Access-Control-Allow-Credentials"))

	evil := httptest.NewRequest(http.MethodPost, "https://api.example.com/items", strings.NewReader(`{}`))
	evil.Header.Set("Origin", "https://evil.example")
	evil.Header.Set("Sec-Fetch-Site", "cross-site")
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, evil)
	fmt.Println("evil:", w.Code, w.Header().Get("Content-Type"))
	// Output:
	// preflight: 204 https://app.example.com
	// app: 201 true
	// evil: 403 application/problem+json
}

// A single-page app traced with OpenTelemetry's browser instrumentation
// sends traceparent with its calls. A header outside the policy is refused
// with the allowed lists, so that the browser names it.
func ExampleNewCORS_traceContext() {
	cors, err := httpsec.NewCORS(httpsec.CORSConfig{
		AllowedOrigins:    []string{"https://app.example.com"},
		AllowedMethods:    []string{"GET", "POST", "PUT"},
		AllowedHeaders:    []string{"Authorization", "Content-Type"},
		AllowTraceContext: true,
		Hooks:             httpsec.Hooks{OnReject: func(_ *http.Request, err error) { fmt.Println("refused:", err) }},
	})
	if err != nil {
		panic(err)
	}
	handler := cors.Handler(http.NotFoundHandler())
	for _, headers := range []string{"authorization,content-type,traceparent", "content-type,x-debug"} {
		pre := httptest.NewRequest(http.MethodOptions, "https://api.example.com/items", nil)
		pre.Header.Set("Origin", "https://app.example.com")
		pre.Header.Set("Access-Control-Request-Method", "PUT")
		pre.Header.Set("Access-Control-Request-Headers", headers)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, pre)
		fmt.Println(headers, "->", w.Code, w.Header().Get("Access-Control-Allow-Headers"))
	}
	// Output:
	// authorization,content-type,traceparent -> 204 Authorization, Content-Type, Traceparent, Tracestate, Baggage
	// refused: httpsec: request header not allowed by CORS policy
	// content-type,x-debug -> 204 Authorization, Content-Type, Traceparent, Tracestate, Baggage
}

func ExampleNewCORS_credentialsWithAnyOrigin() {
	_, err := httpsec.NewCORS(httpsec.CORSConfig{AllowedOrigins: []string{"*"}, AllowCredentials: true})
	fmt.Println(errors.Is(err, httpsec.ErrAnyOriginWithCredentials))
	fmt.Println(err)
	// Output:
	// true
	// httpsec: CORSConfig.AllowedOrigins "*": any origin (*) cannot be combined with credentials
}

func ExampleHeaders() {
	headers, err := httpsec.NewHeaders(httpsec.HeadersConfig{})
	if err != nil {
		panic(err)
	}
	w := httptest.NewRecorder()
	headers.Handler(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy"} {
		fmt.Printf("%s: %s\n", k, w.Header().Get(k))
	}
	// Output:
	// Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
	// X-Content-Type-Options: nosniff
	// X-Frame-Options: DENY
	// Referrer-Policy: no-referrer
	// Cross-Origin-Opener-Policy: same-origin
}

// A page whose inline script carries the response's nonce.
func ExampleNonce() {
	csp, err := httpsec.StrictPageCSP().Set("img-src", httpsec.Self, "https://images.example.com").Build()
	if err != nil {
		panic(err)
	}
	headers, err := httpsec.NewHeaders(httpsec.HeadersConfig{CSP: csp})
	if err != nil {
		panic(err)
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<script nonce="%s">start()</script>`, httpsec.Nonce(r.Context()))
	})
	w := httptest.NewRecorder()
	headers.Handler(page).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	nonce := strings.TrimSuffix(strings.TrimPrefix(w.Body.String(), `<script nonce="`), `">start()</script>`)
	fmt.Println(len(nonce), strings.Contains(w.Header().Get("Content-Security-Policy"), "'nonce-"+nonce+"'"))
	fmt.Println(csp)
	// Output:
	// 24 true
	// default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'self' 'nonce-{nonce}'; img-src 'self' https://images.example.com; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'
}

func ExampleBodyLimit() {
	limit, err := httpsec.NewBodyLimit(httpsec.BodyLimitConfig{MaxBytes: 8})
	if err != nil {
		panic(err)
	}
	w := httptest.NewRecorder()
	limit.Handler(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("far too long")))
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	// Output: 413 application/problem+json
}

func ExampleHostCheck() {
	hosts, err := httpsec.NewHostCheck(httpsec.HostCheckConfig{AllowedHosts: []string{"api.example.com", "*.example.org"}})
	if err != nil {
		panic(err)
	}
	for _, host := range []string{"api.example.com:443", "tenant.example.org", "attacker.example"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = host
		fmt.Println(host, hosts.Check(r))
	}
	// Output:
	// api.example.com:443 <nil>
	// tenant.example.org <nil>
	// attacker.example httpsec: host not allowed
}

// Cookie-authenticated endpoints refuse cross-site form posts, without
// tokens.
func ExampleCrossOrigin() {
	csrf, err := httpsec.NewCrossOrigin(httpsec.CrossOriginConfig{
		TrustedOrigins: []string{"https://sso.example.com"},
		BypassPatterns: []string{"POST /webhooks/{provider}"},
	})
	if err != nil {
		panic(err)
	}
	for _, tc := range []struct{ path, site, origin string }{
		{"/settings", "same-origin", "https://app.example.com"},
		{"/settings", "cross-site", "https://evil.example"},
		{"/settings", "cross-site", "https://sso.example.com"},
		{"/webhooks/stripe", "cross-site", "https://evil.example"},
		{"/settings", "", ""}, // curl, a server, a mobile app
	} {
		r := httptest.NewRequest(http.MethodPost, "https://app.example.com"+tc.path, nil)
		if tc.site != "" {
			r.Header.Set("Sec-Fetch-Site", tc.site)
			r.Header.Set("Origin", tc.origin)
		}
		fmt.Println(tc.path, tc.site, errors.Is(csrf.Check(r), httpsec.ErrCrossOriginRequest))
	}
	// Output:
	// /settings same-origin false
	// /settings cross-site true
	// /settings cross-site false
	// /webhooks/stripe cross-site false
	// /settings  false
}
