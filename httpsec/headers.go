package httpsec

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/bedrock-go/bedrock/internal/httpfield"
)

// Defaults used for zero-valued fields of [HeadersConfig].
const (
	// DefaultHSTSMaxAge is two years, the value the HSTS preload list asks for.
	DefaultHSTSMaxAge = 2 * 365 * 24 * time.Hour
	// DefaultPermissionsPolicy turns off the powerful browser features an
	// API or a typical page never needs. Passkeys
	// (publickey-credentials-get) stay allowed, since a login page needs
	// them.
	DefaultPermissionsPolicy = "accelerometer=(), camera=(), display-capture=(), geolocation=(), " +
		"gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), screen-wake-lock=(), " +
		"serial=(), usb=(), xr-spatial-tracking=()"
)

// NoStoreMode chooses when [Headers] adds Cache-Control: no-store.
type NoStoreMode int

const (
	// NoStoreAuthenticated, the default, marks responses to authenticated
	// requests no-store, so that no shared or browser cache keeps a copy of
	// one user's data.
	NoStoreAuthenticated NoStoreMode = iota
	// NoStoreAlways marks every response no-store.
	NoStoreAlways
	// NoStoreNever leaves Cache-Control to the handler.
	NoStoreNever
)

// HSTSConfig configures Strict-Transport-Security.
type HSTSConfig struct {
	// MaxAge is how long browsers must use HTTPS only, in whole seconds.
	// Zero means DefaultHSTSMaxAge; negative omits the header.
	MaxAge time.Duration
	// ExcludeSubdomains drops includeSubDomains, which is sent by default.
	ExcludeSubdomains bool
	// Preload adds the preload token; it requires includeSubDomains and a
	// MaxAge of at least one year, as the preload list does.
	Preload bool
	// TrustedProxies lists the networks of reverse proxies that terminate
	// TLS. A request from one of them with X-Forwarded-Proto: https (or,
	// without it, Forwarded: proto=https) counts as HTTPS. Empty means only requests that reached this server over
	// TLS get the header: browsers ignore it over plain HTTP anyway, and a
	// client elsewhere could forge X-Forwarded-Proto.
	TrustedProxies []netip.Prefix
}

// HeadersConfig configures [NewHeaders]. The zero value is a complete,
// strict configuration for an API.
type HeadersConfig struct {
	// CSP is the Content-Security-Policy. Zero means APICSP. Use
	// [StrictPageCSP] or [NewCSP] for HTML pages.
	CSP CSP
	// CSPReportOnly sends the policy as
	// Content-Security-Policy-Report-Only, which browsers report on (to
	// the policy's report-to endpoint) but do not enforce: the way to try
	// a new policy on live traffic. Off by default.
	CSPReportOnly bool
	// HSTS configures Strict-Transport-Security, sent only on HTTPS.
	HSTS HSTSConfig
	// FrameOptions is X-Frame-Options: "DENY" (the default) or
	// "SAMEORIGIN". It protects browsers too old for frame-ancestors.
	FrameOptions string
	// ReferrerPolicy is Referrer-Policy; default "no-referrer".
	ReferrerPolicy string
	// PermissionsPolicy is Permissions-Policy; default
	// DefaultPermissionsPolicy.
	PermissionsPolicy string
	// CrossOriginOpenerPolicy is Cross-Origin-Opener-Policy; default
	// "same-origin".
	CrossOriginOpenerPolicy string
	// CrossOriginResourcePolicy is Cross-Origin-Resource-Policy; default
	// "same-origin". It does not affect CORS requests.
	CrossOriginResourcePolicy string
	// NoStore chooses when to send Cache-Control: no-store; default
	// NoStoreAuthenticated.
	NoStore NoStoreMode
	// Authenticated tells whether a request is authenticated, for
	// NoStoreAuthenticated. Nil means it carries an Authorization or a
	// Cookie header.
	Authenticated func(*http.Request) bool
	// Omit names headers to leave out, e.g. "X-Frame-Options" for a page
	// meant to be framed. Only the headers this middleware sets may be
	// named.
	Omit []string
}

// Headers sets security response headers before calling the next handler,
// which may still override any of them with Header().Set. It is safe for
// concurrent use; the configuration is compiled once and never changes.
//
// A Headers must be created with [NewHeaders]; the zero value is not
// usable. Header values are shared between responses to avoid allocating:
// replace a value with Header().Set or Del, never by writing into the slice
// that Header()[key] returns. Its one method is [Headers.Handler]: it
// refuses nothing, so there is nothing to check.
type Headers struct {
	static        []headerField
	hsts          []string
	proxies       []netip.Prefix
	csp           CSP
	cspKey        string
	noStore       NoStoreMode
	authenticated func(*http.Request) bool
	noStoreValue  []string
}

