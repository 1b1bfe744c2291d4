package httpsec_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
)

// The whole stack, in the documented order, over real connections: what a
// browser on the app's origin, an attacker's page and a server-side client
// each get.
func TestStack_RealServer(t *testing.T) {
	hosts, err := httpsec.NewHostCheck(httpsec.HostCheckConfig{AllowedHosts: []string{"127.0.0.1"}})
	require.NoError(t, err)
	headers := mustHeaders(t, httpsec.HeadersConfig{})
	cors := mustCORS(t, httpsec.CORSConfig{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowedMethods:   []string{"GET", "POST"},
		AllowCredentials: true,
	})
	csrf, err := httpsec.NewCrossOrigin(httpsec.CrossOriginConfig{TrustedOrigins: []string{"https://app.example.com"}})
	require.NoError(t, err)
	body := mustBodyLimit(t, httpsec.BodyLimitConfig{MaxBytes: 64})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {
		var note map[string]string
		if err := json.NewDecoder(r.Body).Decode(&note); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	srv := httptest.NewServer(hosts.Handler(headers.Handler(cors.Handler(csrf.Handler(body.Handler(mux))))))
	defer srv.Close()

	do := func(method, host string, hdr map[string]string, payload string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+"/notes", strings.NewReader(payload))
		require.NoError(t, err)
		if host != "" {
			req.Host = host
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	t.Run("preflight from the app", func(t *testing.T) {
		resp := do(http.MethodOptions, "", map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "content-type",
		}, "")
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.Equal(t, "https://app.example.com", resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	})
	t.Run("cookie POST from the app", func(t *testing.T) {
		resp := do(http.MethodPost, "", map[string]string{
			"Origin": "https://app.example.com", "Sec-Fetch-Site": "cross-site", "Cookie": "sid=1",
			"Content-Type": "application/json",
		}, `{"text":"hi"}`)
		assert.Equal(t, http.StatusCreated, resp.StatusCode)
		assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	})
	t.Run("form POST from an attacker's page", func(t *testing.T) {
		resp := do(http.MethodPost, "", map[string]string{
			"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Cookie": "sid=1",
		}, `{"text":"pwned"}`)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), "refusals carry the security headers")
	})
	t.Run("server-side client", func(t *testing.T) {
		assert.Equal(t, http.StatusCreated, do(http.MethodPost, "", nil, `{"text":"hi"}`).StatusCode)
	})
	t.Run("oversize body", func(t *testing.T) {
		resp := do(http.MethodPost, "", nil, `{"text":"`+strings.Repeat("x", 100)+`"}`)
		assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	})
	t.Run("DNS rebinding", func(t *testing.T) {
		resp := do(http.MethodPost, "rebind.attacker.example", nil, `{}`)
		assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode)
	})
}
