package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/bedrock-go/bedrock/internal/httpfield"
)

// KeyFunc returns the key a request is limited by. It returns an error
// matching [ErrNoKey] when the request carries none.
type KeyFunc func(r *http.Request) (string, error)

// ErrNoClientIP reports that the client's address could not be determined
// from the request (matching [ErrNoKey]): the connection has no IP address
// (a Unix socket the config does not trust), or a trusted proxy named no
// address. That is the deployment's problem, not the client's: the
// middleware answers 500.
var ErrNoClientIP = fmt.Errorf("%w: client IP", ErrNoKey)

// ClientIPConfig says how to find a client's address.
type ClientIPConfig struct {
	// TrustedProxies are the networks of the proxies in front of the
	// server. A forwarding header is read only when the connection comes from
	// one of them, and then only as far back as the hops are trusted too: the
	// client is the first untrusted address walking from the nearest hop.
	// Empty (the default) trusts no one: the key is the connection's address
	// and forwarding headers are ignored.
	TrustedProxies []netip.Prefix
	// Header is the forwarding header the proxies write: "X-Forwarded-For"
	// or "Forwarded" (RFC 7239). Empty means "X-Forwarded-For".
	Header string
	// IPv6Prefix is the length of the IPv6 network treated as one client,
	// because one subscriber usually holds a whole /64. Zero means 64;
	// 128 limits each address alone.
	IPv6Prefix int
	// TrustUnixSocket trusts the peer of a connection accepted on a Unix
	// socket as a proxy, so that the forwarding header names the client
	// (and, further back, TrustedProxies apply as usual). Such a
	// connection has no IP address (its RemoteAddr is "@" or empty):
	// without this, every request on it fails with [ErrNoClientIP]. Only
	// a server that puts its listener's address in the request's context
	// ([http.LocalAddrContextKey], as [http.Server] does) is recognised.
	// Off by default: set it when the only thing that can reach the
	// socket is your proxy.
	TrustUnixSocket bool
}

// KeyByClientIP returns a KeyFunc keying requests by client address, as
// "ip:" followed by the address (or its IPv6 network). It fails with
// [ErrInvalidConfig] for an unknown header or prefix length.
func KeyByClientIP(cfg ClientIPConfig) (KeyFunc, error) {
	switch http.CanonicalHeaderKey(cfg.Header) {
	case "":
		cfg.Header = "X-Forwarded-For"
	case "X-Forwarded-For", "Forwarded":
		cfg.Header = http.CanonicalHeaderKey(cfg.Header)
	default:
		return nil, fmt.Errorf("%w: forwarding header %q, want X-Forwarded-For or Forwarded", ErrInvalidConfig, cfg.Header)
	}
	if cfg.IPv6Prefix == 0 {
		cfg.IPv6Prefix = 64
	}
	if cfg.IPv6Prefix < 1 || cfg.IPv6Prefix > 128 {
		return nil, fmt.Errorf("%w: IPv6 prefix /%d", ErrInvalidConfig, cfg.IPv6Prefix)
	}
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, fmt.Errorf("%w: invalid trusted proxy prefix", ErrInvalidConfig)
		}
	}
	c := clientIPKey{
		trusted:     append([]netip.Prefix(nil), cfg.TrustedProxies...),
		header:      cfg.Header,
		trustSocket: cfg.TrustUnixSocket,
	}
	return func(r *http.Request) (string, error) {
		ip, err := c.clientIP(r)
		if err != nil {
			return "", err
		}
		if ip.Is6() && cfg.IPv6Prefix < 128 {
			return "ip:" + netip.PrefixFrom(ip, cfg.IPv6Prefix).Masked().String(), nil
		}
		return "ip:" + ip.String(), nil
	}, nil
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIPKey is a validated [ClientIPConfig].
type clientIPKey struct {
	trusted     []netip.Prefix
	header      string
	trustSocket bool
}

// clientIP walks the forwarding chain from the nearest hop back while the
// hops are trusted proxies.
func (c *clientIPKey) clientIP(r *http.Request) (netip.Addr, error) {
	ip, ok := parseNode(r.RemoteAddr)
	switch {
	case ok:
		if len(c.trusted) == 0 || !isTrusted(ip, c.trusted) {
			return ip, nil
		}
	case c.trustSocket && overUnixSocket(r):
		// The proxy on the socket is trusted; what it forwards decides.
	default:
		return netip.Addr{}, fmt.Errorf("%w: remote address %q", ErrNoClientIP, r.RemoteAddr)
	}
	hops := c.hops(r)
	if !ok && len(hops) == 0 {
		return netip.Addr{}, fmt.Errorf("%w: the proxy on the Unix socket sent no %s", ErrNoClientIP, c.header)
	}
	trusted := true // the peer
	for i := len(hops) - 1; i >= 0 && trusted; i-- {
		next, ok := parseNode(hops[i])
		if !ok {
			// A trusted proxy wrote something that is no address ("unknown"
			// or an obfuscated node): the client cannot be named.
			return netip.Addr{}, fmt.Errorf("%w: forwarded node %q", ErrNoClientIP, hops[i])
		}
		ip, trusted = next, isTrusted(next, c.trusted)
	}
	return ip, nil
}

