package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/examples/service/internal/app"
	"github.com/bedrock-go/bedrock/examples/service/internal/config"
)

// publicReads is the Cache-Control of anonymous product reads.
var publicReads = fmt.Sprintf("public, max-age=%d, stale-while-revalidate=%d",
	int(app.ProductMaxAge/time.Second), int(app.ProductStaleWhileRevalidate/time.Second))

// adminWithProduct signs an admin up and creates a product, returning the
// admin's access token and the product's path.
func adminWithProduct(s *service, email string) (admin tokens, path string) {
	s.t.Helper()
	s.signup(email, "Admin")
	s.grant(email, "admin")
	admin = s.login(email)
	p := s.createProduct(admin.Access, "kettle", 3000, 5)
	return admin, fmt.Sprintf("/v1/products/%v", p["id"])
}

func TestProductReadsAreConditional(t *testing.T) {
	s := startService(t)
	admin, path := adminWithProduct(s, "cond-admin@example.test")

	r := s.do("GET", path, nil, "Origin", "https://app.shop.test")
	require.Equal(t, http.StatusOK, r.StatusCode)
	etag, modified := r.Header.Get("ETag"), r.Header.Get("Last-Modified")
	require.Equal(t, `"v1"`, etag)
	lastModified, err := http.ParseTime(modified)
	require.NoError(t, err, "Last-Modified is an HTTP-date")
	assert.Equal(t, publicReads, r.Header.Get("Cache-Control"), "an anonymous read is public")
	assert.Contains(t, r.Header.Values("Vary"), "Origin", "CORS's Vary survives the cache policy")

	tests := []struct {
		name    string
		headers []string
		want    int
	}{
		{"If-None-Match with the current ETag", []string{"If-None-Match", etag}, http.StatusNotModified},
		{"If-None-Match compares weakly", []string{"If-None-Match", "W/" + etag}, http.StatusNotModified},
		{"If-None-Match in a list", []string{"If-None-Match", `"v7", ` + etag}, http.StatusNotModified},
		{"If-None-Match *", []string{"If-None-Match", "*"}, http.StatusNotModified},
		{"If-None-Match with another ETag", []string{"If-None-Match", `"v7"`}, http.StatusOK},
		{"malformed If-None-Match", []string{"If-None-Match", "v1"}, http.StatusBadRequest},
		{"If-Match with another ETag", []string{"If-Match", `"v7"`}, http.StatusPreconditionFailed},
		{"If-Match with the current ETag", []string{"If-Match", etag}, http.StatusOK},
		{"If-Modified-Since at Last-Modified", []string{"If-Modified-Since", modified}, http.StatusNotModified},
		{"If-Modified-Since later", []string{"If-Modified-Since", lastModified.Add(time.Hour).Format(http.TimeFormat)}, http.StatusNotModified},
		{"If-Modified-Since earlier", []string{"If-Modified-Since", lastModified.Add(-time.Second).Format(http.TimeFormat)}, http.StatusOK},
		{"If-Modified-Since not a date is ignored", []string{"If-Modified-Since", "yesterday"}, http.StatusOK},
		{"If-None-Match decides over If-Modified-Since", []string{"If-None-Match", `"v7"`, "If-Modified-Since", modified}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do("GET", path, nil, append([]string{"Origin", "https://app.shop.test"}, tt.headers...)...)
			require.Equal(t, tt.want, r.StatusCode, "%s", r.body)
			switch tt.want {
			case http.StatusNotModified:
				assert.Empty(t, r.body)
				assert.Equal(t, etag, r.Header.Get("ETag"))
				assert.Empty(t, r.Header.Get("Last-Modified"), "with an ETag, a 304 leaves Last-Modified out (RFC 9110 §15.4.5)")
				assert.Equal(t, publicReads, r.Header.Get("Cache-Control"), "a 304 carries what the 200 would")
				assert.Contains(t, r.Header.Values("Vary"), "Origin")
				assert.Empty(t, r.Header.Get("Content-Type"), "a 304 describes no representation")
			case http.StatusBadRequest, http.StatusPreconditionFailed:
				assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
				assert.NotContains(t, r.Header.Get("Cache-Control"), "public", "a problem is never stored publicly")
			}
		})
	}

	t.Run("authenticated reads are private", func(t *testing.T) {
		r := s.do("GET", path, nil, bearer(admin.Access)...)
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.Equal(t, "private, no-store", r.Header.Get("Cache-Control"))
		r = s.do("GET", path, nil, append(bearer(admin.Access), "If-None-Match", etag)...)
		assert.Equal(t, http.StatusNotModified, r.StatusCode)
		assert.Equal(t, "private, no-store", r.Header.Get("Cache-Control"))
		r = s.do("GET", "/v1/products", nil, bearer(admin.Access)...)
		assert.Equal(t, "private, no-store", r.Header.Get("Cache-Control"))
		r = s.do("GET", "/v1/products", nil)
		assert.Equal(t, publicReads, r.Header.Get("Cache-Control"), "an anonymous listing is public")

		r = s.do("POST", "/v1/apikeys", map[string]any{"name": "catalogue", "scopes": []string{"products:write"}}, bearer(admin.Access)...)
		require.Equal(t, http.StatusCreated, r.StatusCode, "%s", r.body)
		key := r.json(t)["key"].(string)
		r = s.do("GET", path, nil, "X-API-Key", key)
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.Equal(t, "private, no-store", r.Header.Get("Cache-Control"), "an API key is a credential too")
	})

	t.Run("a missing product is not cached publicly", func(t *testing.T) {
		r := s.do("GET", "/v1/products/999999", nil)
		assert.Equal(t, http.StatusNotFound, r.StatusCode)
		assert.NotContains(t, r.Header.Get("Cache-Control"), "public")
		r = s.do("GET", "/v1/products/999999", nil, "If-None-Match", "*")
		assert.Equal(t, http.StatusNotFound, r.StatusCode, "no representation: 404 whatever the preconditions")
	})

	t.Run("writes keep If-Match", func(t *testing.T) {
		update := map[string]any{"name": "kettle", "description": "d", "price_cents": 3100, "stock": 5}
		writes := []struct {
			name    string
			ifMatch string
			want    int
		}{
			{"no If-Match", "", http.StatusPreconditionRequired},
			{"malformed If-Match", "v1", http.StatusBadRequest},
			{"weak If-Match never matches", "W/" + etag, http.StatusPreconditionFailed},
			{"another version", `"v9"`, http.StatusPreconditionFailed},
			{"the current version", etag, http.StatusOK},
			{"the version just replaced", etag, http.StatusPreconditionFailed},
			{"any version", "*", http.StatusOK},
		}
		for _, w := range writes {
			headers := bearer(admin.Access)
			if w.ifMatch != "" {
				headers = append(headers, "If-Match", w.ifMatch)
			}
			r := s.do("PUT", path, update, headers...)
			assert.Equal(t, w.want, r.StatusCode, "%s: %s", w.name, r.body)
			if w.want != http.StatusOK {
				assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), w.name)
			}
		}
		r := s.do("GET", path, nil, "If-None-Match", etag)
		assert.Equal(t, http.StatusOK, r.StatusCode, "the old ETag no longer matches")
		assert.Equal(t, `"v3"`, r.Header.Get("ETag"))
	})
}

