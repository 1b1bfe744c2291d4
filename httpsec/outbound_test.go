package httpsec_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
)

// canary is a server on loopback that counts the requests reaching it: a
// hostile URL aimed at it must never be one of them.
type canary struct {
	*httptest.Server
	hits atomic.Int32
	port string
}

func newCanary(t *testing.T, h http.HandlerFunc) *canary {
	c := &canary{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		_, _ = io.WriteString(w, "reached")
	}))
	t.Cleanup(c.Close)
	_, c.port, _ = net.SplitHostPort(c.Listener.Addr().String())
	return c
}

func newOutbound(t *testing.T, cfg httpsec.OutboundConfig) *httpsec.Outbound {
	t.Helper()
	o, err := httpsec.NewOutbound(cfg)
	require.NoError(t, err)
	t.Cleanup(o.CloseIdleConnections)
	return o
}

func requireRefused(t *testing.T, err error, want error) *httpsec.OutboundError {
	t.Helper()
	require.Error(t, err)
	var oe *httpsec.OutboundError
	require.True(t, errors.As(err, &oe), "not an *OutboundError: %v", err)
	assert.ErrorIs(t, err, httpsec.ErrOutboundRefused)
	assert.ErrorIs(t, err, want, "%v", err)
	return oe
}

func TestOutbound_RefusesHostileURLs(t *testing.T) {
	srv := newCanary(t, nil)
	dns := newTestDNS(t, fixed(map[string][]string{
		"localhost.":          {"127.0.0.1", "::1"},
		"loopback.test.":      {"127.0.0.1"},
		"metadata.test.":      {"169.254.169.254"},
		"private.test.":       {"10.1.2.3"},
		"mapped.test.":        {"::ffff:127.0.0.1"},
		"nat64.test.":         {"64:ff9b::a01:203"},
		"public-and-lo.test.": {"127.0.0.1", "::1"},
	}))
	var rejects atomic.Int32
	o := newOutbound(t, httpsec.OutboundConfig{Resolver: dns.Resolver(), Hooks: httpsec.Hooks{
		OnOutboundReject: func(context.Context, *httpsec.OutboundError) { rejects.Add(1) },
	}})
	p := srv.port
	cases := []struct {
		url      string
		err      error
		class    httpsec.AddrClass
		addr     string // the address the error names, "" to skip
		embedded string
	}{
		{"http://2130706433:" + p + "/", httpsec.ErrNumericHost, httpsec.Loopback, "127.0.0.1", ""},
		{"http://0177.0.0.1:" + p + "/", httpsec.ErrNumericHost, httpsec.Loopback, "127.0.0.1", ""},
		{"http://0x7f.1:" + p + "/", httpsec.ErrNumericHost, httpsec.Loopback, "127.0.0.1", ""},
		{"http://0x7F000001:" + p + "/", httpsec.ErrNumericHost, httpsec.Loopback, "127.0.0.1", ""},
		{"http://127.1:" + p + "/", httpsec.ErrNumericHost, httpsec.Loopback, "127.0.0.1", ""},
		{"http://127.0.0.01:" + p + "/", httpsec.ErrNumericHost, httpsec.Loopback, "127.0.0.1", ""},
		{"http://127.0.0.1:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "127.0.0.1", ""},
		{"http://127.0.0.1.:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "127.0.0.1", ""},
		{"http://0.0.0.0:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Unspecified, "0.0.0.0", ""},
		{"http://[::ffff:127.0.0.1]:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "::ffff:127.0.0.1", "127.0.0.1"},
		{"http://[::ffff:7f00:1]:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "::ffff:127.0.0.1", "127.0.0.1"},
		{"http://[::127.0.0.1]:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "::7f00:1", "127.0.0.1"},
		{"http://[::]:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Unspecified, "::", ""},
		{"http://[::1]:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "::1", ""},
		{"http://localhost.:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "", ""},
		{"http://LOCALHOST.:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "", ""},
		{"http://loopback.test:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "127.0.0.1", ""},
		{"http://public-and-lo.test:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "", ""},
		{"http://mapped.test:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "127.0.0.1", ""},
		{"http://user:pw@[::ffff:127.0.0.1]:" + p + "/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "", "127.0.0.1"},
		// Refused before any packet leaves: literals at the URL check,
		// names in the dialer's Control, before connect(2).
		{"http://169.254.169.254/latest/meta-data/", httpsec.ErrAddressNotAllowed, httpsec.LinkLocal, "169.254.169.254", ""},
		{"http://metadata.test/latest/meta-data/", httpsec.ErrAddressNotAllowed, httpsec.LinkLocal, "169.254.169.254", ""},
		{"http://[fd00:ec2::254]/", httpsec.ErrAddressNotAllowed, httpsec.Private, "fd00:ec2::254", ""},
		{"http://10.0.0.1/", httpsec.ErrAddressNotAllowed, httpsec.Private, "10.0.0.1", ""},
		{"http://private.test/", httpsec.ErrAddressNotAllowed, httpsec.Private, "10.1.2.3", ""},
		{"http://172.31.255.255/", httpsec.ErrAddressNotAllowed, httpsec.Private, "", ""},
		{"http://192.168.1.1/", httpsec.ErrAddressNotAllowed, httpsec.Private, "", ""},
		{"http://100.100.100.200/", httpsec.ErrAddressNotAllowed, httpsec.Shared, "", ""},
		{"http://[fe80::1%25lo]/", httpsec.ErrAddressNotAllowed, httpsec.LinkLocal, "", ""},
		{"http://224.0.0.1/", httpsec.ErrAddressNotAllowed, httpsec.Multicast, "", ""},
		{"http://255.255.255.255/", httpsec.ErrAddressNotAllowed, httpsec.Broadcast, "", ""},
		{"http://198.18.0.1/", httpsec.ErrAddressNotAllowed, httpsec.Benchmarking, "", ""},
		{"http://192.0.2.1/", httpsec.ErrAddressNotAllowed, httpsec.Documentation, "", ""},
		{"http://[2001:db8::1]/", httpsec.ErrAddressNotAllowed, httpsec.Documentation, "", ""},
		{"http://240.0.0.1/", httpsec.ErrAddressNotAllowed, httpsec.Reserved, "", ""},
		{"http://[64:ff9b::7f00:1]/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "", "127.0.0.1"},
		{"http://[64:ff9b::a9fe:a9fe]/", httpsec.ErrAddressNotAllowed, httpsec.LinkLocal, "", "169.254.169.254"},
		{"http://nat64.test/", httpsec.ErrAddressNotAllowed, httpsec.Private, "", "10.1.2.3"},
		{"http://[64:ff9b:1::808:808]/", httpsec.ErrAddressNotAllowed, httpsec.Private, "", ""},
		{"http://[2002:a9fe:a9fe::1]/", httpsec.ErrAddressNotAllowed, httpsec.LinkLocal, "", "169.254.169.254"},
		{"http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", httpsec.ErrAddressNotAllowed, httpsec.Loopback, "", "127.0.0.1"},
		{"ftp://example.com/", httpsec.ErrSchemeNotAllowed, 0, "", ""},
		{"file:///etc/passwd", httpsec.ErrSchemeNotAllowed, 0, "", ""},
		{"gopher://127.0.0.1:6379/_FLUSHALL", httpsec.ErrSchemeNotAllowed, 0, "", ""},
		{"http://example.com:0/", httpsec.ErrPortNotAllowed, 0, "", ""},
		{"http:///path", httpsec.ErrDestinationNotAllowed, 0, "", ""},
	}
	client := o.Client()
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			before := rejects.Load()
			resp, err := client.Get(tc.url)
			if resp != nil {
				_ = resp.Body.Close()
			}
			oe := requireRefused(t, err, tc.err)
			if tc.class != 0 {
				assert.Equal(t, tc.class, oe.Class, "%v", err)
			}
			if tc.addr != "" {
				assert.Equal(t, tc.addr, oe.Addr.String(), "%v", err)
			}
			if tc.embedded != "" {
				assert.Equal(t, tc.embedded, oe.Embedded.String(), "%v", err)
			}
			assert.Greater(t, rejects.Load(), before, "OnOutboundReject was not called")
		})
	}
	assert.Zero(t, srv.hits.Load(), "a hostile URL reached the server")
}

func TestOutbound_AllowedHostsPass(t *testing.T) {
	srv := newCanary(t, nil)
	dns := newTestDNS(t, fixed(map[string][]string{
		"api.test.":          {"127.0.0.1"},
		"eu.payments.test.":  {"127.0.0.1"},
		"other.test.":        {"127.0.0.1"},
		"payments.test.":     {"127.0.0.1"},
		"metadata.api.test.": {"169.254.169.254"},
	}))
	o := newOutbound(t, httpsec.OutboundConfig{
		AllowedHosts: []string{"API.test.", "*.payments.test", "127.0.0.1"},
		AllowedCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Resolver:     dns.Resolver(),
	})
	client := o.Client()
	for _, u := range []string{"http://api.test:%s/", "http://eu.payments.test:%s/x", "http://127.0.0.1:%s/", "http://[::ffff:127.0.0.1]:%s/"} {
		resp, err := client.Get(fmt.Sprintf(u, srv.port))
		require.NoError(t, err, u)
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, "reached", string(body), u)
	}
	reached := srv.hits.Load()
	for u, want := range map[string]error{
		"http://other.test:%s/":    httpsec.ErrDestinationNotAllowed,
		"http://payments.test:%s/": httpsec.ErrDestinationNotAllowed, // the wildcard is for subdomains only
		"http://127.0.0.2:%s/":     httpsec.ErrDestinationNotAllowed,
		"http://api.test.evil:%s/": httpsec.ErrDestinationNotAllowed,
	} {
		_, err := client.Get(fmt.Sprintf(u, srv.port))
		requireRefused(t, err, want)
	}
	assert.Equal(t, reached, srv.hits.Load())
}

func TestOutbound_AllowedHostDoesNotExemptItsAddresses(t *testing.T) {
	dns := newTestDNS(t, fixed(map[string][]string{"api.test.": {"169.254.169.254"}}))
	o := newOutbound(t, httpsec.OutboundConfig{AllowedHosts: []string{"api.test"}, Resolver: dns.Resolver()})
	_, err := o.Client().Get("http://api.test/")
	oe := requireRefused(t, err, httpsec.ErrAddressNotAllowed)
	assert.Equal(t, httpsec.LinkLocal, oe.Class)
}

func TestOutbound_RefusesRedirectToMetadata(t *testing.T) {
	var srv *canary
	srv = newCanary(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/literal":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", http.StatusFound)
		case "/name":
			http.Redirect(w, r, "http://metadata.test/latest/meta-data/", http.StatusMovedPermanently)
		case "/loop":
			http.Redirect(w, r, "http://api.test:"+srv.port+"/loop", http.StatusFound)
		}
	})
	dns := newTestDNS(t, fixed(map[string][]string{"api.test.": {"127.0.0.1"}, "metadata.test.": {"169.254.169.254"}}))
	allowLo := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	open := newOutbound(t, httpsec.OutboundConfig{AllowedCIDRs: allowLo, Resolver: dns.Resolver()})
	listed := newOutbound(t, httpsec.OutboundConfig{AllowedCIDRs: allowLo, AllowedHosts: []string{"api.test"}, Resolver: dns.Resolver()})

	for _, path := range []string{"/literal", "/name"} {
		_, err := open.Client().Get("http://api.test:" + srv.port + path)
		oe := requireRefused(t, err, httpsec.ErrAddressNotAllowed)
		assert.Equal(t, httpsec.LinkLocal, oe.Class)
		assert.Equal(t, "169.254.169.254", oe.Addr.String())

		_, err = listed.Client().Get("http://api.test:" + srv.port + path)
		requireRefused(t, err, httpsec.ErrDestinationNotAllowed)
	}

	// A RoundTripper under a client of the caller's own still checks
	// every hop: the client calls it once per hop.
	own := &http.Client{Transport: open}
	_, err := own.Get("http://api.test:" + srv.port + "/literal")
	requireRefused(t, err, httpsec.ErrAddressNotAllowed)

	_, err = open.Client().Get("http://api.test:" + srv.port + "/loop")
	requireRefused(t, err, httpsec.ErrTooManyRedirects)
}

func TestOutbound_DNSRebindingCannotPass(t *testing.T) {
	srv := newCanary(t, nil)
	// rebind.test. is 127.0.0.1 (allowed here, standing in for a public
	// address) the first time it is asked for, and the metadata address or
	// a private one afterwards.
	dns := newTestDNS(t, func(name string, lookup int) []netip.Addr {
		switch {
		case name != "rebind.test." && name != "flip.test.":
			return nil
		case lookup <= 1:
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		case name == "rebind.test.":
			return []netip.Addr{netip.MustParseAddr("169.254.169.254")}
		default:
			return []netip.Addr{netip.MustParseAddr("10.1.2.3")}
		}
	})
	o := newOutbound(t, httpsec.OutboundConfig{
		AllowedCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Resolver:     dns.Resolver(),
	})
	ctx := context.Background()

	// Check then connect: the check's lookup sees an allowed address, the
	// connection's lookup another; the connection is what is checked.
	addrs, err := dns.Resolver().LookupNetIP(ctx, "ip4", "rebind.test.")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", addrs[0].String())
	_, err = o.Client().Get("http://rebind.test:" + srv.port + "/")
	oe := requireRefused(t, err, httpsec.ErrAddressNotAllowed)
	assert.Equal(t, "169.254.169.254", oe.Addr.String())

	// A first request passes; the name then changes under a later one.
	resp, err := o.Client().Get("http://flip.test:" + srv.port + "/")
	require.NoError(t, err)
	_ = resp.Body.Close()
	o.CloseIdleConnections()
	_, err = o.Client().Get("http://flip.test:" + srv.port + "/")
	oe = requireRefused(t, err, httpsec.ErrAddressNotAllowed)
	assert.Equal(t, "10.1.2.3", oe.Addr.String())
	assert.Equal(t, 2, dns.Lookups("flip.test."))
	assert.Equal(t, int32(1), srv.hits.Load())
}

func TestOutbound_CapsResponses(t *testing.T) {
	const limit = 1024
	srv := newCanary(t, func(w http.ResponseWriter, r *http.Request) {
		n := limit
		if r.URL.Path != "/exact" {
			n = 4 * limit
		}
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length
		} else {
			w.Header().Set("Content-Length", fmt.Sprint(n))
		}
		_, _ = w.Write([]byte(strings.Repeat("x", n)))
	})
	o := newOutbound(t, httpsec.OutboundConfig{
		MaxResponseBytes: limit,
		AllowedCIDRs:     []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	})
	base := "http://127.0.0.1:" + srv.port

	resp, err := o.Client().Get(base + "/exact")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	assert.Len(t, body, limit)

	_, err = o.Client().Get(base + "/announced")
	requireRefused(t, err, httpsec.ErrResponseTooLarge)

	resp, err = o.Client().Get(base + "/chunked")
	require.NoError(t, err)
	require.Equal(t, int64(-1), resp.ContentLength)
	body, err = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	requireRefused(t, err, httpsec.ErrResponseTooLarge)
	assert.Len(t, body, limit, "the bytes within the limit are delivered")
}

func TestOutbound_LimitsPorts(t *testing.T) {
	srv := newCanary(t, nil)
	o := newOutbound(t, httpsec.OutboundConfig{
		AllowedPorts: []uint16{443},
		AllowedCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	})
	_, err := o.Client().Get("http://127.0.0.1:" + srv.port + "/")
	oe := requireRefused(t, err, httpsec.ErrPortNotAllowed)
	assert.Equal(t, srv.port, fmt.Sprint(oe.Port))
	_, err = o.Client().Get("http://127.0.0.1/") // port 80 by default
	requireRefused(t, err, httpsec.ErrPortNotAllowed)

	var d net.Dialer
	d.Control = o.Control
	_, err = d.Dial("tcp", "127.0.0.1:"+srv.port)
	requireRefused(t, err, httpsec.ErrPortNotAllowed)
	assert.Zero(t, srv.hits.Load())
}

func TestOutbound_ControlChecksWhatAnyDialerConnects(t *testing.T) {
	srv := newCanary(t, nil)
	o := newOutbound(t, httpsec.OutboundConfig{})
	d := &net.Dialer{Control: o.Control}
	for _, addr := range []string{"127.0.0.1:" + srv.port, "[::ffff:127.0.0.1]:" + srv.port, "localhost:" + srv.port} {
		conn, err := d.Dial("tcp", addr)
		if conn != nil {
			_ = conn.Close()
		}
		var op *net.OpError
		require.True(t, errors.As(err, &op), "%v", err)
		oe := requireRefused(t, err, httpsec.ErrAddressNotAllowed)
		assert.Equal(t, httpsec.Loopback, oe.Class)
	}
	assert.Zero(t, srv.hits.Load())

	// Control decides without connecting, so public addresses can be
	// asked about here without any traffic.
	for addr, want := range map[string]error{
		"93.184.215.14:443":         nil,
		"[2606:4700:4700::1111]:53": nil,
		"[::ffff:8.8.8.8]:53":       nil,
		"[64:ff9b::808:808]:53":     nil,
		"[2002:808:808::1]:80":      nil,
		"169.254.169.254:80":        httpsec.ErrAddressNotAllowed,
		"[fe80::1%lo]:80":           httpsec.ErrAddressNotAllowed,
		"not-an-address:80":         httpsec.ErrAddressNotAllowed,
	} {
		err := o.Control("tcp", addr, nil)
		if want == nil {
			assert.NoError(t, err, addr)
			continue
		}
		requireRefused(t, err, want)
	}
	requireRefused(t, o.Control("unix", "/run/docker.sock", nil), httpsec.ErrAddressNotAllowed)
}

func TestOutbound_CheckDecidesWithoutConnecting(t *testing.T) {
	o := newOutbound(t, httpsec.OutboundConfig{AllowedHosts: []string{"hooks.example.com"}, AllowedPorts: []uint16{443}})
	for raw, want := range map[string]error{
		"https://hooks.example.com/x":      nil,
		"https://HOOKS.example.com./x":     nil,
		"http://hooks.example.com/x":       httpsec.ErrPortNotAllowed,
		"https://hooks.example.com:8443/x": httpsec.ErrPortNotAllowed,
		"https://evil.example.com/x":       httpsec.ErrDestinationNotAllowed,
		"javascript://hooks.example.com/":  httpsec.ErrSchemeNotAllowed,
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		err = o.Check(&http.Request{URL: u})
		if want == nil {
			assert.NoError(t, err, raw)
			continue
		}
		requireRefused(t, err, want)
	}
}

func TestOutbound_ErrorSaysWhatAndWhy(t *testing.T) {
	o := newOutbound(t, httpsec.OutboundConfig{})
	for raw, want := range map[string]string{
		"http://169.254.169.254/":        `httpsec: address not allowed: "169.254.169.254" is link-local (169.254.0.0/16)`,
		"http://[::ffff:10.0.0.1]:8080/": `httpsec: address not allowed: "[::ffff:10.0.0.1]:8080" is an IPv6 form of 10.0.0.1, private (10.0.0.0/8)`,
		"http://2130706433/":             `httpsec: host is a non-canonical IPv4 address: "2130706433" stands for 127.0.0.1`,
		"ftp://x.example/":               `httpsec: scheme not allowed: "x.example": scheme "ftp" is not http or https`,
	} {
		u, _ := url.Parse(raw)
		assert.EqualError(t, o.Check(&http.Request{URL: u}), want)
	}
}

func TestNewOutbound_RefusesBadConfig(t *testing.T) {
	cases := map[string]httpsec.OutboundConfig{
		"zero-length block":    {AllowedCIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}},
		"host bits":            {AllowedCIDRs: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/8")}},
		"invalid block":        {AllowedCIDRs: []netip.Prefix{{}}},
		"port 0":               {AllowedPorts: []uint16{0}},
		"negative size":        {MaxResponseBytes: -1},
		"negative timeout":     {Timeout: -1},
		"negative dial":        {DialTimeout: -1},
		"host with scheme":     {AllowedHosts: []string{"https://api.example.com"}},
		"host with port":       {AllowedHosts: []string{"api.example.com:443"}},
		"bare wildcard":        {AllowedHosts: []string{"*.com"}},
		"private literal only": {AllowedHosts: []string{"10.0.0.5"}},
		"numeric host":         {AllowedHosts: []string{"2130706433"}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := httpsec.NewOutbound(cfg)
			require.Error(t, err)
			assert.ErrorIs(t, err, httpsec.ErrInvalidConfig)
			var ce *httpsec.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.True(t, strings.HasPrefix(ce.Field, "OutboundConfig."), ce.Field)
		})
	}
	_, err := httpsec.NewOutbound(httpsec.OutboundConfig{
		AllowedHosts: []string{"10.0.0.5"},
		AllowedCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")},
	})
	assert.NoError(t, err, "a listed private address whose block is allowed")
}

func TestOutbound_ConcurrentRequests(t *testing.T) {
	srv := newCanary(t, nil)
	o := newOutbound(t, httpsec.OutboundConfig{AllowedCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			u := "http://127.0.0.1:" + srv.port + "/"
			if i%2 == 1 {
				u = "http://[::1]:" + srv.port + "/"
			}
			resp, err := o.Client().Get(u)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if i%2 == 1 {
					err = errors.New("::1 was reached")
				}
			} else if i%2 == 1 && errors.Is(err, httpsec.ErrAddressNotAllowed) {
				err = nil
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, int32(20), srv.hits.Load())
}

func TestOutbound_PortRefusalFromTheDialerSaysThePort(t *testing.T) {
	o := newOutbound(t, httpsec.OutboundConfig{AllowedPorts: []uint16{443}})
	assert.EqualError(t, o.Control("tcp", "93.184.215.14:22", nil), `httpsec: port not allowed: "93.184.215.14:22": port 22`)
}
