package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/ratelimit"
)

func request(remote string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func TestKeyByClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	cases := []struct {
		name    string
		cfg     ratelimit.ClientIPConfig
		req     *http.Request
		want    string
		wantErr error
	}{
		{"connection address", ratelimit.ClientIPConfig{}, request("192.0.2.1:1234"), "ip:192.0.2.1", nil},
		{"forwarding ignored without trusted proxies", ratelimit.ClientIPConfig{},
			request("192.0.2.1:1234", "X-Forwarded-For", "203.0.113.9"), "ip:192.0.2.1", nil},
		{"forwarding ignored from an untrusted peer", ratelimit.ClientIPConfig{TrustedProxies: proxies},
			request("192.0.2.1:1234", "X-Forwarded-For", "203.0.113.9"), "ip:192.0.2.1", nil},
		{"trusted proxy names the client", ratelimit.ClientIPConfig{TrustedProxies: proxies},
			request("10.0.0.5:80", "X-Forwarded-For", "203.0.113.9"), "ip:203.0.113.9", nil},
		{"spoofed leftmost entry is skipped", ratelimit.ClientIPConfig{TrustedProxies: proxies},
			request("10.0.0.5:80", "X-Forwarded-For", "1.2.3.4, 203.0.113.9, 10.1.1.1"), "ip:203.0.113.9", nil},
		{"several header lines", ratelimit.ClientIPConfig{TrustedProxies: proxies},
			request("10.0.0.5:80", "X-Forwarded-For", "1.2.3.4", "X-Forwarded-For", "203.0.113.9, 10.1.1.1"), "ip:203.0.113.9", nil},
		{"all trusted: the farthest hop", ratelimit.ClientIPConfig{TrustedProxies: proxies},
			request("10.0.0.5:80", "X-Forwarded-For", "10.9.9.9"), "ip:10.9.9.9", nil},
		{"IPv6 grouped by /64", ratelimit.ClientIPConfig{},
			request("[2001:db8:1:2:3:4:5:6]:443"), "ip:2001:db8:1:2::/64", nil},
		{"IPv6 alone at /128", ratelimit.ClientIPConfig{IPv6Prefix: 128},
			request("[2001:db8::6]:443"), "ip:2001:db8::6", nil},
		{"IPv4-mapped IPv6 is IPv4", ratelimit.ClientIPConfig{},
			request("[::ffff:192.0.2.7]:443"), "ip:192.0.2.7", nil},
		{"Forwarded header", ratelimit.ClientIPConfig{TrustedProxies: proxies, Header: "forwarded"},
			request("[fd00::1]:80", "Forwarded", `for=198.51.100.17;proto=https, For="[2001:db8:cafe::17]:4711"`), "ip:2001:db8:cafe::/64", nil},
		{"Forwarded with quoted comma", ratelimit.ClientIPConfig{TrustedProxies: proxies, Header: "Forwarded"},
			request("10.0.0.1:80", "Forwarded", `for=198.51.100.17;x="a,b"`), "ip:198.51.100.17", nil},
		{"unknown node", ratelimit.ClientIPConfig{TrustedProxies: proxies, Header: "Forwarded"},
			request("10.0.0.1:80", "Forwarded", `for=unknown`), "", ratelimit.ErrNoClientIP},
		{"garbage forwarded-for", ratelimit.ClientIPConfig{TrustedProxies: proxies},
			request("10.0.0.1:80", "X-Forwarded-For", "not-an-ip"), "", ratelimit.ErrNoKey},
		{"garbage remote address", ratelimit.ClientIPConfig{}, request("pipe"), "", ratelimit.ErrNoClientIP},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := ratelimit.KeyByClientIP(tc.cfg)
			require.NoError(t, err)
			got, err := key(tc.req)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestKeyByClientIP_RejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]ratelimit.ClientIPConfig{
		"unknown header":  {Header: "X-Real-IP"},
		"prefix too long": {IPv6Prefix: 129},
		"negative prefix": {IPv6Prefix: -1},
		"invalid proxy":   {TrustedProxies: []netip.Prefix{{}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ratelimit.KeyByClientIP(cfg)
			assert.ErrorIs(t, err, ratelimit.ErrInvalidConfig)
		})
	}
}

