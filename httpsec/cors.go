package httpsec

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bedrock-go/bedrock/internal/httpfield"
)

const (
	// DefaultCORSMaxAge is how long browsers may cache a preflight answer
	// when CORSConfig.MaxAge is zero.
	DefaultCORSMaxAge = 10 * time.Minute
	// maxAnyRequestHeaders bounds Access-Control-Request-Headers when any
	// header is allowed: the list is echoed back, so it must stay small.
	maxAnyRequestHeaders = 4096
	// minRequestHeadersBound is the least Access-Control-Request-Headers
	// parsed against an allow list. A page that sends a few headers the
	// policy lacks easily passes the length of the allow list itself; its
	// list must still be parsed, so that the answer can carry the allowed
	// lists and the browser name the header it refuses.
	minRequestHeadersBound = 1024
)

// CORSConfig configures [NewCORS]. AllowedOrigins or AllowOrigin is
// required.
type CORSConfig struct {
	// AllowedOrigins lists the origins whose pages may read responses.
	// Each entry is an exact origin "scheme://host[:port]", or a pattern
	// "scheme://*.example.com[:port]" matching every subdomain of
	// example.com at any depth (not example.com itself) with that scheme
	// and port. Entries are compared in canonical form: lowercase, default
	// port omitted. The single entry "*" allows every origin, the opaque
	// origin "null" of sandboxed iframes, file: pages and redirected
	// requests included, as Fetch does: without credentials such a page
	// reads nothing any other page could not. "*" cannot be combined with
	// AllowCredentials. Listing "null" is an error ([ErrNullOrigin]): every
	// sandboxed document shares that origin, so allowing it by name would
	// let any site read responses meant for one.
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
	// AllowTraceContext adds traceparent, tracestate and baggage, the
	// request headers of W3C Trace Context and W3C Baggage, to
	// AllowedHeaders (or to its defaults). OpenTelemetry's browser
	// instrumentation adds them to every fetch, so a service that reads
	// trace context from its frontends must allow them, or every call
	// fails at the preflight once tracing is turned on. Off by default.
	AllowTraceContext bool
	// ExposedHeaders lists response headers that scripts may read besides
	// the CORS-safelisted ones (Cache-Control, Content-Language,
	// Content-Length, Content-Type, Expires, Last-Modified, Pragma), e.g.
	// "ETag", "Location", "Link", "RateLimit", "Retry-After",
	// "WWW-Authenticate" or a request id. Empty exposes none.
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
//
// Its one method is [CORS.Handler]. There is no Check: for an actual
// request the only decision is which headers to add (the browser, not the
// server, withholds the response), and a preflight is answered by the
// middleware itself.
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
		deniedOrigin:  newCannedProblem(http.StatusForbidden, "Requests from this origin are not allowed.", nil, false),
		deniedMethod:  newCannedProblem(http.StatusForbidden, "The method is not allowed for cross-origin requests.", nil, false),
		deniedHeaders: newCannedProblem(http.StatusForbidden, "A requested header is not allowed for cross-origin requests.", nil, false),
	}
	if err := c.setOrigins(cfg); err != nil {
		return nil, err
	}
	if err := c.setMethods(cfg.AllowedMethods); err != nil {
		return nil, err
	}
	if err := c.setHeaders(cfg.AllowedHeaders, cfg.AllowTraceContext); err != nil {
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

func (c *CORS) setHeaders(headers []string, traceContext bool) error {
	if len(headers) == 0 {
		headers = []string{"Accept", "Accept-Language", "Content-Language", "Content-Type"}
	}
	if traceContext && !(len(headers) == 1 && headers[0] == "*") {
		headers = append(headers[:len(headers):len(headers)], "traceparent", "tracestate", "baggage")
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
		if c.headerAllowed(h) {
			continue // listed twice, or a trace-context header listed by hand
		}
		c.headers = append(c.headers, lowerASCII(h))
		names = append(names, http.CanonicalHeaderKey(h))
		// A browser lists each header once, lowercased, comma-separated;
		// anything much longer than the allow list itself (or than the
		// floor) is not a request a browser makes, so it is refused before
		// parsing.
		c.maxHeaderLen += len(h) + 4
	}
	c.maxHeaderLen = max(c.maxHeaderLen, minRequestHeadersBound)
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

// Handler returns middleware that answers CORS preflights itself and adds
// CORS headers to other responses for allowed origins before calling next.
// Every response gets Vary: Origin, so a cache never serves one origin's
// answer to another.
//
// A granted preflight gets 204 with the allowed origin, methods, headers
// and max-age. A preflight from an origin that is not allowed gets 403
// problem+json and no CORS header at all. A preflight from an allowed
// origin that asks for a method or header the policy lacks gets the
// allowed origin and the allowed lists, without max-age, so that the
// browser's console names the method or header it refuses instead of
// reporting a missing Access-Control-Allow-Origin: with 204 when a browser
// reading those lists refuses the actual request by itself (a method other
// than GET, HEAD and POST, or header names outside the list), and with 403
// problem+json otherwise (a CORS-safelisted method the policy lacks, which
// browsers never check against the list, or a malformed or oversized
// request). Every refusal is passed to Hooks.OnReject.
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
		return c.star, true
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
	sent := r.Header["Access-Control-Request-Method"]
	requested := r.Header["Access-Control-Request-Headers"]
	method, _ := one(sent) // "" when repeated, which judge refuses
	if !validToken(method) {
		sent = nil // never echoed
	}
	c.setAllowed(h, allow, sent, requested)
	answer, err := c.judge(method, requested)
	if err != nil {
		c.hooks.reject(r, err)
		if answer != nil {
			answer.write(w)
		} else {
			w.WriteHeader(http.StatusNoContent)
		}
		return
	}
	if c.anyHeader && len(requested) > 0 {
		h["Access-Control-Allow-Headers"] = requested[:len(requested):len(requested)]
	}
	if c.maxAge != nil {
		h["Access-Control-Max-Age"] = c.maxAge
	}
	w.WriteHeader(http.StatusNoContent)
}

// judge decides a preflight from an allowed origin. A refusal with a nil
// answer is one that the allowed lists alone make a browser enforce: it is
// sent as 204 with those lists, and the browser's console names the method
// or header it refuses (a failing status only makes it say that the
// preflight "does not have HTTP ok status").
func (c *CORS) judge(method string, requested []string) (*cannedProblem, error) {
	switch {
	case !validToken(method):
		return &c.deniedMethod, ErrMethodNotAllowed
	case c.methodAllowed(method):
	case safelistedMethod(method):
		// Browsers never check GET, HEAD or POST against the list: only a
		// failing status keeps them from sending the request.
		return &c.deniedMethod, ErrMethodNotAllowed
	default:
		return nil, ErrMethodNotAllowed
	}
	switch c.checkHeaders(requested) {
	case headersMalformed:
		return &c.deniedHeaders, ErrHeaderNotAllowed
	case headersNotListed:
		return nil, ErrHeaderNotAllowed
	}
	return nil, nil
}

// setAllowed sets what a browser checks on a preflight answer from an
// allowed origin, granted or refused: the origin, credentials and the
// configured lists. sent is the request's single, well-formed method,
// echoed when any method is allowed; nil echoes none. The header list is
// set when requested is not empty and the policy has a list. Every value
// is a shared slice, so no answer allocates.
func (c *CORS) setAllowed(h http.Header, allow, sent, requested []string) {
	h["Access-Control-Allow-Origin"] = allow
	if c.allowCreds {
		h["Access-Control-Allow-Credentials"] = c.credentials
	}
	switch {
	case !c.anyMethod:
		h["Access-Control-Allow-Methods"] = c.allowMethods
	case sent != nil:
		h["Access-Control-Allow-Methods"] = sent[:1:1]
	}
	if len(requested) > 0 && !c.anyHeader {
		h["Access-Control-Allow-Headers"] = c.allowHeaders
	}
}

func (c *CORS) refuse(w http.ResponseWriter, r *http.Request, err error, answer *cannedProblem) {
	c.hooks.reject(r, err)
	answer.write(w)
}

// safelistedMethod reports whether m is a CORS-safelisted method, one that
// browsers allow after any successful preflight whatever
// Access-Control-Allow-Methods says.
func safelistedMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodPost
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

// headersVerdict is what checkHeaders found in Access-Control-Request-Headers.
type headersVerdict uint8

const (
	headersOK        headersVerdict = iota
	headersNotListed                // well-formed, but naming a header the policy lacks
	headersMalformed                // too long, or not a list of header names
)

// checkHeaders checks an Access-Control-Request-Headers list without
// allocating. Its length is bounded first, so a huge header costs one
// length check rather than a parse (the preflight amplification that
// unbounded splitting suffers from).
func (c *CORS) checkHeaders(values []string) headersVerdict {
	total := 0
	for _, v := range values {
		total += len(v)
	}
	if total > c.maxHeaderLen {
		return headersMalformed
	}
	verdict := headersOK
	for _, v := range values {
		for v != "" {
			name := v
			if i := strings.IndexByte(v, ','); i >= 0 {
				name, v = v[:i], v[i+1:]
			} else {
				v = ""
			}
			name = httpfield.TrimOWS(name)
			if name == "" {
				continue // empty list elements are allowed (RFC 9110 §5.6.1)
			}
			if !validToken(name) {
				return headersMalformed
			}
			if !c.anyHeader && !c.headerAllowed(name) {
				verdict = headersNotListed
			}
		}
	}
	return verdict
}

func (c *CORS) headerAllowed(name string) bool {
	for _, allowed := range c.headers {
		if len(name) == len(allowed) && strings.EqualFold(name, allowed) {
			return true
		}
	}
	return false
}
