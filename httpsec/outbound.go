package httpsec

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults of [OutboundConfig].
const (
	DefaultMaxResponseBytes = 10 << 20
	DefaultOutboundTimeout  = 30 * time.Second
	DefaultDialTimeout      = 10 * time.Second
	DefaultMaxRedirects     = 10
)

// OutboundConfig configures [NewOutbound]. The zero value is a valid,
// strict policy: any public host over http or https on any port, nothing
// else.
type OutboundConfig struct {
	// AllowedHosts, when not empty, are the only hosts a request may name:
	// "api.example.com", "*.example.com" (every subdomain at any depth, not
	// example.com itself) or an IP address ("203.0.113.7", "2001:db8::1",
	// brackets optional). Names compare case-insensitively, a trailing dot
	// ignored; no scheme and no port (see AllowedPorts). It restricts
	// names and does not exempt their addresses: a listed host that
	// resolves to a private address still needs that address in
	// AllowedCIDRs, so that the DNS of a listed name cannot point the
	// service at its cloud metadata endpoint. Default: any host.
	AllowedHosts []string
	// AllowedCIDRs are address blocks that may be dialed although they are
	// not [Public]: the internal services a backend is meant to call
	// ("10.20.0.0/16"). An IPv4-mapped address matches its IPv4 block.
	// A block with host bits set or of length 0 is an error. Default: none.
	AllowedCIDRs []netip.Prefix
	// AllowedPorts, when not empty, are the only ports a request may use
	// and a connection may dial (80 and 443 are the defaults of http and
	// https). Default: any port.
	AllowedPorts []uint16
	// MaxResponseBytes caps a response body. Default
	// DefaultMaxResponseBytes (10 MiB); negative is an error.
	MaxResponseBytes int64
	// Timeout bounds a whole request made with [Outbound.Client], redirects
	// and reading the body included, and, in [Outbound.RoundTrip], the wait
	// for the response headers. Default DefaultOutboundTimeout (30 s);
	// negative is an error.
	Timeout time.Duration
	// DialTimeout bounds connecting and the TLS handshake. Default
	// DefaultDialTimeout (10 s); negative is an error.
	DialTimeout time.Duration
	// MaxRedirects is the longest chain of redirects [Outbound.Client]
	// follows. Default DefaultMaxRedirects (10); negative means none:
	// the client returns the redirect response itself.
	MaxRedirects int
	// Resolver resolves names. Default net.DefaultResolver. Whatever it
	// answers, the address dialed is checked.
	Resolver *net.Resolver
	// TLSClientConfig is used for https (custom roots, client
	// certificates). Default: the system roots.
	TLSClientConfig *tls.Config
	// Hooks receives instrumentation callbacks; OnOutboundReject sees
	// every refusal.
	Hooks Hooks
}

// Outbound makes HTTP requests on a user's behalf (webhooks, URL
// previews, payment callbacks) without letting a URL reach what the
// service can reach and the user must not: loopback, the private network,
// the cloud metadata endpoint at 169.254.169.254, or any other address
// that is not [Public], unless OutboundConfig.AllowedCIDRs lists it.
//
// Most callers want [Outbound.Client]. [Outbound] is also an
// [http.RoundTripper] that composes under other transports (resilience's
// Transport takes it as Base), and [Outbound.Control] plugs the address
// check into any [net.Dialer].
//
// The address is checked where it cannot change any more: in the dialer,
// on the address being connected, after resolution. A name that resolves
// to a public address when someone checks it and to 127.0.0.1 when the
// connection is made (DNS rebinding) is refused at the connection. Every
// redirect goes through RoundTrip again, so a public URL that redirects
// to http://169.254.169.254/ is refused at that hop. Before any
// connection, RoundTrip refuses schemes other than http and https, hosts
// outside AllowedHosts, ports outside AllowedPorts, IP literals that are
// not allowed and numeric hosts that are not dotted-decimal IPv4
// (http://2130706433/, 0177.0.0.1, 0x7f.1), which the C resolver reads as
// addresses.
//
// Proxies are never used: HTTP_PROXY and HTTPS_PROXY are ignored. Through
// a proxy the dialer sees only the proxy's address, the proxy resolves the
// name, and no check here could stop a rebinding there; a deployment that
// must go through an egress proxy gives that proxy its own policy.
//
// Responses are capped at MaxResponseBytes and every phase has a timeout.
// An Outbound must be created with [NewOutbound]; it is safe for
// concurrent use and holds a pool of connections (see
// [Outbound.CloseIdleConnections]).
type Outbound struct {
	names        map[string]bool // lowercase names, canonical IP strings
	suffixes     []string        // ".example.com"
	anyHost      bool
	cidrs        []netip.Prefix
	ports        []uint16
	maxBody      int64
	timeout      time.Duration
	maxRedirects int
	hooks        Hooks
	transport    *http.Transport
}

