package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpapi"
)

func TestCachePolicy_Apply(t *testing.T) {
	p, err := httpapi.NewCachePolicy(httpapi.CachePolicyConfig{
		MaxAge: time.Minute, StaleWhileRevalidate: 30 * time.Second, StaleIfError: 24 * time.Hour,
		Vary: []string{"accept-language"},
	})
	require.NoError(t, err)
	zero, err := httpapi.NewCachePolicy(httpapi.CachePolicyConfig{})
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		p        *httpapi.CachePolicy
		hdr      []string // request fields
		vary     []string // Vary already on the answer
		wantCC   string
		wantVary []string
	}{
		{"public", p, nil, nil, "public, max-age=60, stale-while-revalidate=30, stale-if-error=86400", []string{"Accept-Language"}},
		{"public merges Vary", p, nil, []string{"Accept-Encoding, Origin"}, "public, max-age=60, stale-while-revalidate=30, stale-if-error=86400",
			[]string{"Accept-Encoding, Origin, Accept-Language"}},
		{"public does not repeat a Vary name in another case", p, nil, []string{"ACCEPT-LANGUAGE"}, "public, max-age=60, stale-while-revalidate=30, stale-if-error=86400",
			[]string{"ACCEPT-LANGUAGE"}},
		{"Vary * stays", p, nil, []string{"*"}, "public, max-age=60, stale-while-revalidate=30, stale-if-error=86400", []string{"*"}},
		{"authorization makes it private", p, []string{"Authorization", "Bearer x"}, []string{"Origin"}, "private, no-store", []string{"Origin"}},
		{"a cookie makes it private", p, []string{"Cookie", "session=1"}, nil, "private, no-store", nil},
		{"zero config", zero, nil, nil, "public, max-age=0", nil},
		{"zero config, authenticated", zero, []string{"Authorization", "Basic x"}, nil, "private, no-store", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/products", nil)
			for i := 0; i+1 < len(tc.hdr); i += 2 {
				r.Header.Set(tc.hdr[i], tc.hdr[i+1])
			}
			h := http.Header{}
			for _, v := range tc.vary {
				h.Add("Vary", v)
			}
			h.Set("Cache-Control", "no-cache")
			tc.p.Apply(h, r)
			assert.Equal(t, tc.wantCC, h.Get("Cache-Control"))
			assert.Equal(t, tc.wantVary, h.Values("Vary"))
		})
	}
}

func TestCachePolicy_CustomAuthenticatedAndPrivate(t *testing.T) {
	p, err := httpapi.NewCachePolicy(httpapi.CachePolicyConfig{
		MaxAge:        time.Hour,
		Private:       "private, max-age=60",
		Authenticated: func(r *http.Request) bool { return r.URL.Query().Get("me") != "" },
	})
	require.NoError(t, err)
	h := http.Header{}
	p.Apply(h, httptest.NewRequest("GET", "/p?me=1", nil))
	assert.Equal(t, "private, max-age=60", h.Get("Cache-Control"))
	h = http.Header{}
	r := httptest.NewRequest("GET", "/p", nil)
	r.Header.Set("Cookie", "analytics=1")
	p.Apply(h, r)
	assert.Equal(t, "public, max-age=3600", h.Get("Cache-Control"), "the service decides what is authenticated")
}

func TestCachePolicy_ApplyDoesNotAllocate(t *testing.T) {
	p, err := httpapi.NewCachePolicy(httpapi.CachePolicyConfig{MaxAge: time.Minute, Vary: []string{"Accept"}})
	require.NoError(t, err)
	r := httptest.NewRequest("GET", "/", nil)
	h := http.Header{}
	assert.Zero(t, testing.AllocsPerRun(100, func() { clear(h); p.Apply(h, r) }))
}

func TestAddVary(t *testing.T) {
	for _, tc := range []struct {
		name string
		have []string
		add  []string
		want []string
	}{
		{"into nothing", nil, []string{"origin"}, []string{"Origin"}},
		{"merged with two lines", []string{"Accept", "Origin"}, []string{"Accept-Encoding"}, []string{"Accept, Origin, Accept-Encoding"}},
		{"nothing new leaves the field as it was", []string{"Accept", "origin"}, []string{"Origin"}, []string{"Accept", "origin"}},
		{"star absorbs", []string{"Accept"}, []string{"*"}, []string{"*"}},
		{"star stays", []string{"*"}, []string{"Origin"}, []string{"*"}},
		{"empty names ignored", []string{"Accept"}, []string{"", " "}, []string{"Accept"}},
		{"nothing at all", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.have {
				h.Add("Vary", v)
			}
			httpapi.AddVary(h, tc.add...)
			assert.Equal(t, tc.want, h.Values("Vary"))
		})
	}
}

func TestNewCachePolicy_RefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]httpapi.CachePolicyConfig{
		"negative max-age":           {MaxAge: -time.Second},
		"fractional max-age":         {MaxAge: 1500 * time.Millisecond},
		"negative stale-if-error":    {StaleIfError: -time.Second},
		"private that is public":     {Private: "public, max-age=60"},
		"private that may be shared": {Private: "max-age=60"},
		"bad vary name":              {Vary: []string{"Accept Language"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := httpapi.NewCachePolicy(cfg)
			assert.ErrorIs(t, err, httpapi.ErrInvalidConfig)
		})
	}
}
