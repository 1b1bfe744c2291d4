// Package httpsec is HTTP middleware that makes a service safe by default:
// CORS, security response headers, request body limits, cross-origin
// (CSRF) protection and a Host allow-list. It uses the standard library
// only, and every refusal is an RFC 9457 application/problem+json answer.
//
// Each protection has a Config struct whose zero fields have documented,
// strict defaults, and a New function that validates the configuration
// eagerly: a dangerous or malformed setting, such as "*" with credentials
// or a "null" origin, is a [*ConfigError] at start-up, never a surprise in
// production. The compiled configuration is immutable and safe for
// concurrent use; every middleware has the shape func(http.Handler)
// http.Handler and works with [http.ServeMux] or any router.
//
// # Getting started
//
// A JSON API that browser pages on app.example.com call with cookies:
//
//	cors, err := httpsec.NewCORS(httpsec.CORSConfig{
//		AllowedOrigins:   []string{"https://app.example.com"},
//		AllowedMethods:   []string{"GET", "POST", "DELETE"},
//		AllowCredentials: true,
//	})
//	headers, err := httpsec.NewHeaders(httpsec.HeadersConfig{})
//	body, err := httpsec.NewBodyLimit(httpsec.BodyLimitConfig{})
//	csrf, err := httpsec.NewCrossOrigin(httpsec.CrossOriginConfig{
//		TrustedOrigins: []string{"https://app.example.com"},
//	})
//	hosts, err := httpsec.NewHostCheck(httpsec.HostCheckConfig{
//		AllowedHosts: []string{"api.example.com"},
//	})
//	handler := hosts.Handler(headers.Handler(cors.Handler(csrf.Handler(body.Handler(mux)))))
//
// # Order
//
// Put [HostCheck] outermost, then [Headers] so that refusals carry the
// security headers too, then [CORS] (it answers preflights itself and must
// run before the cross-origin check, which lets OPTIONS through anyway),
// then [CrossOrigin] and [BodyLimit]. An origin allowed by CORS that sends
// state-changing requests with cookies must also be listed in
// CrossOriginConfig.TrustedOrigins: CORS lets its page read responses,
// CrossOrigin decides whether its writes are accepted at all.
//
// # CORS
//
// [CORS] matches origins by parsing them: exact origins are compared in
// canonical form, and "https://*.example.com" patterns match the parsed
// host's labels, never a string prefix. Preflights are checked against the
// allowed methods and headers with bounded, allocation-free parsing, so a
// megabyte of Access-Control-Request-Headers is refused after one length
// check. Every response varies on Origin.
//
// An origin that is not allowed gets a bare 403 and learns nothing. An
// allowed origin whose preflight asks for a method or header the policy
// lacks gets the allowed origin and lists with its refusal, so that the
// browser's console names the method or header instead of reporting a
// missing Access-Control-Allow-Origin. [CORSConfig].AllowTraceContext lets
// the W3C trace-context headers of browser tracing through. Under "*"
// (without credentials), the opaque "null" origin of sandboxed iframes and
// file: pages is allowed like any other, as Fetch does; listing "null" is
// a configuration error.
//
// # Security headers
//
// [Headers] with a zero [HeadersConfig] sends Content-Security-Policy
// [APICSP], X-Content-Type-Options, X-Frame-Options, Referrer-Policy,
// Permissions-Policy, Cross-Origin-Opener-Policy,
// Cross-Origin-Resource-Policy, Strict-Transport-Security on HTTPS, and
// Cache-Control: no-store on authenticated requests. For HTML pages, build
// a policy with [StrictPageCSP] or [NewCSP]; when it uses [NonceSource]
// each response gets a fresh nonce, which templates read with [Nonce].
package httpsec
