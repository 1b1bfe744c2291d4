package httpsec_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
)

func TestHostCheck(t *testing.T) {
	cases := map[string]bool{
		"api.example.com":                  true,
		"api.example.com:443":              true,
		"API.EXAMPLE.COM":                  true,
		"api.example.com.":                 true,
		"admin.example.com:8443":           true,
		"admin.example.com.:8443":          true,
		"admin.example.com":                false,
		"admin.example.com:443":            false,
		"acme.tenant.example.com":          true,
		"eu.acme.tenant.example.com:9000":  true,
		"tenant.example.com":               false,
		"acme.tenant.example.com.evil.com": false,
		"evil.com":                         false,
		"rebind.attacker.example":          false,
		"127.0.0.1:3000":                   true,
		"[::1]:8080":                       true,
		"[::1]:8081":                       false,
		"":                                 false,
		"api.example.com:":                 false,
		"api.example.com:x":                false,
		"api.example.com:99999":            false,
		"[::1":                             false,
		"a_b..tenant.example.com":          false,
	}
	for host, want := range cases {
		t.Run(host, func(t *testing.T) {
			var rejected error
			c, err := httpsec.NewHostCheck(httpsec.HostCheckConfig{
				AllowedHosts: []string{"api.example.com", "Admin.Example.com:8443", "*.tenant.example.com", "127.0.0.1", "[::1]:8080"},
				Hooks:        httpsec.Hooks{OnReject: func(_ *http.Request, err error) { rejected = err }},
			})
			require.NoError(t, err)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Host = host
			if want {
				assert.NoError(t, c.Check(r))
			} else {
				assert.ErrorIs(t, c.Check(r), httpsec.ErrHostNotAllowed)
			}
			w := serve(c.Handler(okHandler), r)
			if want {
				assert.Equal(t, http.StatusOK, w.Code)
				assert.NoError(t, rejected)
				return
			}
			assert.Equal(t, http.StatusMisdirectedRequest, w.Code)
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			assert.ErrorIs(t, rejected, httpsec.ErrHostNotAllowed)
		})
	}
}

func TestNewHostCheck_ConstructionErrors(t *testing.T) {
	for _, hosts := range [][]string{
		nil,
		{"https://example.com"},
		{"example.com/path"},
		{"*.com"},
		{"api.*.example.com"},
		{"example.com:0"},
		{"[not-ip]"},
		{"exa mple.com"},
		{"1.2.3"},
	} {
		c, err := httpsec.NewHostCheck(httpsec.HostCheckConfig{AllowedHosts: hosts})
		assert.Nil(t, c, "%q", hosts)
		assert.ErrorIs(t, err, httpsec.ErrInvalidHost, "%q", hosts)
		assert.ErrorIs(t, err, httpsec.ErrInvalidConfig, "%q", hosts)
		var ce *httpsec.ConfigError
		assert.True(t, errors.As(err, &ce))
	}
}

func TestHostCheck_Allocations(t *testing.T) {
	c, err := httpsec.NewHostCheck(httpsec.HostCheckConfig{AllowedHosts: []string{"api.example.com", "*.example.org"}})
	require.NoError(t, err)
	for host, want := range map[string]bool{"api.example.com:8080": true, "a.example.org": true, "evil.example:8443": false} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = host
		assert.Zero(t, testing.AllocsPerRun(100, func() {
			if (c.Check(r) == nil) != want {
				t.Fatal("wrong answer for", host)
			}
		}), host)
	}
}
