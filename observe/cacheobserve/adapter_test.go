package cacheobserve_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/cacheobserve"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "cacheobserve", map[string]func(metric.MeterProvider) error{
		"cache": func(mp metric.MeterProvider) error { _, err := cacheobserve.Hooks(mp, "x"); return err },
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "cacheobserve")
	hooks, err := cacheobserve.Hooks(m.MP, "users")
	require.NoError(t, err)
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"hit":   func() { hooks.OnHit(cache.TierLocal) },
		"load":  func() { hooks.OnLoad(time.Millisecond, nil) },
		"error": func() { hooks.OnError(cache.OpFetch, errBoom) },
	})
}
