package redislimitobserve_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/observe/redislimitobserve"
	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
)

// brokenRedis returns a client of a Redis server that has hung (silent) or
// that drops every connection.
func brokenRedis(t *testing.T, silent bool) *redis.Client {
	addr := testenv.HangUpServer(t)
	if silent {
		addr = testenv.SilentServer(t)
	}
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func TestHooks_CountDecisionsRedisCouldNotMake(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "redislimitobserve")
	hooks, err := redislimitobserve.Hooks(m.MP, "api")
	require.NoError(t, err)
	for _, tt := range []struct {
		silent bool
		policy redislimit.Policy
	}{{true, redislimit.FailOpen}, {false, redislimit.FailClosed}} {
		store, err := redislimit.New(brokenRedis(t, tt.silent), redislimit.Config{
			Timeout: 20 * time.Millisecond, WhenUnavailable: tt.policy, Hooks: hooks,
		})
		require.NoError(t, err)
		l, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerSecond(1)}, Store: store})
		require.NoError(t, err)
		r, err := l.Allow(context.Background(), "user-1")
		if tt.policy == redislimit.FailOpen {
			require.NoError(t, err)
			require.True(t, r.Allowed && r.Degraded, "fail-open admits")
		} else {
			require.ErrorIs(t, err, redislimit.ErrUnavailable)
		}
	}
	// Whether the client reports a hung or dropped connection as the
	// store's deadline or as a network error depends on timing; either
	// way the class is one of a fixed pair.
	byPolicy := map[string]int64{}
	for set, v := range m.Counter(t, "bedrock.ratelimit.redis.unavailable", "{decision}") {
		policy, class, ok := strings.Cut(strings.TrimPrefix(set, "bedrock.ratelimit.limiter=api,bedrock.ratelimit.unavailable_policy="), ",error.type=")
		require.True(t, ok, set)
		assert.Contains(t, []string{"deadline_exceeded", "_OTHER"}, class, set)
		byPolicy[policy] += v
	}
	assert.Equal(t, map[string]int64{"fail-open": 1, "fail-closed": 1}, byPolicy)
}

// BenchmarkHooks_Unavailable is the hook of every decision Redis could not
// make: one per request while Redis is down.
func BenchmarkHooks_Unavailable(b *testing.B) {
	hooks, err := redislimitobserve.Hooks(otelhooktest.NewRecorder(b, "redislimitobserve").MP, "api")
	require.NoError(b, err)
	down := context.DeadlineExceeded
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnUnavailable(down, redislimit.FailOpen)
	}
}