// NewOutbound validates cfg and returns the policy with its transport.
// Every error is a [*ConfigError] matching [ErrInvalidConfig].
func NewOutbound(cfg OutboundConfig) (*Outbound, error) {
	o := &Outbound{
		names: map[string]bool{}, anyHost: len(cfg.AllowedHosts) == 0, hooks: cfg.Hooks,
		maxBody: cfg.MaxResponseBytes, timeout: cfg.Timeout, maxRedirects: cfg.MaxRedirects,
	}
	if err := o.setCIDRs(cfg.AllowedCIDRs); err != nil {
		return nil, err
	}
	if err := o.setHosts(cfg.AllowedHosts); err != nil {
		return nil, err
	}
	for _, p := range cfg.AllowedPorts {
		if p == 0 {
			return nil, configErr("OutboundConfig.AllowedPorts", "0", ErrInvalidConfig, "ports are 1 to 65535")
		}
	}
	o.ports = slices.Clone(cfg.AllowedPorts)
	dial := cfg.DialTimeout
	for _, d := range []struct {
		field string
		v     *time.Duration
		def   time.Duration
	}{{"Timeout", &o.timeout, DefaultOutboundTimeout}, {"DialTimeout", &dial, DefaultDialTimeout}} {
		if *d.v < 0 {
			return nil, configErr("OutboundConfig."+d.field, d.v.String(), ErrInvalidConfig, "must not be negative")
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if o.maxBody < 0 {
		return nil, configErr("OutboundConfig.MaxResponseBytes", strconv.FormatInt(o.maxBody, 10), ErrInvalidConfig, "must not be negative")
	}
	if o.maxBody == 0 {
		o.maxBody = DefaultMaxResponseBytes
	}
	if o.maxRedirects == 0 {
		o.maxRedirects = DefaultMaxRedirects
	}
	dialer := &net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second, Resolver: cfg.Resolver, ControlContext: o.controlContext}
	o.transport = &http.Transport{
		Proxy:                  nil, // see the type's doc
		DialContext:            dialer.DialContext,
		TLSClientConfig:        cfg.TLSClientConfig.Clone(),
		TLSHandshakeTimeout:    dial,
		ResponseHeaderTimeout:  o.timeout,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConns:           100,
		MaxResponseHeaderBytes: 1 << 20,
		ForceAttemptHTTP2:      true,
	}
	return o, nil
}

func (o *Outbound) setCIDRs(cidrs []netip.Prefix) error {
	const field = "OutboundConfig.AllowedCIDRs"
	for _, p := range cidrs {
		switch {
		case !p.IsValid():
			return configErr(field, p.String(), ErrInvalidConfig, "invalid prefix")
		case p.Bits() == 0:
			return configErr(field, p.String(), ErrInvalidConfig, "a block of length 0 allows every address")
		case p != p.Masked():
			return configErr(field, p.String(), ErrInvalidConfig, "host bits are set; did you mean "+p.Masked().String()+"?")
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		o.cidrs = append(o.cidrs, p)
	}
	return nil
}

func (o *Outbound) setHosts(hosts []string) error {
	const field = "OutboundConfig.AllowedHosts"
	for _, entry := range hosts {
		h := strings.TrimSuffix(lowerASCII(entry), ".")
		if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			h = h[1 : len(h)-1]
		}
		if a, err := netip.ParseAddr(h); err == nil {
			if a.Zone() != "" {
				return configErr(field, entry, ErrInvalidHost, "an address with a zone")
			}
			if err := o.checkAddr(a, 0); err != nil {
				return configErr(field, entry, ErrInvalidHost, "the address is "+err.Class.String()+": list its block in OutboundConfig.AllowedCIDRs too")
			}
			o.names[a.Unmap().String()] = true
			continue
		}
		if domain, ok := strings.CutPrefix(h, "*."); ok {
			if !validHostname(domain) || !strings.Contains(domain, ".") {
				return configErr(field, entry, ErrInvalidHost, "a wildcard needs a domain of at least two labels")
			}
			o.suffixes = append(o.suffixes, "."+domain)
			continue
		}
		if !validHostname(h) {
			return configErr(field, entry, ErrInvalidHost, "want a host name or an IP address, without scheme or port")
		}
		o.names[h] = true
	}
	return nil
}

// Client returns an [http.Client] that sends through o, follows at most
// MaxRedirects redirects (each checked like the first request) and gives
// up after Timeout. Each call returns a new Client sharing o's
// connections.
func (o *Outbound) Client() *http.Client {
	return &http.Client{Transport: o, Timeout: o.timeout, CheckRedirect: o.checkRedirect}
}

func (o *Outbound) checkRedirect(req *http.Request, via []*http.Request) error {
	if o.maxRedirects < 0 {
		return http.ErrUseLastResponse
	}
	if len(via) > o.maxRedirects {
		return o.refuse(req.Context(), &OutboundError{Err: ErrTooManyRedirects, Host: req.URL.Host,
			Detail: "more than " + strconv.Itoa(o.maxRedirects)})
	}
	return nil
}

// RoundTrip implements [http.RoundTripper]: it refuses what [Outbound.Check]
// refuses, then sends req on a connection whose address is checked, and
// caps the response body. A refusal is an [*OutboundError], possibly
// wrapped in a *net.OpError.
func (o *Outbound) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := o.check(req.Context(), req.URL); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := o.transport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > o.maxBody {
		_ = resp.Body.Close()
		return nil, o.refuse(req.Context(), o.tooLarge(req))
	}
	resp.Body = &cappedBody{body: resp.Body, left: o.maxBody, o: o, req: req}
	return resp, nil
}

