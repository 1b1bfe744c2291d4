package httpsec

import (
	"net/http"
	"net/netip"
	"strings"
)

// HostCheckConfig configures [NewHostCheck].
type HostCheckConfig struct {
	// AllowedHosts lists the names this server answers to: "example.com"
	// (any port), "example.com:8443" (that port only), "*.example.com"
	// (every subdomain at any depth, not example.com itself, optionally
	// with a port), or an IP address such as "127.0.0.1" or "[::1]".
	// Names are compared case-insensitively, a trailing dot ignored.
	// Required.
	AllowedHosts []string
	// Hooks receives instrumentation callbacks; OnReject sees refused
	// requests.
	Hooks Hooks
}

// HostCheck refuses requests whose Host header is not in an allow-list,
// with 421 Misdirected Request as problem+json. It defeats DNS rebinding,
// where an attacker's name is pointed at this server so that a page on that
// name can read its responses, and stops Host-derived links (password
// reset mails, redirects) from naming an attacker's host. It checks r.Host
// as received: behind a proxy, list the names the proxy forwards. A
// HostCheck must be created with [NewHostCheck]; the zero value is not
// usable. Most callers want [HostCheck.Handler]; [HostCheck.Check] gives
// the same answer for a request without serving it. It is safe for
// concurrent use.
type HostCheck struct {
	anyPort  map[string]bool // host
	withPort map[string]bool // host:port
	patterns []hostPattern
	hooks    Hooks
	denied   cannedProblem
}

type hostPattern struct {
	suffix string // ".example.com"
	port   string // "" for any
}

// NewHostCheck validates cfg and returns the middleware. Every error is a
// [*ConfigError] matching ErrInvalidHost.
func NewHostCheck(cfg HostCheckConfig) (*HostCheck, error) {
	const field = "HostCheckConfig.AllowedHosts"
	if len(cfg.AllowedHosts) == 0 {
		return nil, configErr(field, "", ErrInvalidHost, "at least one host is required")
	}
	c := &HostCheck{anyPort: map[string]bool{}, withPort: map[string]bool{}, hooks: cfg.Hooks,
		denied: newCannedProblem(http.StatusMisdirectedRequest, "This server does not serve the requested host.", nil, false)}
	for _, entry := range cfg.AllowedHosts {
		host, port, ok := splitHost(lowerASCII(entry))
		if !ok {
			return nil, configErr(field, entry, ErrInvalidHost, `want host[:port], *.domain[:port] or an IP address`)
		}
		if strings.HasPrefix(host, "*.") {
			domain := host[2:]
			if !validHostname(domain) || !strings.Contains(domain, ".") {
				return nil, configErr(field, entry, ErrInvalidHost, "a wildcard needs a domain of at least two labels")
			}
			c.patterns = append(c.patterns, hostPattern{suffix: "." + domain, port: port})
			continue
		}
		if strings.HasPrefix(host, "[") {
			a, err := netip.ParseAddr(host[1 : len(host)-1])
			if err != nil || !a.Is6() || a.Zone() != "" {
				return nil, configErr(field, entry, ErrInvalidHost, "invalid IPv6 address")
			}
			host = "[" + a.String() + "]"
		} else if !validHostname(host) && !canonicalIPv4(host) {
			return nil, configErr(field, entry, ErrInvalidHost, "invalid host name")
		}
		if port == "" {
			c.anyPort[host] = true
		} else {
			c.withPort[host+":"+port] = true
		}
	}
	return c, nil
}

// splitHost splits a Host header into host and port, dropping a trailing
// dot from the name. It does not allocate.
func splitHost(s string) (host, port string, ok bool) {
	if s == "" || len(s) > maxOriginLen {
		return "", "", false
	}
	host = s
	if s[0] == '[' {
		i := strings.IndexByte(s, ']')
		if i < 0 {
			return "", "", false
		}
		host, port = s[:i+1], s[i+1:]
		if port != "" {
			if port[0] != ':' {
				return "", "", false
			}
			port = port[1:]
		}
	} else if i := strings.IndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
	}
	if port != "" && !validPort(port) || port == "" && strings.HasSuffix(s, ":") {
		return "", "", false
	}
	host = strings.TrimSuffix(host, ".")
	return host, port, host != ""
}

// Check returns nil when r's Host is in the allow list, and
// [ErrHostNotAllowed] otherwise. It does not allocate.
func (c *HostCheck) Check(r *http.Request) error {
	if !c.allowed(r.Host) {
		return ErrHostNotAllowed
	}
	return nil
}

// allowed reports whether the Host header value host is in the allow list.
func (c *HostCheck) allowed(host string) bool {
	if hasUpperASCII(host) {
		host = lowerASCII(host) // browsers send lowercase; others pay
	}
	if c.withPort[host] {
		return true
	}
	name, port, ok := splitHost(host)
	if !ok {
		return false
	}
	if c.anyPort[name] {
		return true
	}
	if port != "" && len(c.withPort) > 0 && strings.HasSuffix(host[:len(host)-len(port)-1], ".") {
		// "example.com.:8443": rare enough to pay for the concatenation.
		if c.withPort[name+":"+port] {
			return true
		}
	}
	if len(c.patterns) == 0 || !validHostname(name) {
		return false
	}
	for _, p := range c.patterns {
		if (p.port == "" || p.port == port) && len(name) > len(p.suffix) && name[len(name)-len(p.suffix):] == p.suffix {
			return true
		}
	}
	return false
}

// Handler returns next behind the check: a request that fails
// [HostCheck.Check] gets 421.
func (c *HostCheck) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.Check(r); err != nil {
			c.hooks.reject(r, err)
			c.denied.write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// lowerASCII lowers ASCII letters only: strings.ToLower would also fold
// characters such as the Kelvin sign into ASCII letters and let a
// non-ASCII name match an allowed one.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