func TestDeprecatedV0ProductReads(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	s := startServiceEnv(t, map[string]string{"V0_SUNSET": "2028-03-01", "V0_DEPRECATION_POLICY": "https://shop.example/docs/v0"},
		func(o *app.Options) { o.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)) })
	_, path := adminWithProduct(s, "v0-admin@example.test")
	s.createProduct(s.login("v0-admin@example.test").Access, "cup", 500, 1)
	id := strings.TrimPrefix(path, "/v1/products/")

	deprecation := "@" + strconv.FormatInt(config.V0Deprecated().Unix(), 10)
	sunset := time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)
	policy := `<https://shop.example/docs/v0>; rel="deprecation"`

	t.Run("an item", func(t *testing.T) {
		v1 := s.do("GET", path, nil)
		r := s.do("GET", "/v0/products/"+id, nil, "Origin", "https://app.shop.test")
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.JSONEq(t, string(v1.body), string(r.body), "v0 answers as v1")
		assert.Equal(t, deprecation, r.Header.Get("Deprecation"))
		assert.Equal(t, sunset, r.Header.Get("Sunset"))
		assert.ElementsMatch(t, []string{`</v1/products/` + id + `>; rel="successor-version"`, policy}, r.Header.Values("Link"))
		assert.Equal(t, `"v1"`, r.Header.Get("ETag"))
		assert.Equal(t, publicReads, r.Header.Get("Cache-Control"))
		exposed := r.Header.Get("Access-Control-Expose-Headers")
		for _, name := range []string{"Deprecation", "Sunset", "Link"} {
			assert.Contains(t, exposed, name, "a browser script may read %s", name)
		}

		r = s.do("GET", "/v0/products/"+id, nil, "If-None-Match", `"v1"`)
		assert.Equal(t, http.StatusNotModified, r.StatusCode, "v0 reads are conditional too")
		assert.Equal(t, deprecation, r.Header.Get("Deprecation"))

		assert.Equal(t, http.StatusNotFound, s.do("GET", "/v0/products/999999", nil).StatusCode)
	})

	t.Run("a listing keeps its page links", func(t *testing.T) {
		r := s.do("GET", "/v0/products?limit=1", nil)
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		assert.Equal(t, deprecation, r.Header.Get("Deprecation"))
		assert.Equal(t, sunset, r.Header.Get("Sunset"))
		links := r.Header.Values("Link")
		assert.Contains(t, links, `</v1/products>; rel="successor-version"`)
		assert.Contains(t, links, policy)
		var next bool
		for _, l := range links {
			next = next || strings.HasPrefix(l, "</v0/products?") && strings.Contains(l, `rel="next"`)
		}
		assert.True(t, next, "the next page stays on the alias: %q", links)
		assert.Equal(t, publicReads, r.Header.Get("Cache-Control"))
	})

	t.Run("v1 announces nothing", func(t *testing.T) {
		r := s.do("GET", path, nil)
		assert.Empty(t, r.Header.Get("Deprecation"))
		assert.Empty(t, r.Header.Get("Sunset"))
		assert.Empty(t, r.Header.Values("Link"))
	})

	t.Run("calls are counted", func(t *testing.T) {
		var rm metricdata.ResourceMetrics
		require.NoError(t, reader.Collect(context.Background(), &rm))
		var calls int64
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name != "bedrock.httpapi.deprecated_calls" {
					continue
				}
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					name, _ := dp.Attributes.Value("bedrock.httpapi.deprecation")
					assert.Equal(t, "v0", name.AsString())
					calls += dp.Value
				}
			}
		}
		assert.Equal(t, int64(4), calls, "every call to a v0 route, the 304 and the 404 included")
	})
}