// overUnixSocket reports whether r came in on a connection accepted by a
// Unix-socket listener.
func overUnixSocket(r *http.Request) bool {
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	return ok && addr != nil && (addr.Network() == "unix" || addr.Network() == "unixpacket")
}

// hops returns the forwarding chain of r, farthest first.
func (c *clientIPKey) hops(r *http.Request) []string {
	var hops []string
	if c.header == "Forwarded" {
		for _, line := range r.Header.Values("Forwarded") {
			hops = appendForwardedFor(hops, line)
		}
	} else {
		for _, line := range r.Header.Values("X-Forwarded-For") {
			for part := range strings.SplitSeq(line, ",") {
				hops = append(hops, httpfield.TrimOWS(part))
			}
		}
	}
	return hops
}

// parseNode parses an address with an optional port: "192.0.2.1",
// "192.0.2.1:80", "2001:db8::1", "[2001:db8::1]:80", or "[2001:db8::1]".
func parseNode(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// appendForwardedFor appends the for= node of each element of one Forwarded
// header line (RFC 7239 section 4), in order. An element without for= adds an
// empty node, which parses as no address.
func appendForwardedFor(hops []string, line string) []string {
	for len(line) > 0 {
		var elem string
		elem, line = cutUnquoted(line, ',')
		node := ""
		for len(elem) > 0 {
			var pair string
			pair, elem = cutUnquoted(elem, ';')
			name, value, ok := strings.Cut(httpfield.TrimOWS(pair), "=")
			if ok && strings.EqualFold(httpfield.TrimOWS(name), "for") {
				node = unquote(httpfield.TrimOWS(value))
			}
		}
		hops = append(hops, node)
	}
	return hops
}

// cutUnquoted splits s at the first sep outside a quoted string.
func cutUnquoted(s string, sep byte) (before, after string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// unquote removes the quotes and backslash escapes of a quoted-string.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// KeyByHeader returns a KeyFunc keying requests by the value of a header,
// as is. Use [KeyByAPIKey] for secrets.
func KeyByHeader(name string) KeyFunc {
	name = http.CanonicalHeaderKey(name)
	return func(r *http.Request) (string, error) {
		v := r.Header.Get(name)
		if v == "" {
			return "", fmt.Errorf("%w: header %s", ErrNoKey, name)
		}
		return v, nil
	}
}

// KeyByAPIKey returns a KeyFunc keying requests by an API key carried in a
// header, as "apikey:" followed by a hash of it, so that the secret never
// lands in the store (a Redis key is visible to anyone who can SCAN).
func KeyByAPIKey(header string) KeyFunc {
	header = http.CanonicalHeaderKey(header)
	return func(r *http.Request) (string, error) {
		v := r.Header.Get(header)
		if v == "" {
			return "", fmt.Errorf("%w: header %s", ErrNoKey, header)
		}
		sum := sha256.Sum256([]byte(v))
		return "apikey:" + hex.EncodeToString(sum[:16]), nil
	}
}

// KeyByContext returns a KeyFunc keying requests by a value an earlier
// middleware put in the context, such as the authenticated principal's ID.
// principal reports false when there is none.
func KeyByContext(principal func(ctx context.Context) (string, bool)) KeyFunc {
	return func(r *http.Request) (string, error) {
		k, ok := principal(r.Context())
		if !ok || k == "" {
			return "", fmt.Errorf("%w: no principal in context", ErrNoKey)
		}
		return k, nil
	}
}

// FirstKey returns a KeyFunc that tries each of keys in turn and uses the
// first that finds a key, for example the principal, then the client IP.
func FirstKey(keys ...KeyFunc) KeyFunc {
	return func(r *http.Request) (string, error) {
		err := ErrNoKey
		for _, k := range keys {
			key, e := k(r)
			if e == nil {
				return key, nil
			}
			if !errors.Is(e, ErrNoKey) {
				return "", e
			}
			err = e
		}
		return "", err
	}
}
