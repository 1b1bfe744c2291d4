package httpsecobserve_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/httpsecobserve"
)

func TestHooks_CountRejectionsByReason(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "httpsecobserve")
	hooks, err := httpsecobserve.Hooks(m.MP)
	require.NoError(t, err)
	hosts, err := httpsec.NewHostCheck(httpsec.HostCheckConfig{AllowedHosts: []string{"api.example.com"}, Hooks: hooks})
	require.NoError(t, err)
	limit, err := httpsec.NewBodyLimit(httpsec.BodyLimitConfig{MaxBytes: 8, Hooks: hooks})
	require.NoError(t, err)
	xo, err := httpsec.NewCrossOrigin(httpsec.CrossOriginConfig{Hooks: hooks})
	require.NoError(t, err)
	h := hosts.Handler(xo.Handler(limit.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Body.Read(make([]byte, 64)); err != nil && !strings.Contains(err.Error(), "EOF") {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		}
	}))))
	send := func(host, body string, hdr ...string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Host = host
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	send("evil.example", "")
	send("attacker-123.example", "")
	send("api.example.com", "", "Sec-Fetch-Site", "cross-site")
	send("api.example.com", strings.Repeat("x", 100))
	send("api.example.com", "ok")

	assert.Equal(t, map[string]int64{
		"bedrock.httpsec.reason=host_not_allowed":     2,
		"bedrock.httpsec.reason=cross_origin_request": 1,
		"bedrock.httpsec.reason=body_too_large":       1,
	}, m.Counter(t, "bedrock.httpsec.rejections", "{request}"))
}

func TestHooks_CountOutboundRefusalsByReasonAndClass(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "httpsecobserve")
	hooks, err := httpsecobserve.Hooks(m.MP)
	require.NoError(t, err)
	o, err := httpsec.NewOutbound(httpsec.OutboundConfig{Hooks: hooks})
	require.NoError(t, err)
	client := o.Client()
	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://[fd00::1]/",
		"http://10.0.0.1/",
		"http://0x7f.1/",
		"ftp://example.com/",
	} {
		_, err := client.Get(u) // each refused before any connection
		require.ErrorIs(t, err, httpsec.ErrOutboundRefused, u)
	}
	assert.Equal(t, map[string]int64{
		"bedrock.httpsec.address_class=link_local,bedrock.httpsec.reason=address_not_allowed": 1,
		"bedrock.httpsec.address_class=private,bedrock.httpsec.reason=address_not_allowed":    2,
		"bedrock.httpsec.address_class=loopback,bedrock.httpsec.reason=numeric_host":          1,
		"bedrock.httpsec.reason=scheme_not_allowed":                                           1,
	}, m.Counter(t, "bedrock.httpsec.outbound.rejections", "{request}"))
}

func TestHooks_CountCertificateReloads(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "httpsecobserve")
	hooks, err := httpsecobserve.Hooks(m.MP)
	require.NoError(t, err)
	hooks.OnCertReload(nil)
	hooks.OnCertReloadError(errors.New("broken"))
	hooks.OnCertReloadError(errors.New("broken"))
	assert.Equal(t, map[string]int64{
		"bedrock.httpsec.result=ok":    1,
		"bedrock.httpsec.result=error": 2,
	}, m.Counter(t, "bedrock.httpsec.tls.reloads", "{reload}"))
}

// BenchmarkHooks_Reject is the hook of every refused request: a path an
// attacker drives, so it must stay cheap.
func BenchmarkHooks_Reject(b *testing.B) {
	hooks, err := httpsecobserve.Hooks(otelhooktest.NewRecorder(b, "httpsecobserve").MP)
	require.NoError(b, err)
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnReject(r, httpsec.ErrHostNotAllowed)
	}
}
