package httpsec_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
)

func TestCrossOrigin(t *testing.T) {
	c, err := httpsec.NewCrossOrigin(httpsec.CrossOriginConfig{
		TrustedOrigins: []string{"https://Partner.example.com:443", "https://*.tenant.example.org"},
		BypassPatterns: []string{"POST /webhooks/{provider}"},
	})
	require.NoError(t, err)
	cases := []struct {
		name, method, path, site, origin string
		want                             int
	}{
		{"cross-site POST", "POST", "/transfer", "cross-site", "https://evil.com", 403},
		{"same-site but cross-origin POST", "POST", "/transfer", "same-site", "https://other.bank.example", 403},
		{"cross-site DELETE", "DELETE", "/account", "cross-site", "https://evil.com", 403},
		{"old browser, foreign origin", "POST", "/transfer", "", "https://evil.com", 403},
		{"old browser, origin on another scheme host", "POST", "/transfer", "", "https://bank.example:8443", 403},
		{"same-origin POST", "POST", "/transfer", "same-origin", "https://bank.example", 200},
		{"user typed the URL", "POST", "/transfer", "none", "", 200},
		{"old browser, same host", "POST", "/transfer", "", "https://bank.example", 200},
		{"non-browser client", "POST", "/transfer", "", "", 200},
		{"cross-site GET is safe", "GET", "/transfer", "cross-site", "https://evil.com", 200},
		{"cross-site HEAD is safe", "HEAD", "/transfer", "cross-site", "https://evil.com", 200},
		{"trusted origin, canonicalised", "POST", "/transfer", "cross-site", "https://partner.example.com", 200},
		{"trusted origin, other port", "POST", "/transfer", "cross-site", "https://partner.example.com:8443", 403},
		{"trusted pattern", "POST", "/transfer", "cross-site", "https://acme.tenant.example.org", 200},
		{"trusted pattern, http", "POST", "/transfer", "cross-site", "http://acme.tenant.example.org", 403},
		{"trusted pattern, suffix attack", "POST", "/transfer", "cross-site", "https://acme.tenant.example.org.evil.com", 403},
		{"bypass pattern", "POST", "/webhooks/stripe", "cross-site", "https://evil.com", 200},
		{"bypass pattern is exact", "PUT", "/webhooks/stripe", "cross-site", "https://evil.com", 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "https://bank.example"+tc.path, nil)
			if tc.site != "" {
				r.Header.Set("Sec-Fetch-Site", tc.site)
			}
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			var rejected error
			c, err := httpsec.NewCrossOrigin(httpsec.CrossOriginConfig{
				TrustedOrigins: []string{"https://Partner.example.com:443", "https://*.tenant.example.org"},
				BypassPatterns: []string{"POST /webhooks/{provider}"},
				Hooks:          httpsec.Hooks{OnReject: func(_ *http.Request, err error) { rejected = err }},
			})
			require.NoError(t, err)
			w := serve(c.Handler(okHandler), r)
			require.Equal(t, tc.want, w.Code)
			if tc.want == http.StatusOK {
				assert.NoError(t, rejected)
				return
			}
			assert.ErrorIs(t, rejected, httpsec.ErrCrossOriginRequest)
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			var p map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
			assert.Equal(t, "Cross-origin requests that change state are refused.", p["detail"])
		})
	}
	assert.NoError(t, c.Check(httptest.NewRequest(http.MethodGet, "/", nil)))
}

func TestNewCrossOrigin_ConstructionErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  httpsec.CrossOriginConfig
		err  error
	}{
		{"malformed origin", httpsec.CrossOriginConfig{TrustedOrigins: []string{"partner.example.com"}}, httpsec.ErrInvalidOrigin},
		{"null origin", httpsec.CrossOriginConfig{TrustedOrigins: []string{"null"}}, httpsec.ErrNullOrigin},
		{"any origin", httpsec.CrossOriginConfig{TrustedOrigins: []string{"*"}}, httpsec.ErrInvalidConfig},
		{"malformed pattern", httpsec.CrossOriginConfig{BypassPatterns: []string{"POST /a/{x"}}, httpsec.ErrInvalidConfig},
		{"conflicting patterns", httpsec.CrossOriginConfig{BypassPatterns: []string{"POST /a", "POST /a"}}, httpsec.ErrInvalidConfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := httpsec.NewCrossOrigin(tc.cfg)
			assert.Nil(t, c)
			require.ErrorIs(t, err, tc.err)
			var ce *httpsec.ConfigError
			assert.True(t, errors.As(err, &ce))
		})
	}
}

func TestCrossOrigin_ConcurrentUse(t *testing.T) {
	c, err := httpsec.NewCrossOrigin(httpsec.CrossOriginConfig{TrustedOrigins: []string{"https://*.example.org"}})
	require.NoError(t, err)
	h := c.Handler(okHandler)
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := httptest.NewRequest(http.MethodPost, "https://bank.example/", nil)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			want := http.StatusForbidden
			if i%2 == 0 {
				r.Header.Set("Origin", "https://a.example.org")
				want = http.StatusOK
			} else {
				r.Header.Set("Origin", "https://evil.example")
			}
			for range 10 {
				if got := serve(h, r).Code; got != want {
					errs <- http.StatusText(got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