type headerField struct {
	key   string
	value []string
}

// isManaged reports whether key, in canonical form, is a header that
// Headers may set.
func isManaged(key string) bool {
	switch key {
	case "Content-Security-Policy", "Strict-Transport-Security", "X-Content-Type-Options",
		"X-Frame-Options", "Referrer-Policy", "Permissions-Policy",
		"Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy", "Cache-Control":
		return true
	}
	return false
}

// NewHeaders validates cfg and returns the middleware. Every error is a
// [*ConfigError].
func NewHeaders(cfg HeadersConfig) (*Headers, error) {
	omit, err := omitted(cfg.Omit)
	if err != nil {
		return nil, err
	}
	s := &Headers{noStore: cfg.NoStore, authenticated: cfg.Authenticated, noStoreValue: []string{"no-store"}}
	add := func(key, value string) {
		if !omit[key] {
			s.static = append(s.static, headerField{key, []string{value}})
		}
	}
	add("X-Content-Type-Options", "nosniff")
	for _, f := range []struct{ field, key, value, def string }{
		{"FrameOptions", "X-Frame-Options", cfg.FrameOptions, "DENY"},
		{"ReferrerPolicy", "Referrer-Policy", cfg.ReferrerPolicy, "no-referrer"},
		{"PermissionsPolicy", "Permissions-Policy", cfg.PermissionsPolicy, DefaultPermissionsPolicy},
		{"CrossOriginOpenerPolicy", "Cross-Origin-Opener-Policy", cfg.CrossOriginOpenerPolicy, "same-origin"},
		{"CrossOriginResourcePolicy", "Cross-Origin-Resource-Policy", cfg.CrossOriginResourcePolicy, "same-origin"},
	} {
		v := f.value
		if v == "" {
			v = f.def
		}
		v, err := checkHeaderSetting(f.field, v)
		if err != nil {
			return nil, err
		}
		add(f.key, v)
	}
	if omit["Content-Security-Policy"] && !cfg.CSP.IsZero() {
		return nil, configErr("HeadersConfig.Omit", "Content-Security-Policy", ErrInvalidConfig,
			"omits the policy that HeadersConfig.CSP sets")
	}
	s.cspKey = "Content-Security-Policy"
	if cfg.CSPReportOnly {
		s.cspKey = "Content-Security-Policy-Report-Only"
	}
	if !omit["Content-Security-Policy"] {
		s.csp = cfg.CSP
		if s.csp.IsZero() {
			s.csp = CSP{parts: []string{APICSP}}
		}
		if !s.csp.HasNonce() {
			add(s.cspKey, s.csp.parts[0])
			s.csp = CSP{}
		}
	}
	if !omit["Strict-Transport-Security"] {
		if err := s.setHSTS(cfg.HSTS); err != nil {
			return nil, err
		}
	}
	switch {
	case omit["Cache-Control"]:
		s.noStore = NoStoreNever
	case cfg.NoStore < NoStoreAuthenticated || cfg.NoStore > NoStoreNever:
		return nil, configErr("HeadersConfig.NoStore", strconv.Itoa(int(cfg.NoStore)), ErrInvalidConfig, "unknown mode")
	}
	return s, nil
}

func omitted(names []string) (map[string]bool, error) {
	omit := make(map[string]bool, len(names))
	for _, n := range names {
		key := http.CanonicalHeaderKey(n)
		if !isManaged(key) {
			return nil, configErr("HeadersConfig.Omit", n, ErrInvalidConfig, "not a header this middleware sets")
		}
		omit[key] = true
	}
	return omit, nil
}

// allowedSettings lists the values an enumerated header accepts; nil for
// a free-form one.
func allowedSettings(field string) []string {
	switch field {
	case "FrameOptions":
		return []string{"DENY", "SAMEORIGIN"}
	case "ReferrerPolicy":
		return []string{"no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
			"same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url"}
	case "CrossOriginOpenerPolicy":
		return []string{"same-origin", "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none"}
	case "CrossOriginResourcePolicy":
		return []string{"same-origin", "same-site", "cross-origin"}
	}
	return nil
}

