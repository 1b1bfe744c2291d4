package ratelimit_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/ratelimit"
)

// unixServer serves h on a Unix socket through a real http.Server, as
// behind a proxy that talks to the service over a socket, and returns a
// client that dials it.
func unixServer(t *testing.T, h http.Handler) *http.Client {
	t.Helper()
	// A short directory: socket paths are limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "rl")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := &http.Server{Handler: h}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
}

func getVia(t *testing.T, c *http.Client, forwardedFor string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://service/", nil)
	require.NoError(t, err)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// A proxy on a Unix socket: the connection has no IP address. Unless the
// config trusts the socket's peer, the client cannot be named, which is
// the server's deployment problem (500), not an authentication failure
// (a 401 would also need a WWW-Authenticate challenge).
func TestKeyByClientIP_BehindAProxyOnAUnixSocket(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	serveWith := func(cfg ratelimit.ClientIPConfig) *http.Client {
		key, err := ratelimit.KeyByClientIP(cfg)
		require.NoError(t, err)
		lim, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerMinute(1)}})
		require.NoError(t, err)
		mw, err := ratelimit.NewMiddleware(lim, ratelimit.MiddlewareConfig{Key: key})
		require.NoError(t, err)
		return unixServer(t, mw.Handler(ok))
	}

	t.Run("untrusted socket peer: 500 problem, not 401", func(t *testing.T) {
		c := serveWith(ratelimit.ClientIPConfig{})
		resp := getVia(t, c, "203.0.113.9")
		assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		assert.Empty(t, resp.Header.Get("WWW-Authenticate"))
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		assert.Equal(t, "The server cannot tell which client sent the request.", body["detail"])
	})

	t.Run("trusted socket peer: the forwarded address is the key", func(t *testing.T) {
		c := serveWith(ratelimit.ClientIPConfig{TrustUnixSocket: true})
		assert.Equal(t, http.StatusNoContent, getVia(t, c, "203.0.113.9").StatusCode)
		assert.Equal(t, http.StatusTooManyRequests, getVia(t, c, "203.0.113.9").StatusCode, "same client, limited")
		assert.Equal(t, http.StatusNoContent, getVia(t, c, "198.51.100.7").StatusCode, "another client has its own limit")
	})

	t.Run("trusted socket peer and trusted proxies further back", func(t *testing.T) {
		c := serveWith(ratelimit.ClientIPConfig{TrustUnixSocket: true,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		assert.Equal(t, http.StatusNoContent, getVia(t, c, "1.2.3.4, 203.0.113.9, 10.0.0.2").StatusCode)
		assert.Equal(t, http.StatusTooManyRequests, getVia(t, c, "5.6.7.8, 203.0.113.9, 10.0.0.3").StatusCode,
			"the first untrusted hop is the client, whatever it claims further left")
	})

	t.Run("trusted socket peer that forwards nothing: 500", func(t *testing.T) {
		c := serveWith(ratelimit.ClientIPConfig{TrustUnixSocket: true})
		assert.Equal(t, http.StatusInternalServerError, getVia(t, c, "").StatusCode)
	})
}

// TrustUnixSocket trusts only a connection the server accepted on a Unix
// socket, never a TCP peer whose address merely failed to parse.
func TestKeyByClientIP_TrustUnixSocketNeedsAUnixListener(t *testing.T) {
	key, err := ratelimit.KeyByClientIP(ratelimit.ClientIPConfig{TrustUnixSocket: true})
	require.NoError(t, err)
	for name, local := range map[string]net.Addr{
		"no listener address": nil,
		"a TCP listener":      &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80},
	} {
		t.Run(name, func(t *testing.T) {
			r := request("@", "X-Forwarded-For", "203.0.113.9")
			if local != nil {
				r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
			}
			_, err := key(r)
			assert.ErrorIs(t, err, ratelimit.ErrNoClientIP)
		})
	}
	r := request("", "X-Forwarded-For", "203.0.113.9")
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.UnixAddr{Name: "/run/app.sock", Net: "unix"}))
	got, err := key(r)
	require.NoError(t, err)
	assert.Equal(t, "ip:203.0.113.9", got)
}