func TestDeprecatedV0DefaultSunsetIsAYearAhead(t *testing.T) {
	s := startService(t)
	r := s.do("GET", "/v0/products", nil)
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Equal(t, config.V0Deprecated().AddDate(1, 0, 0).Format(http.TimeFormat), r.Header.Get("Sunset"))
	assert.Equal(t, []string{`</v1/products>; rel="successor-version"`}, r.Header.Values("Link"),
		"no deprecation policy link unless one is configured")
}

// TestOpenAPIDescribesProductReadHeaders keeps the document true to the
// headers above: the preconditions product reads take, what their answers
// carry, and the v0 aliases marked deprecated with their fields.
func TestOpenAPIDescribesProductReadHeaders(t *testing.T) {
	s := startService(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Deprecated bool `json:"deprecated"`
			Parameters []struct {
				Ref  string `json:"$ref"`
				Name string `json:"name"`
			} `json:"parameters"`
			Responses map[string]struct {
				Headers map[string]any `json:"headers"`
			} `json:"responses"`
		} `json:"paths"`
	}
	r := s.do("GET", "/openapi.json", nil)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.NoError(t, json.Unmarshal(r.body, &doc))
	params := func(path string) []string {
		var out []string
		for _, p := range doc.Paths[path]["get"].Parameters {
			out = append(out, p.Name+p.Ref)
		}
		return out
	}
	headers := func(path, status string) []string {
		var out []string
		for name := range doc.Paths[path]["get"].Responses[status].Headers {
			out = append(out, name)
		}
		return out
	}
	for _, path := range []string{"/v1/products/{id}", "/v0/products/{id}"} {
		assert.Subset(t, params(path), []string{"#/components/parameters/IfNoneMatch", "#/components/parameters/IfModifiedSince"}, path)
		for _, status := range []string{"200", "304"} {
			assert.Subset(t, headers(path, status), []string{"ETag", "Last-Modified", "Cache-Control", "Vary"}, path+" "+status)
		}
	}
	for _, path := range []string{"/v0/products", "/v0/products/{id}"} {
		assert.True(t, doc.Paths[path]["get"].Deprecated, path)
		assert.Subset(t, headers(path, "200"), []string{"Deprecation", "Sunset", "Link", "Cache-Control"}, path)
	}
	assert.False(t, doc.Paths["/v1/products/{id}"]["get"].Deprecated)
}
