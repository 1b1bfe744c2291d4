package httpsec

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultCORSMaxAge is how long browsers may cache a preflight answer
	// when CORSConfig.MaxAge is zero.
	DefaultCORSMaxAge = 10 * time.Minute
	// maxAnyRequestHeaders bounds Access-Control-Request-Headers when any
	// header is allowed: the list is echoed back, so it must stay small.
	maxAnyRequestHeaders = 4096
)

// CORSConfig configures [NewCORS]. AllowedOrigins or AllowOrigin is
// required.
type CORSConfig struct {
	// AllowedOrigins lists the origins whose pages may read responses.
	// Each entry is an exact origin "scheme://host[:port]", or a pattern
	// "scheme://*.example.com[:port]" matching every subdomain of
	// example.com at any depth (not example.com itself) with that scheme
	// and port. Entries are compared in canonical form: lowercase, default
	// port omitted. The single entry "*" allows every origin and cannot be
	// combined with AllowCredentials. "null" is refused.
	AllowedOrigins []string
	// AllowOrigin decides for origins not in AllowedOrigins, e.g. from a
	// table of tenant domains. It is only asked about well-formed origins
	// in canonical form, never about "null", so it can compare strings
	// exactly; it runs on every CORS request from such an origin and must
	// be fast and safe for concurrent use. Nil means AllowedOrigins alone
	// decides. It cannot be combined with "*".
	AllowOrigin func(origin string) bool
	// AllowedMethods lists the methods a preflight may ask for, compared
	// case-sensitively as browsers send them (they upper-case only DELETE,
	// GET, HEAD, OPTIONS, POST and PUT, which are normalised here too).
	// "*" allows any method. Empty means GET, HEAD and POST, the
	// CORS-safelisted methods.
	AllowedMethods []string
	// AllowedHeaders lists the request headers a preflight may ask for,
	// compared case-insensitively. "*" allows any well-formed list of at
	// most 4 KiB, echoed back. Empty means Accept, Accept-Language,
	// Content-Language and Content-Type (a JSON body is the usual reason
	// for a preflight).
	AllowedHeaders []string
	// ExposedHeaders lists response headers that scripts may read besides
	// the CORS-safelisted ones, e.g. "RateLimit-Policy", "Retry-After".
	// Empty exposes none.
	ExposedHeaders []string
	// AllowCredentials lets pages send cookies and HTTP authentication and
	// read the responses. Off by default.
	AllowCredentials bool
	// MaxAge is how long a browser may cache a preflight answer, truncated
	// to seconds (browsers cap it: Chromium at 2 hours). Zero means
	// DefaultCORSMaxAge; negative omits Access-Control-Max-Age, which
	// leaves the browser's default of 5 seconds.
	MaxAge time.Duration
	// Hooks receives instrumentation callbacks; OnReject sees refused
	// preflights.
	Hooks Hooks
}

// CORS answers preflight requests and adds CORS response headers for the
// allowed origins. It must be created with [NewCORS]; the zero value is not
// usable. It is safe for concurrent use; its configuration is compiled once
// and never changes.
//
// CORS is not access control: a request from an origin that is not allowed
// still reaches the handler, only without the headers that would let a
// browser page read the response. Pair it with [CrossOrigin] to refuse
// cross-site state-changing requests made with cookies.
type CORS struct {
	origins      originList
	originFunc   func(string) bool
	anyOrigin    bool
	anyMethod    bool
	anyHeader    bool
	allowCreds   bool
	methods      []string
	headers      []string // lowercase
	maxHeaderLen int      // bound on Access-Control-Request-Headers

	star          []string
	allowMethods  []string
	allowHeaders  []string
	exposeHeaders []string
	credentials   []string
	maxAge        []string
	varyOrigin    []string
	varyPreflight []string
	hooks         Hooks

	deniedOrigin  cannedProblem
	deniedMethod  cannedProblem
	deniedHeaders cannedProblem
}

