package resilience_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/resilience"
)

func TestFaultInjector_RejectsInvalidFault(t *testing.T) {
	fi := resilience.NewFaultInjector(nil)
	for name, f := range map[string]resilience.Fault{
		"probability above one": {Probability: 1.1},
		"negative probability":  {Probability: -0.1},
		"negative latency":      {Latency: -1},
		"empty window":          {From: time.Unix(10, 0), Until: time.Unix(10, 0)},
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, fi.Set(f), resilience.ErrInvalidConfig)
			assert.False(t, fi.Enabled(), "a rejected fault leaves the injector as it was")
		})
	}
}

func TestFaultInjector_Selection(t *testing.T) {
	const n = 10_000
	cases := []struct {
		name   string
		fault  resilience.Fault
		lo, hi int
	}{
		{"every call by default", resilience.Fault{}, n, n},
		{"every fourth", resilience.Fault{Every: 4}, n / 4, n / 4},
		// Binomial(10000, 0.1): sd 30; 6 sd either side.
		{"ten percent", resilience.Fault{Probability: 0.1}, 1000 - 180, 1000 + 180},
		{"never", resilience.Fault{Probability: 0, Every: n + 1}, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fi := resilience.NewFaultInjector(nil)
			require.NoError(t, fi.Set(tc.fault))
			hits := 0
			for range n {
				if _, ok := fi.Hit(); ok {
					hits++
				}
			}
			assert.GreaterOrEqual(t, hits, tc.lo)
			assert.LessOrEqual(t, hits, tc.hi)
		})
	}
}

func TestFaultInjector_ScheduleAndRuntimeSwitch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fi := resilience.NewFaultInjector(nil)
		call := func() error { return fi.Do(t.Context(), succeed) }
		require.NoError(t, call(), "disabled at first")
		now := time.Now()
		require.NoError(t, fi.Set(resilience.Fault{From: now.Add(time.Minute), Until: now.Add(2 * time.Minute)}))
		assert.NoError(t, call(), "before the window")
		time.Sleep(time.Minute)
		assert.ErrorIs(t, call(), resilience.ErrInjected, "inside the window")
		time.Sleep(time.Minute)
		assert.NoError(t, call(), "after the window")
		require.NoError(t, fi.Set(resilience.Fault{Err: errBoom}))
		assert.ErrorIs(t, call(), errBoom)
		fi.Disable()
		assert.NoError(t, call())
	})
}

func TestFaultInjector_LatencyThenCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fi := resilience.NewFaultInjector(nil)
		require.NoError(t, fi.Set(resilience.Fault{Latency: 3 * time.Second}))
		start := time.Now()
		called := false
		require.NoError(t, fi.Do(t.Context(), func(context.Context) error { called = true; return nil }))
		assert.True(t, called)
		assert.Equal(t, 3*time.Second, time.Since(start))

		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		assert.ErrorIs(t, fi.Do(ctx, succeed), context.DeadlineExceeded, "injected latency honours the context")
	})
}

func TestFaultResult_InjectsValueInPipeline(t *testing.T) {
	fi := resilience.NewFaultInjector(nil)
	p, err := resilience.NewPipeline[string](resilience.InjectResult(fi, "stale"))
	require.NoError(t, err)
	real := func(context.Context) (string, error) { return "fresh", nil }
	v, err := p.Execute(t.Context(), real)
	require.NoError(t, err)
	assert.Equal(t, "fresh", v)

	require.NoError(t, fi.Set(resilience.Fault{Respond: true}))
	v, err = p.Execute(t.Context(), real)
	require.NoError(t, err)
	assert.Equal(t, "stale", v)

	require.NoError(t, fi.Set(resilience.Fault{}))
	_, err = p.Execute(t.Context(), real)
	assert.ErrorIs(t, err, resilience.ErrInjected)

	plain, err := resilience.NewPipeline[string](fi)
	require.NoError(t, err)
	require.NoError(t, fi.Set(resilience.Fault{Respond: true}))
	_, err = plain.Execute(t.Context(), real)
	assert.ErrorIs(t, err, resilience.ErrInjected, "a plain injector has no value to respond with")
}

func TestFaultTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("real")) }))
	defer srv.Close()
	fi := resilience.NewFaultInjector(nil)
	client := &http.Client{Transport: &resilience.FaultTransport{
		Injector: fi, StatusCode: http.StatusTooManyRequests,
		Header: http.Header{"Retry-After": {"3"}}, Body: "slow down",
	}}
	get := func() (int, string, error) {
		resp, err := client.Get(srv.URL)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body := make([]byte, 64)
		n, _ := resp.Body.Read(body)
		return resp.StatusCode, string(body[:n]) + resp.Header.Get("Retry-After"), nil
	}
	code, body, err := get()
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Equal(t, "real", body)

	require.NoError(t, fi.Set(resilience.Fault{Respond: true}))
	code, body, err = get()
	require.NoError(t, err)
	assert.Equal(t, 429, code)
	assert.Equal(t, "slow down3", body)

	require.NoError(t, fi.Set(resilience.Fault{Err: errBoom}))
	_, _, err = get()
	assert.ErrorIs(t, err, errBoom)
}

func TestFaultInjector_DisabledCostsNothing(t *testing.T) {
	fi := resilience.NewFaultInjector(nil)
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = fi.Do(ctx, succeed) }))
	base := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, nil })
	ft := &resilience.FaultTransport{Base: base, Injector: fi}
	req := httptest.NewRequest(http.MethodGet, "http://x/", nil)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = ft.RoundTrip(req) }))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestFaultInjector_ZeroValueIsUsable(t *testing.T) {
	var fi resilience.FaultInjector
	assert.NoError(t, fi.Do(t.Context(), succeed))
	require.NoError(t, fi.Set(resilience.Fault{Until: time.Now().Add(time.Hour)}))
	assert.ErrorIs(t, fi.Do(t.Context(), succeed), resilience.ErrInjected)
}

func TestPipeline_ZeroValueAppliesNoPolicy(t *testing.T) {
	var p resilience.Pipeline[int]
	v, err := p.Execute(t.Context(), func(context.Context) (int, error) { return 3, nil })
	require.NoError(t, err)
	assert.Equal(t, 3, v)
}
