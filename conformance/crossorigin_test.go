package conformance

import (
	"go/ast"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpsec"
)

// TestCrossOrigin_StdlibTables replays the table tests of the standard
// library's http.CrossOriginProtection (net/http/csrf_test.go of the
// toolchain that runs this test, read at run time) against
// httpsec.CrossOrigin configured alike: the trusted origins and bypass
// patterns each test function adds become the Config, each row becomes a
// request built as the function builds it, and the status must match (a
// 403 problem document counts as the standard library's 403).
func TestCrossOrigin_StdlibTables(t *testing.T) {
	tables := sourceTables(goSourceFile(t, goRootFile(t, "net/http/csrf_test.go")))
	cases := 0
	for _, tab := range tables {
		var env srcEnv
		cfg := httpsec.CrossOriginConfig{}
		for _, e := range tab.calls["AddTrustedOrigin"] {
			if tab.rows[0]["wantErr"] == nil {
				cfg.TrustedOrigins = append(cfg.TrustedOrigins, env.str(t, e))
			}
		}
		for _, e := range tab.calls["AddInsecureBypassPattern"] {
			cfg.BypassPatterns = append(cfg.BypassPatterns, env.str(t, e))
		}
		for _, row := range tab.rows {
			cases++
			name := tab.fn + "/" + env.str(t, row["name"])
			if row["wantErr"] != nil {
				t.Run(name, func(t *testing.T) { trustedOriginCase(t, env, row) })
				continue
			}
			t.Run(name, func(t *testing.T) { crossOriginCase(t, cfg, tab.constHeaders, row) })
		}
	}
	// Go 1.25's tests hold 51 cases in 5 tables; a future toolchain may
	// add some, but reading far fewer means the tables were not understood.
	assert.GreaterOrEqual(t, cases, 40, "cases read from csrf_test.go")
}

// trustedOriginCase: AddTrustedOrigin(origin) fails exactly when Bedrock
// refuses the origin in TrustedOrigins.
func trustedOriginCase(t *testing.T, env srcEnv, row map[string]ast.Expr) {
	origin := env.str(t, row["origin"])
	_, err := httpsec.NewCrossOrigin(httpsec.CrossOriginConfig{TrustedOrigins: []string{origin}})
	if env.boolean(t, row["wantErr"]) {
		assert.ErrorIs(t, err, httpsec.ErrInvalidConfig, "%q", origin)
	} else {
		assert.NoError(t, err, "%q", origin)
	}
}

func crossOriginCase(t *testing.T, cfg httpsec.CrossOriginConfig, constHeaders map[string]string, row map[string]ast.Expr) {
	co, err := httpsec.NewCrossOrigin(cfg)
	require.NoError(t, err)
	handler := co.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))

	// Rows with a url field run against a real server (ts.URL), the others
	// against a request built like the standard library's
	// httptestNewRequest: target https://example.com, URL scheme and host
	// cleared, Host header kept.
	env := srcEnv{}
	var srv *httptest.Server
	if row["url"] != nil {
		srv = httptest.NewServer(handler)
		defer srv.Close()
		env["ts.URL"] = srv.URL
	}
	method := "POST"
	if row["method"] != nil {
		method = env.str(t, row["method"])
	}
	var req *http.Request
	if srv != nil {
		req, err = http.NewRequest(method, env.str(t, row["url"]), nil)
		require.NoError(t, err)
	} else {
		path := "/"
		if row["path"] != nil {
			path = env.str(t, row["path"])
		}
		req = httptest.NewRequest(method, "https://example.com"+path, nil)
		req.URL.Scheme, req.URL.Host = "", ""
	}
	for k, v := range constHeaders {
		req.Header.Set(k, v)
	}
	if row["origin"] != nil {
		if o := env.str(t, row["origin"]); o != "" {
			req.Header.Set("Origin", o)
		}
	}
	if row["secFetchSite"] != nil {
		if s := env.str(t, row["secFetchSite"]); s != "" {
			req.Header.Set("Sec-Fetch-Site", s)
		}
	}
	want := env.httpStatus(t, row["expectedStatus"])

	var got int
	if srv != nil {
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		got = resp.StatusCode
	} else {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		got = rec.Code
		if got == http.StatusForbidden {
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		}
	}
	assert.Equal(t, want, got)
}
