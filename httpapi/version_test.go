package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpapi"
)

func TestVersioning_Select(t *testing.T) {
	v, err := httpapi.NewVersioning(httpapi.VersioningConfig{Versions: []string{"v1", "v2", "2025-06-01"}})
	require.NoError(t, err)
	req := func(path string, hdr ...string) *http.Request {
		r := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Add(hdr[i], hdr[i+1])
		}
		return r
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
		want string
		bad  bool
	}{
		{"path prefix", req("/v2/products"), "v2", false},
		{"path prefix alone", req("/v2"), "v2", false},
		{"a date as path prefix", req("/2025-06-01/products"), "2025-06-01", false},
		{"header", req("/products", "API-Version", "v2"), "v2", false},
		{"header with whitespace", req("/products", "API-Version", " v2 "), "v2", false},
		{"media-type parameter", req("/products", "Accept", "application/json; version=v2"), "v2", false},
		{"quoted media-type parameter, any case", req("/products", "Accept", `application/json;Version="v2"`), "v2", false},
		{"parameter of one range among several", req("/products", "Accept", `text/html;q=0.9, application/json; version=v2`), "v2", false},
		{"quoted comma does not split", req("/products", "Accept", `application/json; x="a,b"; version=v1`), "v1", false},
		{"no version: the default is the first", req("/products"), "v1", false},
		{"a path that is no version", req("/vendors/1"), "v1", false},
		{"places that agree", req("/v2/products", "API-Version", "v2", "Accept", "application/json; version=v2"), "v2", false},
		{"unknown version in the path", req("/v9/products"), "", true},
		{"unknown version in the header", req("/products", "API-Version", "v3"), "", true},
		{"versions are case-sensitive", req("/products", "API-Version", "V2"), "", true},
		{"unknown version in Accept", req("/products", "Accept", "application/json; version=3"), "", true},
		{"path and header disagree", req("/v1/products", "API-Version", "v2"), "", true},
		{"two Accept ranges disagree", req("/products", "Accept", "application/json; version=v1, text/csv; version=v2"), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Select(tc.r)
			if tc.bad {
				assert.ErrorIs(t, err, httpapi.ErrUnknownVersion)
				var ve *httpapi.VersionError
				assert.ErrorAs(t, err, &ve)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestVersioning_HandlerPutsTheVersionInTheContext(t *testing.T) {
	v, err := httpapi.NewVersioning(httpapi.VersioningConfig{Versions: []string{"v1", "v2"}, Default: "v2"})
	require.NoError(t, err)
	var seen string
	h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = httpapi.VersionFrom(r.Context())
		_, _ = w.Write([]byte(r.URL.Path))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/products", nil))
	assert.Equal(t, "v1", seen)
	assert.Equal(t, "/v1/products", w.Body.String(), "the prefix stays by default")

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/products", nil))
	assert.Equal(t, "v2", seen, "the configured default")

	w = httptest.NewRecorder()
	seen = ""
	h.ServeHTTP(w, httptest.NewRequest("GET", "/v7/products", nil))
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Empty(t, seen, "the handler never runs")
	assert.Equal(t, httpapi.ProblemContentType, w.Header().Get("Content-Type"))
	m := decode(t, w)
	assert.Equal(t, "Bad Request", m["title"])
	assert.Equal(t, []any{"v1", "v2"}, m["versions"], "the versions offered")

	_, ok := httpapi.VersionFrom(httptest.NewRequest("GET", "/", nil).Context())
	assert.False(t, ok, "no version outside the middleware")
}

func TestVersioning_StripPrefix(t *testing.T) {
	v, err := httpapi.NewVersioning(httpapi.VersioningConfig{Versions: []string{"v1", "v2"}, StripPrefix: true})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /products/{id}", func(w http.ResponseWriter, r *http.Request) {
		version, _ := httpapi.VersionFrom(r.Context())
		_, _ = w.Write([]byte(version + " " + r.PathValue("id")))
	})
	h := v.Handler(mux)
	for path, want := range map[string]string{"/v1/products/7": "v1 7", "/v2/products/a%2Fb": "v2 a/b", "/products/9": "v1 9"} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", path, nil)
		before := r.URL.Path
		h.ServeHTTP(w, r)
		assert.Equal(t, want, w.Body.String(), path)
		assert.Equal(t, before, r.URL.Path, "the caller's request is not changed")
	}
}

func TestVersioning_RequireVersion(t *testing.T) {
	v, err := httpapi.NewVersioning(httpapi.VersioningConfig{Versions: []string{"v1"}, RequireVersion: true, Header: "X-Api-Version"})
	require.NoError(t, err)
	_, err = v.Select(httptest.NewRequest("GET", "/products", nil))
	assert.ErrorIs(t, err, httpapi.ErrUnknownVersion)
	assert.EqualError(t, err, "httpapi: the request names no API version")
	r := httptest.NewRequest("GET", "/products", nil)
	r.Header.Set("X-Api-Version", "v1")
	got, err := v.Select(r)
	require.NoError(t, err)
	assert.Equal(t, "v1", got)
}

func TestNewVersioning_RefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]httpapi.VersioningConfig{
		"no versions":        {},
		"empty version":      {Versions: []string{""}},
		"slash in a version": {Versions: []string{"v1/beta"}},
		"space in a version": {Versions: []string{"v 1"}},
		"duplicate":          {Versions: []string{"v1", "v1"}},
		"unknown default":    {Versions: []string{"v1"}, Default: "v2"},
		"bad header name":    {Versions: []string{"v1"}, Header: "API Version"},
		"bad parameter name": {Versions: []string{"v1"}, MediaTypeParameter: "v=1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := httpapi.NewVersioning(cfg)
			assert.ErrorIs(t, err, httpapi.ErrInvalidConfig)
		})
	}
}
