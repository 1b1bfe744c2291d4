package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/examples/service/internal/app"
	"github.com/bedrock-go/bedrock/examples/service/internal/servicetest"
)

// cacheMeter reads one instance's cache metrics.
type cacheMeter struct {
	t      *testing.T
	reader *sdkmetric.ManualReader
}

func (m cacheMeter) options(o *app.Options) {
	o.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(m.reader))
}

// loads returns how many times the loader of the cache called name ran.
func (m cacheMeter) loads(name string) int64 {
	m.t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(m.t, m.reader.Collect(context.Background(), &rm))
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, metric := range sm.Metrics {
			if metric.Name != "bedrock.cache.load.duration" {
				continue
			}
			for _, dp := range metric.Data.(metricdata.Histogram[float64]).DataPoints {
				if v, ok := dp.Attributes.Value("bedrock.cache.name"); ok && v.AsString() == name {
					n += int64(dp.Count)
				}
			}
		}
	}
	return n
}

// propagationBound is how long after an update returns another instance
// may still serve the old product, as the service README documents: the
// time Redis takes to deliver the tag invalidation to the other instance's
// subscription. Measured here on every run (the figures are logged).
const propagationBound = 2 * time.Second

// TestProductCachesAcrossInstances runs two instances of the service on one
// database and one Redis. Both cache products and list pages locally; an
// update through one never leaves the other serving the old product (its
// page or a list page showing it) once the propagation bound has passed,
// and it drops exactly the entries it made stale: another category's list
// keeps its cached pages.
func TestProductCachesAcrossInstances(t *testing.T) {
	pool, _ := servicetest.Database(t)
	rdb, prefix := servicetest.Redis(t)
	a := startInstance(t, pool, rdb, prefix, nil, nil)
	meter := cacheMeter{t: t, reader: sdkmetric.NewManualReader()}
	b := startInstance(t, pool, rdb, prefix, nil, meter.options)

	a.signup("replicas@example.test", "Admin")
	a.grant("replicas@example.test", "admin")
	admin := a.login("replicas@example.test").Access
	kettle := a.createInCategory(admin, "kettle", 3000, 1)
	a.createInCategory(admin, "teapot", 2000, 1)
	a.createInCategory(admin, "toaster", 4000, 2)
	kettlePath := fmt.Sprintf("/v1/products/%d", kettle)

	// version reads the kettle's version on b: from its page, and from the
	// page of category 1 that lists it.
	version := func() (page, listed int64) {
		r := b.do("GET", kettlePath, nil)
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		page = int64(r.json(t)["version"].(float64))
		l, r := b.listPage("/v1/products?category=1&sort=name")
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		for _, it := range l.Items {
			if it.ID == kettle {
				listed = it.Version
			}
		}
		return page, listed
	}
	warm := func() {
		version()
		b.listPage("/v1/products?category=2")
		b.listPage("/v1/products")
	}
	// settle reads on b until a whole pass comes from its caches. The
	// invalidations of a's writes reach b asynchronously: a page b loaded
	// before it heard one is loaded once more when it does.
	settle := func() {
		t.Helper()
		deadline := time.Now().Add(propagationBound)
		for {
			products, lists := meter.loads("products"), meter.loads("product_lists")
			warm()
			if products == meter.loads("products") && lists == meter.loads("product_lists") {
				return
			}
			require.True(t, time.Now().Before(deadline), "b still loads on every pass %v after a's writes", propagationBound)
		}
	}
	settle()

	t.Run("an edit that keeps the product's place drops its page and the pages showing it, nothing else", func(t *testing.T) {
		settle()
		products, lists := meter.loads("products"), meter.loads("product_lists")
		r := a.do("PUT", kettlePath, map[string]any{"name": "kettle", "description": "steel", "price_cents": 3000, "stock": 5, "category_id": 1},
			append(bearer(admin), "If-Match", `"v1"`)...)
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		waitFresh(t, version, 2)
		assert.Equal(t, products+1, meter.loads("products"), "the product's page was loaded again")
		assert.Equal(t, lists+1, meter.loads("product_lists"), "category 1's page was loaded again")
		b.listPage("/v1/products?category=2")
		assert.Equal(t, lists+1, meter.loads("product_lists"), "category 2's page, which does not show the kettle, stayed cached")
		b.listPage("/v1/products")
		assert.Equal(t, lists+2, meter.loads("product_lists"), "the unfiltered page shows the kettle: loaded again")
	})

	t.Run("a new price drops the lists it may move in", func(t *testing.T) {
		settle()
		lists := meter.loads("product_lists")
		r := a.do("PUT", kettlePath, map[string]any{"name": "kettle", "description": "steel", "price_cents": 100, "stock": 5, "category_id": 1},
			append(bearer(admin), "If-Match", `"v2"`)...)
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		waitFresh(t, version, 3)
		b.listPage("/v1/products?category=2")
		assert.Equal(t, lists+1, meter.loads("product_lists"), "only category 1's page reloaded, category 2's stayed")
	})

	t.Run("a new product appears in its lists on the other instance", func(t *testing.T) {
		warm()
		a.createInCategory(admin, "cup", 500, 2)
		deadline := time.Now().Add(propagationBound)
		for {
			l, _ := b.listPage("/v1/products?category=2&sort=name")
			if slices.Equal(l.names(), []string{"cup", "toaster"}) {
				break
			}
			require.True(t, time.Now().Before(deadline), "b still lists %q %v after the creation returned", l.names(), propagationBound)
		}
	})

	// The bound, measured: after each update through a returns, how long
	// until b serves the new version (0 when its first read did).
	const rounds = 40
	var delays []time.Duration
	stale := 0
	v := int64(3)
	for range rounds {
		warm()
		r := a.do("PUT", kettlePath, map[string]any{"name": "kettle", "description": fmt.Sprintf("v%d", v+1), "price_cents": 100, "stock": 5, "category_id": 1},
			append(bearer(admin), "If-Match", fmt.Sprintf(`"v%d"`, v))...)
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		v++
		d, first := waitFresh(t, version, v)
		if !first {
			stale++
		}
		delays = append(delays, d)
	}
	slices.Sort(delays)
	t.Logf("after an update on one instance returns, the other served the new version at once in %d of %d reads; delay p50 %v, p99 %v, max %v (bound %v)",
		rounds-stale, rounds, delays[rounds/2], delays[rounds*99/100], delays[rounds-1], propagationBound)
}