// checkHeaderSetting validates a configured header value and returns it in
// its canonical case.
func checkHeaderSetting(field, v string) (string, error) {
	if !validHeaderValue(v) {
		return "", configErr("HeadersConfig."+field, v, ErrInvalidConfig, "only visible ASCII is allowed")
	}
	allowed := allowedSettings(field)
	if allowed == nil {
		return v, nil
	}
	// Referrer-Policy may list fallbacks, the last understood one wins.
	tokens := []string{v}
	if field == "ReferrerPolicy" {
		tokens = strings.Split(v, ",")
	}
	out := make([]string, 0, len(tokens))
	for _, t := range tokens {
		t = strings.TrimSpace(t)
		found := ""
		for _, a := range allowed {
			if strings.EqualFold(t, a) {
				found = a
			}
		}
		if found == "" {
			return "", configErr("HeadersConfig."+field, v, ErrInvalidConfig,
				"want one of "+strings.Join(allowed, ", "))
		}
		out = append(out, found)
	}
	return strings.Join(out, ", "), nil
}

func (s *Headers) setHSTS(cfg HSTSConfig) error {
	if cfg.MaxAge < 0 {
		return nil
	}
	age := cfg.MaxAge
	if age == 0 {
		age = DefaultHSTSMaxAge
	}
	if age < time.Second {
		return configErr("HSTSConfig.MaxAge", cfg.MaxAge.String(), ErrInvalidConfig, "must be at least one second")
	}
	if cfg.Preload && (cfg.ExcludeSubdomains || age < 365*24*time.Hour) {
		return configErr("HSTSConfig.Preload", "true", ErrInvalidConfig,
			"preloading requires includeSubDomains and a MaxAge of at least one year")
	}
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return configErr("HSTSConfig.TrustedProxies", p.String(), ErrInvalidConfig, "invalid prefix")
		}
		s.proxies = append(s.proxies, p.Masked())
	}
	v := "max-age=" + strconv.FormatInt(int64(age/time.Second), 10)
	if !cfg.ExcludeSubdomains {
		v += "; includeSubDomains"
	}
	if cfg.Preload {
		v += "; preload"
	}
	s.hsts = []string{v}
	return nil
}

// Handler returns next with the security headers set on its responses.
func (s *Headers) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for i := range s.static {
			h[s.static[i].key] = s.static[i].value
		}
		if s.hsts != nil && s.isHTTPS(r) {
			h["Strict-Transport-Security"] = s.hsts
		}
		if s.noStore != NoStoreNever && (s.noStore == NoStoreAlways || s.isAuthenticated(r)) {
			h["Cache-Control"] = s.noStoreValue
		}
		if s.csp.HasNonce() {
			r = s.withNonce(h, r)
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Headers) isAuthenticated(r *http.Request) bool {
	if s.authenticated != nil {
		return s.authenticated(r)
	}
	return len(r.Header["Authorization"]) > 0 || len(r.Header["Cookie"]) > 0
}

func (s *Headers) isHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if len(s.proxies) == 0 || !forwardedHTTPS(r.Header) {
		return false
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := peer.Addr().Unmap()
	for _, p := range s.proxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// forwardedHTTPS reports whether the nearest proxy says the client used
// HTTPS, in X-Forwarded-Proto or else in Forwarded (RFC 7239). Only the
// last element counts: the nearest proxy appends, earlier values may come
// from the client.
func forwardedHTTPS(h http.Header) bool {
	if v := h["X-Forwarded-Proto"]; len(v) > 0 {
		return strings.EqualFold(httpfield.TrimOWS(lastElement(v)), "https")
	}
	v := h["Forwarded"]
	if len(v) == 0 {
		return false
	}
	for pair := range strings.SplitSeq(lastElement(v), ";") {
		key, value, ok := strings.Cut(httpfield.TrimOWS(pair), "=")
		if ok && strings.EqualFold(key, "proto") {
			return strings.EqualFold(strings.Trim(value, `"`), "https")
		}
	}
	return false
}

func lastElement(values []string) string {
	last := values[len(values)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return last
}

// nonceBytes is the nonce's entropy: 144 bits, 24 base64 characters with no
// padding.
const nonceBytes = 18

func (s *Headers) withNonce(h http.Header, r *http.Request) *http.Request {
	var raw [nonceBytes]byte
	_, _ = rand.Read(raw[:]) // never fails since Go 1.24: it crashes the program instead
	var enc [24]byte
	base64.RawURLEncoding.Encode(enc[:], raw[:])
	c := &nonceContext{Context: r.Context()}
	c.header[0], c.nonce = s.csp.render(enc[:])
	h[s.cspKey] = c.header[:]
	return r.WithContext(c)
}
