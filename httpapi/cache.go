package httpapi

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/bedrock-go/bedrock/internal/httpfield"
)

// CachePolicyConfig configures [NewCachePolicy]. The zero value is valid:
// authenticated answers are "private, no-store", public ones
// "public, max-age=0" (cacheable, revalidated every time: cheap with an
// ETag and [Conditional]).
type CachePolicyConfig struct {
	// MaxAge is how long a public answer stays fresh in any cache
	// (max-age). Zero sends max-age=0; negative is invalid.
	MaxAge time.Duration

	// StaleWhileRevalidate lets a cache serve a public answer this long
	// after it went stale while it revalidates in the background
	// (RFC 5861); zero sends none.
	StaleWhileRevalidate time.Duration

	// StaleIfError lets a cache serve a stale public answer this long when
	// the service fails or cannot be reached (RFC 5861); zero sends none.
	StaleIfError time.Duration

	// Vary lists the request fields public answers depend on (such as
	// "Accept-Language"), merged into the Vary field of each answer.
	Vary []string

	// Private is the Cache-Control of authenticated answers;
	// "private, no-store" when empty. It must contain private or no-store:
	// an answer for one user must never reach a shared cache.
	Private string

	// Authenticated reports whether the answer to r is for one user. When
	// nil, a request with an Authorization or Cookie field is: it may see
	// what others do not. A service that knows better (its auth middleware
	// put a principal in the context) says so here.
	Authenticated func(r *http.Request) bool
}

// CachePolicy sets Cache-Control and Vary on an answer, telling answers
// for one user (never stored by a shared cache, and by default not at
// all) from public ones (stored, with max-age, stale-while-revalidate and
// stale-if-error). Vary is merged with what the answer has, never
// overwritten.
//
// It is applied by the handler, with [CachePolicy.Apply], once it knows it
// answers with the resource: a middleware would set the policy before the
// handler knows whether it answers with an error, and a problem keeps the
// Cache-Control a handler set, so a public policy would make a cache serve
// one client's 500 to everyone. It is safe for concurrent use.
type CachePolicy struct {
	public, private []string
	vary            []string // canonical names
	varyField       []string // vary joined, for an answer with no Vary yet
	authenticated   func(*http.Request) bool
}

// NewCachePolicy returns the policy for cfg. An error wraps
// [ErrInvalidConfig].
func NewCachePolicy(cfg CachePolicyConfig) (*CachePolicy, error) {
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"MaxAge", cfg.MaxAge}, {"StaleWhileRevalidate", cfg.StaleWhileRevalidate}, {"StaleIfError", cfg.StaleIfError}} {
		if d.v < 0 {
			return nil, configError("CachePolicyConfig."+d.field, d.v.String(), "negative")
		}
		if d.v%time.Second != 0 {
			return nil, configError("CachePolicyConfig."+d.field, d.v.String(), "not a whole number of seconds, the resolution of Cache-Control")
		}
	}
	public := "public, max-age=" + seconds(cfg.MaxAge)
	if cfg.StaleWhileRevalidate > 0 {
		public += ", stale-while-revalidate=" + seconds(cfg.StaleWhileRevalidate)
	}
	if cfg.StaleIfError > 0 {
		public += ", stale-if-error=" + seconds(cfg.StaleIfError)
	}
	private := cfg.Private
	if private == "" {
		private = "private, no-store"
	}
	if !hasDirective(private, "private") && !hasDirective(private, "no-store") || hasDirective(private, "public") {
		return nil, configError("CachePolicyConfig.Private", private, "must contain private or no-store, and not public")
	}
	p := &CachePolicy{public: []string{public}, private: []string{private}, authenticated: cfg.Authenticated}
	for _, name := range cfg.Vary {
		if !token(name) {
			return nil, configError("CachePolicyConfig.Vary", name, "not a field name")
		}
		p.vary = appendVary(p.vary, textproto.CanonicalMIMEHeaderKey(name))
	}
	if len(p.vary) > 0 {
		p.varyField = []string{strings.Join(p.vary, ", ")}
	}
	if p.authenticated == nil {
		p.authenticated = func(r *http.Request) bool {
			return len(r.Header["Authorization"]) > 0 || len(r.Header["Cookie"]) > 0
		}
	}
	return p, nil
}

func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// Apply sets the policy's Cache-Control on h, the header of the answer to
// r: the private value when r is authenticated, the public one and the
// merged Vary otherwise. It replaces a Cache-Control already set. Call it
// before [Conditional], so that a 304 carries the same fields.
func (p *CachePolicy) Apply(h http.Header, r *http.Request) {
	if p.authenticated(r) {
		h["Cache-Control"] = p.private
		return
	}
	h["Cache-Control"] = p.public
	if len(p.vary) == 0 {
		return
	}
	if len(h["Vary"]) == 0 {
		h["Vary"] = p.varyField
		return
	}
	AddVary(h, p.vary...)
}

// AddVary merges field names into the Vary field of h: names already
// there (in any case, in any of its values) are not repeated, existing
// values are kept, and a Vary of "*" stays "*" (the answer varies on
// everything already). Adding "*" makes it "*".
func AddVary(h http.Header, names ...string) {
	var have []string
	for _, v := range h.Values("Vary") {
		for _, n := range strings.Split(v, ",") {
			if n = httpfield.TrimOWS(n); n != "" {
				have = appendVary(have, textproto.CanonicalMIMEHeaderKey(n))
			}
		}
	}
	merged := have
	for _, n := range names {
		if n = httpfield.TrimOWS(n); n != "" {
			merged = appendVary(merged, textproto.CanonicalMIMEHeaderKey(n))
		}
	}
	switch {
	case len(merged) == len(have):
		return // nothing new: the field stays as it was
	case contains(merged, "*"):
		h["Vary"] = []string{"*"}
	default:
		h["Vary"] = []string{strings.Join(merged, ", ")}
	}
}

func appendVary(list []string, name string) []string {
	if contains(list, name) {
		return list
	}
	return append(list, name)
}

func contains(list []string, name string) bool {
	for _, n := range list {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// hasDirective reports whether a Cache-Control value has directive name.
func hasDirective(cc, name string) bool {
	for _, d := range strings.Split(cc, ",") {
		d, _, _ = strings.Cut(httpfield.TrimOWS(d), "=")
		if strings.EqualFold(httpfield.TrimOWS(d), name) {
			return true
		}
	}
	return false
}
