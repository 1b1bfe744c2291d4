package httpsec

import (
	"fmt"
	"net/http"
)

// CrossOriginConfig configures [NewCrossOrigin]. The zero value protects
// every endpoint and trusts no other origin.
type CrossOriginConfig struct {
	// TrustedOrigins lists origins whose cross-origin requests are let
	// through, in the syntax of CORSConfig.AllowedOrigins (exact origins
	// and "scheme://*.domain[:port]" patterns; not "*" or "null").
	TrustedOrigins []string
	// BypassPatterns lists http.ServeMux patterns, e.g.
	// "POST /webhooks/{provider}", whose requests skip the check. Only
	// requests the pattern matches directly are exempt.
	BypassPatterns []string
	// Hooks receives instrumentation callbacks; OnReject sees refused
	// requests.
	Hooks Hooks
}

// CrossOrigin refuses state-changing requests that a browser sends from
// another origin, the attack known as CSRF, without tokens. It relies on
// [http.CrossOriginProtection]: requests with GET, HEAD or OPTIONS pass;
// otherwise Sec-Fetch-Site must say same-origin or none, or, for browsers
// that do not send it, Origin must match the Host; requests with neither
// header come from non-browser clients and pass. Refusals are 403
// problem+json.
//
// Use it in front of endpoints authenticated by cookies; it does not need
// a session or a token in the form. A CrossOrigin must be created with
// [NewCrossOrigin]; the zero value is not usable. Most callers want
// [CrossOrigin.Handler]; [CrossOrigin.Check] gives the same answer for a
// request without serving it. It is safe for concurrent use.
type CrossOrigin struct {
	protection *http.CrossOriginProtection
	patterns   []originPattern
	hooks      Hooks
	denied     cannedProblem
}

// NewCrossOrigin validates cfg and returns the middleware. Every error is
// a [*ConfigError].
func NewCrossOrigin(cfg CrossOriginConfig) (*CrossOrigin, error) {
	const field = "CrossOriginConfig.TrustedOrigins"
	c := &CrossOrigin{protection: http.NewCrossOriginProtection(), hooks: cfg.Hooks,
		denied: newCannedProblem(http.StatusForbidden, "Cross-origin requests that change state are refused.", nil, false)}
	for _, o := range cfg.TrustedOrigins {
		if o == "*" {
			return nil, configErr(field, o, ErrInvalidConfig, "trusting every origin turns the protection off; remove the middleware instead")
		}
		p, err := parseOriginEntry(field, o)
		if err != nil {
			return nil, err
		}
		if p.pattern != nil {
			c.patterns = append(c.patterns, *p.pattern)
			continue
		}
		// The standard library compares the Origin header byte for byte, so
		// it is given the canonical form browsers send.
		if err := c.protection.AddTrustedOrigin(p.canonical); err != nil {
			return nil, configErr(field, o, ErrInvalidOrigin, err.Error())
		}
	}
	for _, p := range cfg.BypassPatterns {
		if err := addBypass(c.protection, p); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// addBypass turns the panic that http.ServeMux raises for a malformed or
// conflicting pattern into a configuration error.
func addBypass(p *http.CrossOriginProtection, pattern string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = configErr("CrossOriginConfig.BypassPatterns", pattern, ErrInvalidConfig, fmt.Sprint(v))
		}
	}()
	p.AddInsecureBypassPattern(pattern)
	return nil
}

// Check returns nil when r may proceed, or an error matching
// ErrCrossOriginRequest that says why not.
func (c *CrossOrigin) Check(r *http.Request) error {
	err := c.protection.Check(r)
	if err == nil {
		return nil
	}
	if len(c.patterns) > 0 {
		if origin, ok := one(r.Header["Origin"]); ok {
			if scheme, host, port, ok := splitOrigin(origin); ok {
				for i := range c.patterns {
					if c.patterns[i].match(scheme, host, port) {
						return nil
					}
				}
			}
		}
	}
	return fmt.Errorf("%w: %w", ErrCrossOriginRequest, err)
}

// Handler returns next behind the check: a request that fails
// [CrossOrigin.Check] gets 403.
func (c *CrossOrigin) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.Check(r); err != nil {
			c.hooks.reject(r, err)
			c.denied.write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}
