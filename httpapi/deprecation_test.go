package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpapi"
)

// RFC 9745's example date (§2.1) and RFC 8594's (§3).
var (
	deprecatedAt = time.Unix(1688169599, 0)
	sunsetAt     = time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)
)

type clock struct{ now atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.now.Store(&t) }
func (c *clock) Now() time.Time   { return *c.now.Load() }

func TestDeprecation_SetsTheFields(t *testing.T) {
	d, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{
		Name:         "v0",
		Deprecated:   deprecatedAt.Add(900 * time.Millisecond), // truncated to the second
		Sunset:       sunsetAt,
		Policy:       "https://developer.example.com/deprecation",
		SunsetPolicy: "https://developer.example.com/sunset",
		Successor:    "/v1/products",
	})
	require.NoError(t, err)
	h := d.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	w := httptest.NewRecorder()
	w.Header().Add("Link", `</products?page=2>; rel="next"`)
	h.ServeHTTP(w, httptest.NewRequest("GET", "/v0/products", nil))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "@1688169599", w.Header().Get("Deprecation"))
	assert.Equal(t, "Thu, 31 Dec 2026 23:59:59 GMT", w.Header().Get("Sunset"))
	assert.Equal(t, []string{
		`</products?page=2>; rel="next"`,
		`<https://developer.example.com/deprecation>; rel="deprecation"`,
		`<https://developer.example.com/sunset>; rel="sunset"`,
		`</v1/products>; rel="successor-version"`,
	}, w.Header().Values("Link"), "links are added, never replace others")
}

func TestDeprecation_MinimalConfigSendsDeprecationOnly(t *testing.T) {
	d, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{Name: "v0", Deprecated: deprecatedAt})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	d.Handler(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, "@1688169599", w.Header().Get("Deprecation"))
	assert.Empty(t, w.Header().Values("Sunset"))
	assert.Empty(t, w.Header().Values("Link"))
}

func TestDeprecation_GoneFromTheSunsetInstant(t *testing.T) {
	clk := newClock(sunsetAt.Add(-time.Second))
	var calls, gone atomic.Int64
	d, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{
		Name: "v0", Deprecated: deprecatedAt, Sunset: sunsetAt, GoneAfterSunset: true,
		Successor: "/v1/products", Now: clk.Now,
		Hooks: httpapi.Hooks{OnDeprecatedCall: func(r *http.Request, c httpapi.DeprecatedCall) {
			assert.Equal(t, "v0", c.Name)
			calls.Add(1)
			if c.Gone {
				gone.Add(1)
			}
		}},
	})
	require.NoError(t, err)
	served := 0
	h := d.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served++ }))
	serve := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/v0/products", nil))
		return w
	}

	w := serve()
	assert.Equal(t, http.StatusOK, w.Code, "a second before the sunset")
	assert.NoError(t, d.Check(nil))

	clk.set(sunsetAt)
	w = serve()
	assert.Equal(t, http.StatusGone, w.Code, "at the sunset instant")
	assert.ErrorIs(t, d.Check(nil), httpapi.ErrGone)
	assert.Equal(t, httpapi.ProblemContentType, w.Header().Get("Content-Type"))
	m := decode(t, w)
	assert.Equal(t, "Gone", m["title"])
	assert.Equal(t, "/v1/products", m["successor"])
	assert.Equal(t, "2026-12-31T23:59:59Z", m["sunset"])
	assert.Equal(t, `</v1/products>; rel="successor-version"`, w.Header().Get("Link"), "the 410 still points to the successor")
	assert.Equal(t, "@1688169599", w.Header().Get("Deprecation"))

	assert.Equal(t, 1, served)
	assert.Equal(t, int64(2), calls.Load())
	assert.Equal(t, int64(1), gone.Load())
}

func TestDeprecation_InnerReplacesDeprecationAndSunset(t *testing.T) {
	outer, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{Name: "v0", Deprecated: deprecatedAt, Sunset: sunsetAt})
	require.NoError(t, err)
	inner, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{Name: "v0-search", Deprecated: deprecatedAt.Add(-time.Hour), Sunset: sunsetAt.Add(-time.Hour)})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	outer.Handler(inner.Handler(http.NotFoundHandler())).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, []string{"@1688165999"}, w.Header().Values("Deprecation"), "one value, the route's own")
	assert.Equal(t, []string{"Thu, 31 Dec 2026 22:59:59 GMT"}, w.Header().Values("Sunset"))
}

func TestDeprecation_ServingDoesNotAllocate(t *testing.T) {
	d, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{Name: "v0", Deprecated: deprecatedAt, Sunset: sunsetAt,
		Successor: "/v1", Now: func() time.Time { return deprecatedAt }})
	require.NoError(t, err)
	h := d.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	w := &nopWriter{h: http.Header{}}
	r := httptest.NewRequest("GET", "/", nil)
	assert.Zero(t, testing.AllocsPerRun(100, func() { clear(w.h); h.ServeHTTP(w, r) }))
}

func TestNewDeprecation_RefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]httpapi.DeprecationConfig{
		"no name":                   {Deprecated: deprecatedAt},
		"no date":                   {Name: "v0"},
		"sunset before deprecation": {Name: "v0", Deprecated: sunsetAt, Sunset: deprecatedAt},
		"gone without sunset":       {Name: "v0", Deprecated: deprecatedAt, GoneAfterSunset: true},
		"link with a space":         {Name: "v0", Deprecated: deprecatedAt, Policy: "https://x.example/a b"},
		"link with an angle":        {Name: "v0", Deprecated: deprecatedAt, Successor: "/v1>; rel=x"},
		"link not a URL":            {Name: "v0", Deprecated: deprecatedAt, SunsetPolicy: "http://[::1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := httpapi.NewDeprecation(cfg)
			assert.ErrorIs(t, err, httpapi.ErrInvalidConfig)
		})
	}
}