// CloseIdleConnections closes the idle connections of o's transport.
func (o *Outbound) CloseIdleConnections() { o.transport.CloseIdleConnections() }

// Check returns nil when req's URL may be requested: an http or https
// scheme, a host in AllowedHosts, a port in AllowedPorts, and, when the
// host is an IP address, an address that is [Public] or in AllowedCIDRs.
// A name is not resolved: its addresses are checked when a connection is
// made. The error is an [*OutboundError].
func (o *Outbound) Check(req *http.Request) error {
	return o.check(req.Context(), req.URL)
}

func (o *Outbound) check(ctx context.Context, u *url.URL) error {
	if err := o.checkURL(u); err != nil {
		return o.refuse(ctx, err)
	}
	return nil
}

func (o *Outbound) checkURL(u *url.URL) *OutboundError {
	if u == nil {
		return &OutboundError{Err: ErrSchemeNotAllowed, Detail: "no URL"}
	}
	var defPort uint16
	switch strings.ToLower(u.Scheme) {
	case "http":
		defPort = 80
	case "https":
		defPort = 443
	default:
		return &OutboundError{Err: ErrSchemeNotAllowed, Host: u.Host, Detail: "scheme " + quote(u.Scheme) + " is not http or https"}
	}
	host := strings.TrimSuffix(lowerASCII(u.Hostname()), ".")
	port := defPort
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return &OutboundError{Err: ErrPortNotAllowed, Host: u.Host, Detail: "port " + quote(p) + " is not 1 to 65535"}
		}
		port = uint16(n)
	}
	if host == "" {
		return &OutboundError{Err: ErrDestinationNotAllowed, Host: u.Host, Detail: "no host"}
	}
	a, err := netip.ParseAddr(host)
	if err != nil && endsInNumber(host) {
		// What a URL parser or inet_aton would read; refused either way.
		e := &OutboundError{Err: ErrNumericHost, Host: u.Host}
		if a, ok := parseLegacyIPv4(host); ok {
			e.Addr, e.Class = a, ClassifyAddr(a)
		}
		return e
	}
	if !o.hostAllowed(host, a) {
		return &OutboundError{Err: ErrDestinationNotAllowed, Host: u.Host}
	}
	if !o.portAllowed(port) {
		return &OutboundError{Err: ErrPortNotAllowed, Host: u.Host, Port: port}
	}
	if a.IsValid() {
		if e := o.checkAddr(a, port); e != nil {
			e.Host = u.Host
			return e
		}
	}
	return nil
}

