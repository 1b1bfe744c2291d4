package ratelimitobserve_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/ratelimitobserve"
	"github.com/bedrock-go/bedrock/ratelimit"
)

func TestConcurrencyHooks_CountRefusedLeases(t *testing.T) {
	otelhooktest.CheckAdapters(t, "ratelimitobserve", map[string]func(metric.MeterProvider) error{
		"concurrency": func(mp metric.MeterProvider) error { _, err := ratelimitobserve.ConcurrencyHooks(mp, "x"); return err },
	})
	m := otelhooktest.NewRecorder(t, "ratelimitobserve")
	hooks, err := ratelimitobserve.ConcurrencyHooks(m.MP, "exports")
	require.NoError(t, err)
	otelhooktest.AssertNoAllocs(t, map[string]func(){"reject": hooks.OnReject})

	store, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	require.NoError(t, err)
	c, err := ratelimit.NewConcurrency(ratelimit.ConcurrencyConfig{Store: store, Limit: 1, Hooks: hooks})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = c.Acquire(ctx, "tenant")
	require.NoError(t, err)
	_, err = c.Acquire(ctx, "tenant")
	require.ErrorIs(t, err, ratelimit.ErrLimited)
	counts := m.Counter(t, "bedrock.ratelimit.concurrency.rejections", "{lease}")
	assert.Len(t, counts, 1)
	for _, v := range counts {
		assert.Positive(t, v)
	}
}
