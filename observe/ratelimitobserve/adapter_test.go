package ratelimitobserve_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/ratelimitobserve"
	"github.com/bedrock-go/bedrock/ratelimit"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "ratelimitobserve", map[string]func(metric.MeterProvider) error{
		"ratelimit": func(mp metric.MeterProvider) error { _, err := ratelimitobserve.Hooks(mp, "x"); return err },
		"memory": func(mp metric.MeterProvider) error {
			_, err := ratelimitobserve.MemoryHooks(mp, "x")
			return err
		},
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "ratelimitobserve")
	limiter, err := ratelimitobserve.Hooks(m.MP, "api")
	require.NoError(t, err)
	memory, err := ratelimitobserve.MemoryHooks(m.MP, "api")
	require.NoError(t, err)
	result := ratelimit.Result{Allowed: true, Limit: ratelimit.Limit{Rate: 1, Period: time.Second, Name: "per-user"}}
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"decided": func() { limiter.OnDecision("user-1", result) },
		"failed":  func() { limiter.OnError("user-1", errBoom) },
		"evicted": func() { memory.OnEvict("user-1", true) },
	})
}

func TestAdapters_ConcurrentHooksCountEveryEvent(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "ratelimitobserve")
	hooks, err := ratelimitobserve.Hooks(m.MP, "api")
	require.NoError(t, err)
	const goroutines, calls, policies = 64, 50, 8
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				// New policies appear while others are read: the sets
				// are copied on write under contention.
				name := "p" + strconv.Itoa((g+i)%policies)
				hooks.OnDecision("k", ratelimit.Result{Allowed: i%2 == 0, Limit: ratelimit.Limit{Name: name}})
			}
		})
	}
	wg.Wait()
	got := m.Counter(t, "bedrock.ratelimit.decisions", "{decision}")
	assert.Len(t, got, policies*2)
	var total int64
	for _, v := range got {
		total += v
	}
	assert.Equal(t, int64(goroutines*calls), total)
}
