package httpapiobserve_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/httpapiobserve"
)

func TestHooks_CountDeprecatedCallsBeforeAndAfterTheSunset(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "httpapiobserve")
	hooks, err := httpapiobserve.Hooks(m.MP)
	require.NoError(t, err)
	sunset := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	now := sunset.Add(-time.Hour)
	newDep := func(name string) *httpapi.Deprecation {
		d, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{Name: name, Deprecated: sunset.AddDate(-1, 0, 0),
			Sunset: sunset, GoneAfterSunset: true, Now: func() time.Time { return now }, Hooks: hooks})
		require.NoError(t, err)
		return d
	}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	products, orders := newDep("v0-products").Handler(ok), newDep("v0-orders").Handler(ok)
	call := func(h http.Handler) { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v0/x", nil)) }

	call(products)
	call(products)
	call(orders)
	now = sunset // single goroutine: the handlers read it after this write
	call(products)

	assert.Equal(t, map[string]int64{
		"bedrock.httpapi.deprecation=v0-products,bedrock.httpapi.gone=false": 2,
		"bedrock.httpapi.deprecation=v0-orders,bedrock.httpapi.gone=false":   1,
		"bedrock.httpapi.deprecation=v0-products,bedrock.httpapi.gone=true":  1,
	}, m.Counter(t, "bedrock.httpapi.deprecated_calls", "{request}"))
}

func TestHooks_BoundTheNumberOfNames(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "httpapiobserve")
	hooks, err := httpapiobserve.Hooks(m.MP)
	require.NoError(t, err)
	r := httptest.NewRequest("GET", "/", nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range otelhook.MaxDynamicSets {
				hooks.OnDeprecatedCall(r, httpapi.DeprecatedCall{Name: "d" + strconv.Itoa(g*otelhook.MaxDynamicSets+i)})
			}
		})
	}
	wg.Wait()
	got := m.Counter(t, "bedrock.httpapi.deprecated_calls", "{request}")
	assert.LessOrEqual(t, len(got), otelhook.MaxDynamicSets+2)
	var total int64
	for _, n := range got {
		total += n
	}
	assert.Equal(t, int64(4*otelhook.MaxDynamicSets), total, "every call is counted")
	assert.Positive(t, got["bedrock.httpapi.deprecation=_OTHER,bedrock.httpapi.gone=false"])
}

// BenchmarkHooks_DeprecatedCall is the hook of every call to a deprecated
// route.
func BenchmarkHooks_DeprecatedCall(b *testing.B) {
	hooks, err := httpapiobserve.Hooks(otelhooktest.NewRecorder(b, "httpapiobserve").MP)
	require.NoError(b, err)
	r := httptest.NewRequest(http.MethodGet, "/v0/products", nil)
	call := httpapi.DeprecatedCall{Name: "v0"}
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnDeprecatedCall(r, call)
	}
}
