package httpsecobserve_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/httpsecobserve"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "httpsecobserve", map[string]func(metric.MeterProvider) error{
		"httpsec": func(mp metric.MeterProvider) error { _, err := httpsecobserve.Hooks(mp); return err },
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "httpsecobserve")
	hooks, err := httpsecobserve.Hooks(m.MP)
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	refusedAddr := &httpsec.OutboundError{Err: httpsec.ErrAddressNotAllowed, Addr: netip.MustParseAddr("169.254.169.254"), Class: httpsec.LinkLocal}
	refusedScheme := &httpsec.OutboundError{Err: httpsec.ErrSchemeNotAllowed}
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"reject":          func() { hooks.OnReject(r, httpsec.ErrHostNotAllowed) },
		"outbound reject": func() { hooks.OnOutboundReject(r.Context(), refusedAddr) },
		"outbound scheme": func() { hooks.OnOutboundReject(r.Context(), refusedScheme) },
		"reload":          func() { hooks.OnCertReload(nil) },
		"reload error":    func() { hooks.OnCertReloadError(httpsec.ErrInvalidCertificate) },
	})
}
