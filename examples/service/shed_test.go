package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/observe"

	"github.com/bedrock-go/bedrock/examples/service/internal/app"
)

// answer is what a request sent from another goroutine got back.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// send sends a request and returns its answer; safe off the test's
// goroutine. headers are name, value pairs.
func (s *service) send(method, path, body string, headers ...string) answer {
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: data, err: err}
}

// limiterState returns the API limiter's gauges (limit, in_flight, queued)
// and its refusals per priority, as the service exports them.
func limiterState(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	state := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			name, ok := strings.CutPrefix(m.Name, "bedrock.resilience.limiter.")
			if !ok {
				continue
			}
			var points []metricdata.DataPoint[int64]
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				points = d.DataPoints
			case metricdata.Gauge[int64]:
				points = d.DataPoints
			}
			for _, dp := range points {
				if api, _ := dp.Attributes.Value("bedrock.resilience.name"); api.AsString() != "api" {
					continue
				}
				key := name
				if p, ok := dp.Attributes.Value("bedrock.resilience.priority"); ok {
					key += "/" + p.AsString()
				}
				state[key] += dp.Value
			}
		}
	}
	return state
}

// TestLoadShedding drives the service past a capacity pinned at two
// requests, with room for one more to wait (critical ones may wait up to
// twice the limit), and holds the admitted requests in Options.OnAdmitted.
// Lists are refused first, with 503, Retry-After and a problem document,
// logged and counted; a single-resource read then waits its turn, while
// health checks and login wait and are served as soon as a slot frees, before
// anything else.
func TestLoadShedding(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	admitted := make(chan struct{})
	release := make(chan struct{})
	s := startServiceEnv(t, map[string]string{"SHED_ENABLED": "true", "SHED_INITIAL_LIMIT": "2", "SHED_MAX_LIMIT": "2",
		"SHED_MAX_QUEUE": "1", "SHED_MAX_WAIT": "-1s", "SHED_RETRY_AFTER": "3s"}, func(o *app.Options) {
		o.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		o.OnAdmitted = func(r *http.Request) {
			if r.Header.Get("Hold") != "" {
				admitted <- struct{}{}
				<-release
			}
		}
	})
	s.signup("shed@shop.test", "Shed")
	login := `{"email":"shed@shop.test","password":"correct horse battery"}`

	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[string]answer{}
	background := func(name, method, path, body string, headers ...string) {
		wg.Go(func() {
			a := s.send(method, path, body, headers...)
			mu.Lock()
			answers[name] = a
			mu.Unlock()
		})
	}
	released := false
	defer func() {
		if !released {
			close(release)
		}
		wg.Wait()
	}()

	// Both slots held by single-resource reads (normal priority).
	for _, name := range []string{"held1", "held2"} {
		background(name, "GET", "/openapi.json", "", "Hold", "1")
		<-admitted
	}
	// A list and a read arrive in either order: the list waits in the one
	// place of the queue until the read takes it, or finds the read there.
	// Either way the list is refused and the read waits.
	background("read", "GET", "/openapi.json", "")
	list := s.send("GET", "/v1/products", "")
	require.NoError(t, list.err)
	assert.Equal(t, http.StatusServiceUnavailable, list.status, "%s", list.body)

	// Critical requests queue behind the full slots instead of being refused.
	background("readyz", "GET", "/readyz", "")
	background("livez", "GET", "/livez", "")
	background("login", "POST", "/v1/auth/login", login, "Content-Type", "application/json")
	require.Eventually(t, func() bool { return limiterState(t, reader)["queued"] == 4 }, 10*time.Second, time.Millisecond,
		"the read and three critical requests wait")

	// Now every list is refused at once, from a browser too, and so is a
	// read, since the queue is full of its equals and betters.
	t.Run("a refusal", func(t *testing.T) {
		r := s.send("GET", "/v0/products", "", "Origin", "https://app.shop.test")
		require.NoError(t, r.err)
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.Equal(t, "3", r.header.Get("Retry-After"))
		assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
		var doc map[string]any
		require.NoError(t, json.Unmarshal(r.body, &doc), "%s", r.body)
		assert.Equal(t, float64(http.StatusServiceUnavailable), doc["status"])
		assert.NotEmpty(t, doc["detail"])
		assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"), "the security headers are outside the shedder")
		assert.Equal(t, "https://app.shop.test", r.header.Get("Access-Control-Allow-Origin"), "a browser may read the refusal")
		assert.NotEmpty(t, r.header.Get(observe.RequestIDHeader), "observe's middleware is outside the shedder")
	})
	orders := s.send("GET", "/v1/orders", "")
	assert.Equal(t, http.StatusServiceUnavailable, orders.status, "refused before authentication: %s", orders.body)
	read := s.send("GET", "/openapi.json", "")
	assert.Equal(t, http.StatusServiceUnavailable, read.status, "the queue is full of equals and betters")

	released = true
	close(release)
	wg.Wait()
	status := map[string]int{}
	for name, a := range answers {
		require.NoError(t, a.err, name)
		status[name] = a.status
	}
	assert.Equal(t, map[string]int{"held1": 200, "held2": 200, "read": 200, "readyz": 200, "livez": 204, "login": 200}, status)

	state := limiterState(t, reader)
	assert.Equal(t, int64(2), state["limit"])
	assert.Equal(t, int64(0), state["in_flight"]+state["queued"])
	assert.Equal(t, int64(3), state["rejections/sheddable"], "the lists")
	assert.Equal(t, int64(1), state["rejections/normal"], "the read past a full queue")
	assert.Zero(t, state["rejections/critical"])
	assert.Contains(t, s.logs.String(), "status=503", "refusals are logged")
}
