package ratelimit_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/ratelimit"
)

func TestNewConcurrency_RejectsInvalidConfig(t *testing.T) {
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	require.NoError(t, err)
	for name, cfg := range map[string]ratelimit.ConcurrencyConfig{
		"no store":     {Limit: 1},
		"zero limit":   {Store: m},
		"negative TTL": {Store: m, Limit: 1, TTL: -time.Second},
		"tiny TTL":     {Store: m, Limit: 1, TTL: time.Microsecond},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ratelimit.NewConcurrency(cfg)
			assert.ErrorIs(t, err, ratelimit.ErrInvalidConfig)
		})
	}
}

func TestConcurrency_AtMostLimitPerKeyAndLeasesExpire(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Unix(1_800_000_000, 0).UnixNano())
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{Now: func() time.Time { return time.Unix(0, now.Load()) }})
	require.NoError(t, err)
	var rejects int
	c, err := ratelimit.NewConcurrency(ratelimit.ConcurrencyConfig{Store: m, Limit: 2, TTL: 10 * time.Second,
		Hooks: ratelimit.ConcurrencyHooks{OnReject: func() { rejects++ }}})
	require.NoError(t, err)
	ctx := context.Background()

	a, err := c.Acquire(ctx, "tenant-1")
	require.NoError(t, err)
	b, err := c.Acquire(ctx, "tenant-1")
	require.NoError(t, err)
	_, err = c.Acquire(ctx, "tenant-2")
	require.NoError(t, err, "another key has its own quota")

	_, err = c.Acquire(ctx, "tenant-1")
	require.ErrorIs(t, err, ratelimit.ErrLimited)
	var ce *ratelimit.ConcurrencyError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, ratelimit.ConcurrencyError{Key: "tenant-1", InFlight: 2, Limit: 2, RetryAfter: 10 * time.Second}, *ce)
	assert.Equal(t, 1, rejects)

	require.NoError(t, a.Release(ctx))
	require.NoError(t, a.Release(ctx), "releasing twice does nothing")
	n, err := c.InFlight(ctx, "tenant-1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// b's holder crashes: its lease expires and frees the slot.
	now.Add(int64(6 * time.Second))
	c2, err := c.Acquire(ctx, "tenant-1")
	require.NoError(t, err)
	now.Add(int64(5 * time.Second))
	require.NoError(t, c2.Renew(ctx))
	assert.ErrorIs(t, b.Renew(ctx), ratelimit.ErrLeaseLost)
	n, err = c.InFlight(ctx, "tenant-1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	require.NoError(t, c.Reset(ctx, "tenant-1"))
	assert.ErrorIs(t, c2.Renew(ctx), ratelimit.ErrLeaseLost)
	n, err = c.InFlight(ctx, "tenant-1")
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestConcurrency_PassesBadKeysToTheCaller(t *testing.T) {
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	require.NoError(t, err)
	c, err := ratelimit.NewConcurrency(ratelimit.ConcurrencyConfig{Store: m, Limit: 1})
	require.NoError(t, err)
	_, err = c.Acquire(context.Background(), "")
	assert.ErrorIs(t, err, ratelimit.ErrInvalidKey)
}
