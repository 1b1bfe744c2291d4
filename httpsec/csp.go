package httpsec

import (
	"context"
	"strings"
)

// CSP source keywords, quoted as the policy syntax requires.
const (
	Self          = "'self'"
	None          = "'none'"
	StrictDynamic = "'strict-dynamic'"
	UnsafeInline  = "'unsafe-inline'"
	UnsafeEval    = "'unsafe-eval'"
	// NonceSource stands for a fresh random nonce, generated for every
	// response ('nonce-<base64>') and available to the handler through
	// [Nonce].
	NonceSource = "'nonce-{nonce}'"
)

// APICSP is the policy sent when HeadersConfig.CSP is zero: an API response
// loads nothing and may not be framed.
const APICSP = "default-src 'none'; frame-ancestors 'none'"

// CSP is a validated Content-Security-Policy, built with [NewCSP] or
// [ParseCSP]. The zero value stands for [APICSP]. A CSP is immutable and
// safe to share.
type CSP struct {
	// parts is the policy text split at each nonce placeholder.
	parts []string
}

// IsZero reports whether p is the zero CSP.
func (p CSP) IsZero() bool { return p.parts == nil }

// HasNonce reports whether p contains NonceSource, so that each response
// gets a fresh nonce.
func (p CSP) HasNonce() bool { return len(p.parts) > 1 }

// String returns the policy with NonceSource placeholders in place of the
// nonces; for the zero CSP it returns APICSP.
func (p CSP) String() string {
	if p.parts == nil {
		return APICSP
	}
	return strings.Join(p.parts, NonceSource)
}

// render returns the policy with nonce in place of the placeholders, and
// the nonce substring of the result, so that one allocation serves both
// the header and the context.
func (p CSP) render(nonce []byte) (policy, n string) {
	var stack [1024]byte
	size := (len(p.parts) - 1) * (len("'nonce-'") + len(nonce))
	for _, part := range p.parts {
		size += len(part)
	}
	buf := stack[:0]
	if size > len(stack) {
		buf = make([]byte, 0, size)
	}
	at := -1
	for i, part := range p.parts {
		buf = append(buf, part...)
		if i < len(p.parts)-1 {
			buf = append(buf, "'nonce-"...)
			if at < 0 {
				at = len(buf)
			}
			buf = append(buf, nonce...)
			buf = append(buf, '\'')
		}
	}
	policy = string(buf)
	return policy, policy[at : at+len(nonce)]
}

// CSPBuilder assembles a policy directive by directive. Errors are kept
// until [CSPBuilder.Build] reports the first one, so calls can be chained.
// A builder is not safe for concurrent use.
type CSPBuilder struct {
	names   []string
	sources [][]string
	err     error
}

// NewCSP returns an empty builder.
func NewCSP() *CSPBuilder { return &CSPBuilder{} }

// StrictPageCSP returns a builder preset with a strict, nonce-based policy
// for HTML pages: scripts run only with the response's nonce (and what
// they load, via 'strict-dynamic'); styles, images, fonts and fetches are
// same-origin; no plugins, no <base> rewriting, no framing, forms post
// only to this origin. Adjust it with [CSPBuilder.Set].
func StrictPageCSP() *CSPBuilder {
	return NewCSP().
		Set("default-src", Self).
		Set("script-src", NonceSource, StrictDynamic).
		Set("style-src", Self, NonceSource).
		Set("img-src", Self, "data:").
		Set("object-src", None).
		Set("base-uri", None).
		Set("form-action", Self).
		Set("frame-ancestors", None)
}

// Set sets directive to sources, replacing any sources it had, and keeps
// the directive's first position. A directive with no sources, such as
// upgrade-insecure-requests, is written alone. Keywords must be quoted
// (use [Self], [None] and friends); a literal 'nonce-...' is refused
// because a nonce that never changes protects nothing: use [NonceSource].
func (b *CSPBuilder) Set(directive string, sources ...string) *CSPBuilder {
	if b.err != nil {
		return b
	}
	directive = lowerASCII(directive)
	if err := checkDirective(directive, sources); err != nil {
		b.err = err
		return b
	}
	srcs := append([]string(nil), sources...)
	for i, n := range b.names {
		if n == directive {
			b.sources[i] = srcs
			return b
		}
	}
	b.names = append(b.names, directive)
	b.sources = append(b.sources, srcs)
	return b
}

