// Package httpsec makes a service's HTTP safe by default: middleware for
// CORS, security response headers, request body limits, cross-origin
// (CSRF) protection and a Host allow-list, whose every refusal is an RFC
// 9457 application/problem+json answer; [Outbound], for requests the
// service makes to URLs it does not control (SSRF); and [ServerTLS], the
// TLS side of an HTTPS server. It uses the standard library only.
//
// Each protection has a Config struct whose zero fields have documented,
// strict defaults, and a New function that validates the configuration
// eagerly: a dangerous or malformed setting, such as "*" with credentials
// or a "null" origin, is a [*ConfigError] at start-up, never a surprise in
// production. The compiled configuration is immutable and safe for
// concurrent use; every middleware serves through its Handler(next) method
// and works with [http.ServeMux] or any router.
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
//
// # Outbound requests (SSRF)
//
// A service that fetches a URL someone else chose (a webhook, an avatar,
// a link preview, a payment callback) must not let that URL reach what
// the service can reach: its loopback, its private network, the cloud
// metadata endpoint at 169.254.169.254. [Outbound] is an http.Client
// factory, an [http.RoundTripper] and a [net.Dialer] Control that refuse
// every address that is not [Public] by the IANA special-purpose
// registries, in every spelling: IPv4-mapped and IPv4-compatible IPv6,
// NAT64, 6to4 and Teredo forms of such an address, and numeric hosts
// such as http://2130706433/ or 0x7f.1. The address is checked in the
// dialer, on the address being connected, so a name that resolves one
// way when checked and another when connected (DNS rebinding) is refused,
// and every redirect hop is checked again. Environment proxies are never
// used.
//
//	outbound, err := httpsec.NewOutbound(httpsec.OutboundConfig{
//		AllowedHosts: []string{"api.payments.example"},   // only this host
//		AllowedCIDRs: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}, // where it lives
//	})
//	resp, err := outbound.Client().Get(url)
//
// Refusals are [*OutboundError] values that name the address, its
// [AddrClass] and the block it is in. To retry with resilience's
// Transport, give it the Outbound as Base and a RetryIf that does not
// retry [ErrOutboundRefused]: a refusal is the same at every attempt.
//
// # TLS
//
// [ServerTLS] is the *tls.Config of an HTTPS server: TLS 1.2 and 1.3 with
// AEAD suites only (Mozilla's "intermediate" profile, or "modern" with
// MinVersion TLS 1.3), X25519 key exchange first, session-ticket keys
// rotated every six hours. Its certificate is re-read from its files when
// they change, without a restart and without dropping a connection; a new
// certificate that cannot be used is reported to
// Hooks.OnCertReloadError and the old one stays. With ClientCAs it
// requires client certificates (mutual TLS), and [ClientIdentity] turns
// the verified one into an [Identity]: subject, alternative names and
// SPIFFE ID.
//
//	st, err := httpsec.NewServerTLS(httpsec.ServerTLSConfig{CertFile: "tls.crt", KeyFile: "tls.key"})
//	srv := &http.Server{Addr: ":8443", Handler: handler, TLSConfig: st.Config()}
//	err = srv.ListenAndServeTLS("", "")
package httpsec
