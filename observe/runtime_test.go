package observe_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/observe"
)

// TestRuntimeMetrics_ReportTheRuntime: the Go runtime's goroutines,
// memory and GC appear as OpenTelemetry metrics at collection, and stop
// after Unregister (issue 23, item 10).
func TestRuntimeMetrics_ReportTheRuntime(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	reg, err := observe.RuntimeMetrics(mp)
	require.NoError(t, err)

	values := func() map[string]int64 {
		var rm metricdata.ResourceMetrics
		require.NoError(t, reader.Collect(t.Context(), &rm))
		got := map[string]int64{}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				switch d := m.Data.(type) {
				case metricdata.Gauge[int64]:
					got[m.Name] = d.DataPoints[0].Value
				case metricdata.Sum[int64]:
					got[m.Name] = d.DataPoints[0].Value
				}
			}
		}
		return got
	}
	got := values()
	for _, name := range []string{"go.goroutine.count", "go.memory.used", "go.memory.allocated",
		"go.memory.allocations", "go.memory.gc.goal", "go.processor.limit", "go.config.gogc", "go.gc.cycles"} {
		assert.Contains(t, got, name)
	}
	assert.Positive(t, got["go.goroutine.count"])
	assert.Positive(t, got["go.memory.used"])
	assert.Positive(t, got["go.processor.limit"])

	require.NoError(t, reg.Unregister())
	assert.Empty(t, values(), "nothing is reported after Unregister")

	_, err = observe.RuntimeMetrics(nil)
	assert.ErrorIs(t, err, observe.ErrInvalidConfig)
}

// TestProfilingHandler_ServesProfilesOnlyWhereMounted: the handler serves
// the index, named profiles and a CPU profile; bad seconds are a 400; and
// nothing is registered on http.DefaultServeMux, which a service might use
// as its public mux (issue 23, item 10).
func TestProfilingHandler_ServesProfilesOnlyWhereMounted(t *testing.T) {
	h := observe.ProfilingHandler()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel() // a timed profile ends when its client goes away
	cases := []struct {
		name, target string
		ctx          context.Context
		status       int
		contains     string
	}{
		{"index", "/debug/pprof/", context.Background(), 200, "goroutine"},
		{"goroutine text", "/debug/pprof/goroutine?debug=1", context.Background(), 200, "goroutine profile:"},
		{"heap binary", "/debug/pprof/heap", context.Background(), 200, ""},
		{"cmdline", "/debug/pprof/cmdline", context.Background(), 200, ""},
		{"cpu", "/debug/pprof/profile?seconds=1", cancelled, 200, ""},
		{"trace", "/debug/pprof/trace?seconds=1", cancelled, 200, ""},
		{"unknown profile", "/debug/pprof/nope", context.Background(), 404, ""},
		{"bad seconds", "/debug/pprof/profile?seconds=-1", context.Background(), 400, "seconds"},
		{"too many seconds", "/debug/pprof/profile?seconds=100000", context.Background(), 400, "seconds"},
		{"outside its prefix", "/metrics", context.Background(), 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequestWithContext(tc.ctx, http.MethodGet, tc.target, nil))
			assert.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.contains != "" {
				assert.Contains(t, rec.Body.String(), tc.contains)
			}
			if tc.status == 200 && !strings.Contains(tc.target, "debug=") && tc.name != "index" && tc.name != "cmdline" {
				assert.NotZero(t, rec.Body.Len(), "a profile")
			}
		})
	}
	_, pattern := http.DefaultServeMux.Handler(httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil))
	assert.Empty(t, pattern, "nothing on the default mux")
}

// A service serves profiles on an admin listener of its own, on loopback,
// never on its public mux.
func ExampleProfilingHandler() {
	admin := &http.Server{Addr: "127.0.0.1:6060", Handler: observe.ProfilingHandler()}
	_ = admin // go admin.ListenAndServe(), and Shutdown it with the public server

	rec := httptest.NewRecorder()
	admin.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/goroutine?debug=1", nil))
	fmt.Println(rec.Code, strings.HasPrefix(rec.Body.String(), "goroutine profile:"))
	// Output: 200 true
}

// Setup reports the runtime's metrics by itself; a meter provider of your
// own gets them from RuntimeMetrics.
func ExampleRuntimeMetrics() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	reg, err := observe.RuntimeMetrics(mp)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Unregister()
	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "go.goroutine.count" {
			fmt.Println(m.Name, m.Data.(metricdata.Sum[int64]).DataPoints[0].Value > 0)
		}
	}
	// Output: go.goroutine.count true
}