type principalKey struct{}

func TestOtherKeyFuncs(t *testing.T) {
	byPrincipal := ratelimit.KeyByContext(func(ctx context.Context) (string, bool) {
		p, ok := ctx.Value(principalKey{}).(string)
		return p, ok
	})
	ip, err := ratelimit.KeyByClientIP(ratelimit.ClientIPConfig{})
	require.NoError(t, err)
	first := ratelimit.FirstKey(byPrincipal, ratelimit.KeyByAPIKey("X-API-Key"), ip)

	anon := request("192.0.2.1:1")
	got, err := first(anon)
	require.NoError(t, err)
	assert.Equal(t, "ip:192.0.2.1", got)

	withKey := request("192.0.2.1:1", "X-Api-Key", "sk_live_secret")
	got, err = first(withKey)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(got, "apikey:"))
	assert.NotContains(t, got, "secret", "the secret never becomes a key")
	again, _ := first(withKey)
	assert.Equal(t, got, again)

	authed := anon.WithContext(context.WithValue(anon.Context(), principalKey{}, "user:42"))
	got, err = first(authed)
	require.NoError(t, err)
	assert.Equal(t, "user:42", got)

	_, err = byPrincipal(anon)
	assert.ErrorIs(t, err, ratelimit.ErrNoKey)
	_, err = ratelimit.FirstKey(byPrincipal)(anon)
	assert.ErrorIs(t, err, ratelimit.ErrNoKey)
	_, err = ratelimit.KeyByHeader("X-Tenant")(anon)
	assert.ErrorIs(t, err, ratelimit.ErrNoKey)
	got, err = ratelimit.KeyByHeader("x-tenant")(request("192.0.2.1:1", "X-Tenant", "acme"))
	require.NoError(t, err)
	assert.Equal(t, "acme", got)
}

// FuzzKeyByClientIP feeds untrusted forwarding headers: the key function
// must never panic, and a key it returns must be an address it was given.
func FuzzKeyByClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "203.0.113.9, 10.1.1.1", `for=198.51.100.17;proto=https, for="[2001:db8::1]:80"`)
	f.Add("[fd00::1]:1", "unknown", `for="_hidden", for=unknown`)
	f.Add("10.0.0.1:80", ",,,", `for="\"[::1]\"";;,`)
	f.Add("10.0.0.1:80", "", `for="[::ffff:10.0.0.1]"`)
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	xff, err := ratelimit.KeyByClientIP(ratelimit.ClientIPConfig{TrustedProxies: proxies})
	require.NoError(f, err)
	fwd, err := ratelimit.KeyByClientIP(ratelimit.ClientIPConfig{TrustedProxies: proxies, Header: "Forwarded", IPv6Prefix: 128})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, remote, xffValue, forwarded string) {
		r := request(remote)
		r.Header["X-Forwarded-For"] = []string{xffValue}
		r.Header["Forwarded"] = []string{forwarded}
		for _, key := range []ratelimit.KeyFunc{xff, fwd} {
			k, err := key(r)
			if err != nil {
				if !strings.Contains(err.Error(), "ratelimit: no key") {
					t.Fatalf("untyped error %v", err)
				}
				continue
			}
			if !strings.HasPrefix(k, "ip:") {
				t.Fatalf("key %q", k)
			}
			addr := strings.TrimPrefix(k, "ip:")
			if _, perr := netip.ParseAddr(addr); perr != nil {
				if _, perr := netip.ParsePrefix(addr); perr != nil {
					t.Fatalf("key %q is no address", k)
				}
			}
		}
	})
}
