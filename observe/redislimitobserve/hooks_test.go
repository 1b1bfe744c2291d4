package redislimitobserve_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/redislimitobserve"
	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
)

// brokenRedis listens like a Redis server that has hung (silent) or that
// drops every connection (hangUp), and returns a client to it.
func brokenRedis(t *testing.T, silent bool) *redis.Client {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	t.Cleanup(func() { _ = ln.Close(); <-done })
	go func() {
		defer close(done)
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if silent {
				held = append(held, c)
			} else {
				_ = c.Close()
			}
		}
	}()
	client := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), ContextTimeoutEnabled: true, MaxRetries: -1})
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