// waitFresh reads the kettle on the other instance until both its page and
// its list show version want, and fails if that takes longer than
// propagationBound. It returns how long it took and whether the first read
// was already fresh. A read never goes back to an older version once it
// showed want.
func waitFresh(t *testing.T, version func() (page, listed int64), want int64) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	var seen [2]bool
	for i := 0; ; i++ {
		page, listed := version()
		for j, got := range []int64{page, listed} {
			require.LessOrEqual(t, got, want)
			if seen[j] {
				require.Equal(t, want, got, "went back to version %d after serving %d", got, want)
			}
			seen[j] = seen[j] || got == want
		}
		if seen[0] && seen[1] {
			return time.Since(start), i == 0
		}
		require.Less(t, time.Since(start), propagationBound, "the other instance still serves version %d/%d of the product %v after the update returned", page, listed, propagationBound)
	}
}

// TestProductListLargestPageIsCached reads a page of the largest size: it
// carries a tag per row read (101) and one for its list, and is cached like
// any other.
func TestProductListLargestPageIsCached(t *testing.T) {
	meter := cacheMeter{t: t, reader: sdkmetric.NewManualReader()}
	s := startServiceWith(t, meter.options)
	_, err := s.pool.Exec(t.Context(), `INSERT INTO products (name, price_cents, stock, category_id)
		SELECT 'p' || g, g, 1, 3 FROM generate_series(1, 120) g`)
	require.NoError(t, err)
	for i := range 2 {
		l, r := s.listPage("/v1/products?category=3&limit=100")
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		require.Len(t, l.Items, 100)
		assert.Equal(t, int64(1), meter.loads("product_lists"), "read %d: one load, then the cache", i+1)
	}
}
