package conformance

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/resilience"
)

// httpsec.Outbound under resilience.Transport, as httpsec's doc composes
// them: the refusals keep their type through the pipeline, are not
// retried with the RetryIf the doc gives, and every redirect hop is still
// checked; allowed requests are retried as usual.
func TestOutbound_ComposesUnderResilienceTransport(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flaky":
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, _ = io.WriteString(w, "ok")
		case "/redirect":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		}
	}))
	defer srv.Close()

	var refusals atomic.Int32
	outbound, err := httpsec.NewOutbound(httpsec.OutboundConfig{
		AllowedCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Hooks:        httpsec.Hooks{OnOutboundReject: func(context.Context, *httpsec.OutboundError) { refusals.Add(1) }},
	})
	require.NoError(t, err)
	defer outbound.CloseIdleConnections()
	retry, err := resilience.NewRetry(resilience.RetryConfig{
		MaxAttempts:  3,
		InitialDelay: time.Millisecond,
		// The default RetryIf: an OutboundError says it is permanent, so
		// no caller has to teach a Retry about httpsec.
	})
	require.NoError(t, err)
	pipeline, err := resilience.NewPipeline[*http.Response](retry)
	require.NoError(t, err)
	transport, err := resilience.NewTransport(resilience.TransportConfig{Base: outbound, Pipeline: pipeline})
	require.NoError(t, err)
	client := &http.Client{Transport: transport}

	resp, err := client.Get(srv.URL + "/flaky")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, "ok", string(body), "a 503 from an allowed host is retried")
	assert.Equal(t, int32(2), calls.Load())

	for _, u := range []string{"http://169.254.169.254/", srv.URL + "/redirect"} {
		before := refusals.Load()
		_, err = client.Get(u)
		var oe *httpsec.OutboundError
		require.True(t, errors.As(err, &oe), "%v", err)
		assert.ErrorIs(t, err, httpsec.ErrAddressNotAllowed)
		assert.Equal(t, httpsec.LinkLocal, oe.Class)
		assert.Equal(t, before+1, refusals.Load(), "%s: a refusal is not retried", u)
	}

	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	_, err = client.Get("http://0x7f.1:" + port + "/flaky")
	require.ErrorIs(t, err, httpsec.ErrNumericHost)
	assert.Equal(t, int32(2), calls.Load(), "nothing refused reached the server")
}