// NewCORS validates cfg and returns the middleware. Every error is a
// [*ConfigError]; it matches ErrInvalidOrigin, ErrNullOrigin or
// ErrAnyOriginWithCredentials when one of those applies.
func NewCORS(cfg CORSConfig) (*CORS, error) {
	c := &CORS{
		hooks:         cfg.Hooks,
		allowCreds:    cfg.AllowCredentials,
		star:          []string{"*"},
		credentials:   []string{"true"},
		varyOrigin:    []string{"Origin"},
		varyPreflight: []string{"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
		deniedOrigin:  newCannedProblem(http.StatusForbidden, ErrOriginNotAllowed, nil, false),
		deniedMethod:  newCannedProblem(http.StatusForbidden, ErrMethodNotAllowed, nil, false),
		deniedHeaders: newCannedProblem(http.StatusForbidden, ErrHeaderNotAllowed, nil, false),
	}
	if err := c.setOrigins(cfg); err != nil {
		return nil, err
	}
	if err := c.setMethods(cfg.AllowedMethods); err != nil {
		return nil, err
	}
	if err := c.setHeaders(cfg.AllowedHeaders); err != nil {
		return nil, err
	}
	if err := c.setExposed(cfg); err != nil {
		return nil, err
	}
	switch {
	case cfg.MaxAge == 0:
		c.maxAge = []string{strconv.Itoa(int(DefaultCORSMaxAge / time.Second))}
	case cfg.MaxAge > 0 && cfg.MaxAge < time.Second:
		return nil, configErr("CORSConfig.MaxAge", cfg.MaxAge.String(), ErrInvalidConfig,
			"must be at least one second, zero for the default, or negative to omit")
	case cfg.MaxAge > 0:
		c.maxAge = []string{strconv.FormatInt(int64(cfg.MaxAge/time.Second), 10)}
	}
	return c, nil
}

func (c *CORS) setOrigins(cfg CORSConfig) error {
	const field = "CORSConfig.AllowedOrigins"
	c.originFunc = cfg.AllowOrigin
	if len(cfg.AllowedOrigins) == 0 && cfg.AllowOrigin == nil {
		return configErr(field, "", ErrInvalidConfig, "at least one origin (or \"*\"), or AllowOrigin, is required")
	}
	for _, o := range cfg.AllowedOrigins {
		if o != "*" {
			continue
		}
		if len(cfg.AllowedOrigins) > 1 {
			return configErr(field, "*", ErrInvalidConfig, `"*" allows every origin and cannot be listed with others`)
		}
		if cfg.AllowCredentials {
			return configErr(field, "*", ErrAnyOriginWithCredentials, "")
		}
		if cfg.AllowOrigin != nil {
			return configErr(field, "*", ErrInvalidConfig, "AllowOrigin would never be asked: \"*\" allows every origin")
		}
		c.anyOrigin = true
		return nil
	}
	l, err := newOriginList(field, cfg.AllowedOrigins)
	c.origins = l
	return err
}

func (c *CORS) setMethods(methods []string) error {
	if len(methods) == 0 {
		methods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	}
	for _, m := range methods {
		if m == "*" {
			if len(methods) > 1 {
				return configErr("CORSConfig.AllowedMethods", m, ErrInvalidConfig, `"*" cannot be listed with other methods`)
			}
			c.anyMethod = true
			return nil
		}
		if !validToken(m) {
			return configErr("CORSConfig.AllowedMethods", m, ErrInvalidConfig, "not a valid method name")
		}
		// Browsers send these in upper case whatever the page wrote.
		switch u := strings.ToUpper(m); u {
		case "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT":
			m = u
		}
		c.methods = append(c.methods, m)
	}
	c.allowMethods = []string{strings.Join(c.methods, ", ")}
	return nil
}

func (c *CORS) setHeaders(headers []string) error {
	if len(headers) == 0 {
		headers = []string{"Accept", "Accept-Language", "Content-Language", "Content-Type"}
	}
	names := make([]string, 0, len(headers))
	for _, h := range headers {
		if h == "*" {
			if len(headers) > 1 {
				return configErr("CORSConfig.AllowedHeaders", h, ErrInvalidConfig, `"*" cannot be listed with other headers`)
			}
			c.anyHeader = true
			c.maxHeaderLen = maxAnyRequestHeaders
			return nil
		}
		if !validToken(h) {
			return configErr("CORSConfig.AllowedHeaders", h, ErrInvalidConfig, "not a valid header name")
		}
		c.headers = append(c.headers, lowerASCII(h))
		names = append(names, http.CanonicalHeaderKey(h))
		// A browser lists each header once, lowercased, comma-separated;
		// anything much longer than the allow list itself is not a
		// request this policy can grant, so it is refused before parsing.
		c.maxHeaderLen += len(h) + 4
	}
	c.allowHeaders = []string{strings.Join(names, ", ")}
	return nil
}

func (c *CORS) setExposed(cfg CORSConfig) error {
	if len(cfg.ExposedHeaders) == 0 {
		return nil
	}
	names := make([]string, 0, len(cfg.ExposedHeaders))
	for _, h := range cfg.ExposedHeaders {
		if h == "*" && cfg.AllowCredentials {
			return configErr("CORSConfig.ExposedHeaders", h, ErrInvalidConfig,
				`"*" is a literal header name when credentials are allowed; list the headers`)
		}
		if h != "*" && !validToken(h) {
			return configErr("CORSConfig.ExposedHeaders", h, ErrInvalidConfig, "not a valid header name")
		}
		names = append(names, http.CanonicalHeaderKey(h))
	}
	c.exposeHeaders = []string{strings.Join(names, ", ")}
	return nil
}

// Handler returns middleware that answers CORS preflights itself (204 when
// granted, 403 problem+json when refused) and adds CORS headers to other
// responses for allowed origins before calling next. Every response gets
// Vary: Origin, so a cache never serves one origin's answer to another.
func (c *CORS) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions && len(r.Header["Access-Control-Request-Method"]) > 0 {
			c.preflight(w, r)
			return
		}
		c.actual(w.Header(), r)
		next.ServeHTTP(w, r)
	})
}

