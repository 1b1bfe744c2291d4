package httpsec

import (
	"net/netip"
	"strings"
)

// maxOriginLen bounds the work spent on an Origin header: a scheme, "://",
// a 253-byte host name and a port fit with room to spare.
const maxOriginLen = 320

// splitOrigin splits a serialized origin into its parts without allocating.
// It accepts only the canonical serialization that browsers send: lowercase
// scheme and host, no default port, no userinfo, path, query or fragment.
// Anything else fails, so a non-canonical spelling can never match an
// allowed origin by accident. IPv6 hosts keep their brackets.
func splitOrigin(s string) (scheme, host, port string, ok bool) {
	if len(s) > maxOriginLen {
		return "", "", "", false
	}
	i := strings.Index(s, "://")
	if i <= 0 || !validScheme(s[:i]) {
		return "", "", "", false
	}
	scheme, rest := s[:i], s[i+3:]
	if rest == "" {
		return "", "", "", false
	}
	if rest[0] == '[' {
		j := strings.IndexByte(rest, ']')
		if j < 0 || !ipv6Chars(rest[1:j]) {
			return "", "", "", false
		}
		host, rest = rest[:j+1], rest[j+1:]
	} else {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			host, rest = rest, ""
		} else {
			host, rest = rest[:j], rest[j:]
		}
		if !validHostname(host) && !canonicalIPv4(host) {
			return "", "", "", false
		}
	}
	if rest != "" {
		if rest[0] != ':' {
			return "", "", "", false
		}
		port = rest[1:]
		if !validPort(port) || isDefaultPort(scheme, port) {
			return "", "", "", false
		}
	}
	return scheme, host, port, true
}

// validScheme reports whether s is a lowercase URL scheme.
func validScheme(s string) bool {
	if s == "" || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validHostname reports whether s is a lowercase DNS name: dot-separated
// labels of letters, digits, '-' and '_', none empty, none longer than 63
// bytes, none starting or ending with '-'. A final all-digit label is refused
// because URL parsers read such a name as an IPv4 address.
func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
			continue
		}
		label := s[start:i]
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		if i == len(s) && allDigits(label) {
			return false
		}
		start = i + 1
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// canonicalIPv4 reports whether s is a dotted-quad IPv4 address with no
// leading zeros, the only IPv4 form a browser serializes.
func canonicalIPv4(s string) bool {
	if len(s) > 15 {
		return false
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

func ipv6Chars(s string) bool {
	if s == "" || len(s) > 45 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}

// validPort reports whether s is a decimal port in 1..65535 without leading
// zeros.
func validPort(s string) bool {
	if s == "" || len(s) > 5 || s[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}

func isDefaultPort(scheme, port string) bool {
	switch scheme {
	case "http", "ws":
		return port == "80"
	case "https", "wss":
		return port == "443"
	}
	return false
}

// originPattern matches origins on any subdomain of a domain, at any depth,
// with a fixed scheme and port. Matching works on the parsed host, never on
// the raw header, so "https://example.com.evil.com" or
// "https://evil.com/.example.com" cannot pass.
type originPattern struct {
	scheme string
	suffix string // ".example.com"
	port   string
}

func (p *originPattern) match(scheme, host, port string) bool {
	return scheme == p.scheme && port == p.port &&
		len(host) > len(p.suffix) && host[len(host)-len(p.suffix):] == p.suffix
}

// parsedOrigin is one entry of an origin allow-list after validation.
type parsedOrigin struct {
	canonical string         // exact origin; empty for a pattern
	pattern   *originPattern // non-nil for "scheme://*.domain[:port]"
}

// parseOriginEntry validates an allow-list entry and returns its canonical
// form: lowercase, default port removed, IPv6 address in its shortest form.
func parseOriginEntry(field, s string) (parsedOrigin, error) {
	bad := func(reason string) (parsedOrigin, error) {
		return parsedOrigin{}, configErr(field, s, ErrInvalidOrigin, reason)
	}
	if strings.EqualFold(s, "null") {
		return parsedOrigin{}, configErr(field, s, ErrNullOrigin, "")
	}
	if len(s) > maxOriginLen {
		return bad("too long")
	}
	lower := lowerASCII(s)
	i := strings.Index(lower, "://")
	if i <= 0 {
		return bad(`want scheme://host[:port], e.g. "https://example.com"`)
	}
	scheme, rest := lower[:i], lower[i+3:]
	if !validScheme(scheme) {
		return bad("invalid scheme")
	}
	if strings.ContainsAny(rest, "/?#@ \t") {
		return bad("an origin has no userinfo, path, query, fragment or spaces (a trailing slash included)")
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return bad("unterminated IPv6 address")
		}
		a, err := netip.ParseAddr(rest[1:j])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return bad("invalid IPv6 address")
		}
		host, port = "["+a.String()+"]", rest[j+1:]
		if port != "" && port[0] != ':' {
			return bad("invalid port")
		}
		port = strings.TrimPrefix(port, ":")
	} else if j := strings.LastIndexByte(rest, ':'); j >= 0 {
		host, port = rest[:j], rest[j+1:]
	}
	if port != "" || strings.HasSuffix(rest, ":") {
		if !validPort(port) {
			return bad("port must be a number in 1..65535")
		}
		if isDefaultPort(scheme, port) {
			port = ""
		}
	}
	if strings.HasPrefix(host, "*.") {
		domain := host[2:]
		if strings.Contains(domain, "*") || !validHostname(domain) || !strings.Contains(domain, ".") {
			return bad("a wildcard pattern needs a domain of at least two labels, as in https://*.example.com")
		}
		return parsedOrigin{pattern: &originPattern{scheme: scheme, suffix: "." + domain, port: port}}, nil
	}
	if strings.Contains(host, "*") {
		return bad("a wildcard must be the whole leftmost label, as in https://*.example.com")
	}
	if !strings.HasPrefix(host, "[") && !validHostname(host) && !canonicalIPv4(host) {
		return bad("invalid host")
	}
	canonical := scheme + "://" + host
	if port != "" {
		canonical += ":" + port
	}
	if _, _, _, ok := splitOrigin(canonical); !ok {
		return bad("invalid host")
	}
	return parsedOrigin{canonical: canonical}, nil
}

// originList is a validated allow-list of origins.
type originList struct {
	exact    map[string][]string // canonical origin -> header value to send
	patterns []originPattern
}

func newOriginList(field string, entries []string) (originList, error) {
	l := originList{exact: make(map[string][]string, len(entries))}
	for _, e := range entries {
		p, err := parseOriginEntry(field, e)
		if err != nil {
			return originList{}, err
		}
		if p.pattern != nil {
			l.patterns = append(l.patterns, *p.pattern)
			continue
		}
		l.exact[p.canonical] = []string{p.canonical}
	}
	return l, nil
}

// match reports whether origin is allowed. For an exact entry it also
// returns a shared header value, so the common case does not allocate.
func (l *originList) match(origin string) (value []string, ok bool) {
	if v, ok := l.exact[origin]; ok {
		return v, true
	}
	if len(l.patterns) == 0 {
		return nil, false
	}
	scheme, host, port, ok := splitOrigin(origin)
	if !ok {
		return nil, false
	}
	for i := range l.patterns {
		if l.patterns[i].match(scheme, host, port) {
			return nil, true
		}
	}
	return nil, false
}