func (o *Outbound) hostAllowed(host string, a netip.Addr) bool {
	if o.anyHost {
		return true
	}
	if a.IsValid() {
		return a.Zone() == "" && o.names[a.Unmap().String()]
	}
	if o.names[host] {
		return true
	}
	for _, s := range o.suffixes {
		if len(host) > len(s) && strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

func (o *Outbound) portAllowed(p uint16) bool {
	return len(o.ports) == 0 || slices.Contains(o.ports, p)
}

// checkAddr is the address policy: allowed blocks first, then the class.
func (o *Outbound) checkAddr(a netip.Addr, port uint16) *OutboundError {
	u := a.WithZone("").Unmap()
	for _, p := range o.cidrs {
		if p.Contains(u) {
			return nil
		}
	}
	v := classify(a)
	if v.class == Public {
		return nil
	}
	return &OutboundError{Err: ErrAddressNotAllowed, Addr: a, Port: port, Class: v.class, Block: v.block, Embedded: v.embedded}
}

// Control is a [net.Dialer] Control function that refuses to connect to
// an address o does not allow, and to a port outside AllowedPorts. It
// sees the address after resolution, just before connect(2), so that no
// later lookup can change it:
//
//	d := &net.Dialer{Control: outbound.Control}
//
// It refuses any network that is not an IP network. Its error is an
// [*OutboundError], which the dialer wraps in a *net.OpError.
func (o *Outbound) Control(network, address string, c syscall.RawConn) error {
	return o.controlContext(context.Background(), network, address, c)
}

func (o *Outbound) controlContext(ctx context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !strings.HasPrefix(network, "tcp") && !strings.HasPrefix(network, "udp") {
		return o.refuse(ctx, &OutboundError{Err: ErrAddressNotAllowed, Host: address, Detail: "not an IP address on " + network})
	}
	if e := o.checkAddr(ap.Addr(), ap.Port()); e != nil {
		e.Host = address
		return o.refuse(ctx, e)
	}
	if !o.portAllowed(ap.Port()) {
		return o.refuse(ctx, &OutboundError{Err: ErrPortNotAllowed, Host: address, Port: ap.Port()})
	}
	return nil
}

func (o *Outbound) refuse(ctx context.Context, e *OutboundError) error {
	if o.hooks.OnOutboundReject != nil {
		o.hooks.OnOutboundReject(ctx, e)
	}
	return e
}

func (o *Outbound) tooLarge(req *http.Request) *OutboundError {
	return &OutboundError{Err: ErrResponseTooLarge, Host: req.URL.Host, Detail: "limit " + strconv.FormatInt(o.maxBody, 10) + " bytes"}
}

// cappedBody fails a read past the limit, as http.MaxBytesReader does
// for requests.
type cappedBody struct {
	body io.ReadCloser
	left int64
	o    *Outbound
	req  *http.Request
	err  error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Read one byte more than allowed, to tell "exactly at the limit"
	// from "over it".
	if int64(len(p))-1 > b.left {
		p = p[:b.left+1]
	}
	n, err := b.body.Read(p)
	if int64(n) <= b.left {
		b.left -= int64(n)
		b.err = err
		return n, err
	}
	n = int(b.left)
	b.left = 0
	b.err = b.o.refuse(b.req.Context(), b.o.tooLarge(b.req))
	return n, b.err
}

func (b *cappedBody) Close() error { return b.body.Close() }

// endsInNumber reports whether the WHATWG URL host parser would read host
// as an IPv4 address: its last label is decimal digits or 0x-prefixed
// hexadecimal.
func endsInNumber(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if allDigits(last) {
		return true
	}
	if len(last) < 2 || last[0] != '0' || last[1] != 'x' && last[1] != 'X' {
		return false
	}
	for i := 2; i < len(last); i++ {
		if !isHexDigit(last[i]) {
			return false
		}
	}
	return true
}

// parseLegacyIPv4 reads host as inet_aton(3) and the WHATWG URL parser do:
// one to four parts, each decimal, octal (leading 0) or hexadecimal (0x),
// the last filling the remaining bytes.
func parseLegacyIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v [4]uint64
	for i, p := range parts {
		n, ok := parseLegacyPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		v[i] = n
	}
	last := len(parts) - 1
	var out uint64
	for i := 0; i < last; i++ {
		if v[i] > 255 {
			return netip.Addr{}, false
		}
		out |= v[i] << (24 - 8*i)
	}
	if v[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	out |= v[last]
	return netip.AddrFrom4([4]byte{byte(out >> 24), byte(out >> 16), byte(out >> 8), byte(out)}), true
}

func parseLegacyPart(p string) (uint64, bool) {
	base := 10
	switch {
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		p, base = p[2:], 16
		if p == "" {
			return 0, true
		}
	case len(p) > 1 && p[0] == '0':
		p, base = p[1:], 8
	}
	if p == "" || len(p) > 12 {
		return 0, false
	}
	n, err := strconv.ParseUint(p, base, 64)
	return n, err == nil
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