func (c *CORS) actual(h http.Header, r *http.Request) {
	appendVary(h, c.varyOrigin)
	sent := r.Header["Origin"]
	allow, ok := c.allowOrigin(sent)
	if !ok {
		return
	}
	h["Access-Control-Allow-Origin"] = allow
	if c.exposeHeaders != nil {
		h["Access-Control-Expose-Headers"] = c.exposeHeaders
	}
	if c.allowCreds {
		h["Access-Control-Allow-Credentials"] = c.credentials
	}
}

// allowOrigin returns the Access-Control-Allow-Origin value for the Origin
// header values sent, which must be exactly one. For a pattern match it
// returns the request's own one-element slice: the value is the origin
// itself, and reusing the slice keeps the request free of allocations.
func (c *CORS) allowOrigin(sent []string) ([]string, bool) {
	origin, ok := one(sent)
	if !ok {
		return nil, false
	}
	if c.anyOrigin {
		return c.star, origin != "null"
	}
	v, ok := c.origins.match(origin)
	if !ok && c.originFunc != nil {
		// Only a canonical origin may reach the callback, so that a
		// callback comparing strings cannot be fooled by spelling.
		if _, _, _, canonical := splitOrigin(origin); canonical {
			ok = c.originFunc(origin)
		}
	}
	if ok && v == nil {
		v = sent[:1:1]
	}
	return v, ok
}

func (c *CORS) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	appendVary(h, c.varyPreflight)
	allow, ok := c.allowOrigin(r.Header["Origin"])
	if !ok {
		c.refuse(w, r, ErrOriginNotAllowed, &c.deniedOrigin)
		return
	}
	method, ok := one(r.Header["Access-Control-Request-Method"])
	if !ok || !c.methodAllowed(method) {
		c.refuse(w, r, ErrMethodNotAllowed, &c.deniedMethod)
		return
	}
	requested := r.Header["Access-Control-Request-Headers"]
	if !c.headersAllowed(requested) {
		c.refuse(w, r, ErrHeaderNotAllowed, &c.deniedHeaders)
		return
	}
	h["Access-Control-Allow-Origin"] = allow
	if c.allowCreds {
		h["Access-Control-Allow-Credentials"] = c.credentials
	}
	if c.anyMethod {
		h["Access-Control-Allow-Methods"] = r.Header["Access-Control-Request-Method"][:1:1]
	} else {
		h["Access-Control-Allow-Methods"] = c.allowMethods
	}
	if len(requested) > 0 {
		if c.anyHeader {
			h["Access-Control-Allow-Headers"] = requested[:len(requested):len(requested)]
		} else {
			h["Access-Control-Allow-Headers"] = c.allowHeaders
		}
	}
	if c.maxAge != nil {
		h["Access-Control-Max-Age"] = c.maxAge
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *CORS) refuse(w http.ResponseWriter, r *http.Request, err error, answer *cannedProblem) {
	c.hooks.reject(r, err)
	answer.write(w)
}

func (c *CORS) methodAllowed(m string) bool {
	if c.anyMethod {
		return validToken(m)
	}
	for _, allowed := range c.methods {
		if m == allowed {
			return true
		}
	}
	return false
}

// headersAllowed checks an Access-Control-Request-Headers list without
// allocating. Its length is bounded first, so a huge header costs one
// length check rather than a parse (the preflight amplification that
// unbounded splitting suffers from).
func (c *CORS) headersAllowed(values []string) bool {
	total := 0
	for _, v := range values {
		total += len(v)
	}
	if total > c.maxHeaderLen {
		return false
	}
	for _, v := range values {
		for v != "" {
			name := v
			if i := strings.IndexByte(v, ','); i >= 0 {
				name, v = v[:i], v[i+1:]
			} else {
				v = ""
			}
			name = trimOWS(name)
			if name == "" {
				continue // empty list elements are allowed (RFC 9110 §5.6.1)
			}
			if !validToken(name) || !c.anyHeader && !c.headerAllowed(name) {
				return false
			}
		}
	}
	return true
}

func (c *CORS) headerAllowed(name string) bool {
	for _, allowed := range c.headers {
		if len(name) == len(allowed) && strings.EqualFold(name, allowed) {
			return true
		}
	}
	return false
}