// Build returns the policy, or the first error met while building it,
// matching ErrInvalidCSP.
func (b *CSPBuilder) Build() (CSP, error) {
	if b.err != nil {
		return CSP{}, b.err
	}
	if len(b.names) == 0 {
		return CSP{}, configErr("CSP", "", ErrInvalidCSP, "the policy has no directives")
	}
	var sb strings.Builder
	for i, n := range b.names {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(n)
		for _, s := range b.sources[i] {
			sb.WriteByte(' ')
			sb.WriteString(s)
		}
	}
	return CSP{parts: strings.Split(sb.String(), NonceSource)}, nil
}

// ParseCSP validates a policy written as text, e.g.
// "default-src 'self'; script-src 'nonce-{nonce}'". Directives are
// separated by ';', sources by spaces; a directive may appear only once.
func ParseCSP(policy string) (CSP, error) {
	b := NewCSP()
	seen := make(map[string]bool)
	for _, d := range strings.Split(policy, ";") {
		fields := strings.Fields(d)
		if len(fields) == 0 {
			continue
		}
		name := lowerASCII(fields[0])
		if seen[name] {
			return CSP{}, configErr("CSP", name, ErrInvalidCSP, "directive appears twice; browsers ignore the second")
		}
		seen[name] = true
		b.Set(name, fields[1:]...)
	}
	return b.Build()
}

// isKeyword reports whether s, lowercased, is a CSP keyword, which is only
// a keyword when single-quoted: unquoted, "self" names a host called self.
func isKeyword(s string) bool {
	switch s {
	case "self", "none", "unsafe-inline", "unsafe-eval", "strict-dynamic",
		"unsafe-hashes", "report-sample", "wasm-unsafe-eval", "inline-speculation-rules":
		return true
	}
	return false
}

func checkDirective(name string, sources []string) error {
	if name == "" {
		return configErr("CSP", name, ErrInvalidCSP, "empty directive name")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return configErr("CSP", name, ErrInvalidCSP, "a directive name has only letters, digits and '-'")
		}
	}
	for _, s := range sources {
		if s == "" || !validHeaderValue(s) || strings.ContainsAny(s, " ;,") {
			return configErr("CSP "+name, s, ErrInvalidCSP, "a source has no spaces, ';' or ',' and only visible ASCII")
		}
		if isKeyword(lowerASCII(s)) {
			return configErr("CSP "+name, s, ErrInvalidCSP, "keywords must be single-quoted, e.g. 'self'")
		}
		lower := lowerASCII(s)
		if strings.HasPrefix(lower, "'nonce-") && s != NonceSource {
			return configErr("CSP "+name, s, ErrInvalidCSP, "a fixed nonce protects nothing; use NonceSource")
		}
		if lower == None && len(sources) > 1 {
			return configErr("CSP "+name, s, ErrInvalidCSP, "'none' cannot be combined with other sources")
		}
	}
	return nil
}

// nonceKey is the context key under which the nonce is stored.
type nonceKey struct{}

// nonceContext carries the nonce and, in the same allocation, the
// Content-Security-Policy header value slice.
type nonceContext struct {
	context.Context
	nonce  string
	header [1]string
}

func (c *nonceContext) Value(key any) any {
	if _, ok := key.(nonceKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// Nonce returns the CSP nonce of the current response, to be written in
// the nonce attribute of inline <script> and <style> elements, or "" when
// ctx does not come from a [Headers] middleware whose policy uses
// NonceSource.
func Nonce(ctx context.Context) string {
	if c, ok := ctx.Value(nonceKey{}).(*nonceContext); ok {
		return c.nonce
	}
	return ""
}
