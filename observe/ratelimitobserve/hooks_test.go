package ratelimitobserve_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/ratelimitobserve"
	"github.com/bedrock-go/bedrock/ratelimit"
)

var errBoom = errors.New("boom")

// downStore is a ratelimit.Store whose backend is unreachable.
type downStore struct{ err error }

func (s downStore) Do(context.Context, ratelimit.Request) (ratelimit.Result, error) {
	return ratelimit.Result{}, s.err
}

func TestHooks_RecordDecisionsByPolicyNeverByKey(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "ratelimitobserve")
	hooks, err := ratelimitobserve.Hooks(m.MP, "api")
	require.NoError(t, err)
	l, err := ratelimit.New(ratelimit.Config{
		Limits: []ratelimit.Limit{{Rate: 2, Period: time.Minute, Name: "per-user"}},
		Hooks:  hooks,
	})
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 5 {
		_, err := l.Allow(ctx, "user-"+strconv.Itoa(i%2))
		require.NoError(t, err)
	}
	unnamed, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerSecond(1)}, Hooks: hooks})
	require.NoError(t, err)
	_, err = unnamed.Allow(ctx, "user-0")
	require.NoError(t, err)

	assert.Equal(t, map[string]int64{
		"bedrock.ratelimit.decision=allowed,bedrock.ratelimit.degraded=false,bedrock.ratelimit.limiter=api,bedrock.ratelimit.policy=per-user": 4,
		"bedrock.ratelimit.decision=limited,bedrock.ratelimit.degraded=false,bedrock.ratelimit.limiter=api,bedrock.ratelimit.policy=per-user": 1,
		"bedrock.ratelimit.decision=allowed,bedrock.ratelimit.degraded=false,bedrock.ratelimit.limiter=api,bedrock.ratelimit.policy=unnamed":  1,
	}, m.Counter(t, "bedrock.ratelimit.decisions", "{decision}"))
}

func TestHooks_ClassifyStoreFailures(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "ratelimitobserve")
	hooks, err := ratelimitobserve.Hooks(m.MP, "api")
	require.NoError(t, err)
	ctx := context.Background()
	for _, storeErr := range []error{errBoom, context.DeadlineExceeded} {
		l, err := ratelimit.New(ratelimit.Config{
			Limits: []ratelimit.Limit{ratelimit.PerSecond(1)}, Store: downStore{storeErr}, Hooks: hooks,
		})
		require.NoError(t, err)
		_, err = l.Allow(ctx, "k")
		require.ErrorIs(t, err, storeErr)
	}
	assert.Equal(t, map[string]int64{
		"bedrock.ratelimit.limiter=api,error.type=_OTHER":            1,
		"bedrock.ratelimit.limiter=api,error.type=deadline_exceeded": 1,
	}, m.Counter(t, "bedrock.ratelimit.errors", "{error}"))
}

func TestHooks_BoundPolicyNames(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "ratelimitobserve")
	hooks, err := ratelimitobserve.Hooks(m.MP, "api")
	require.NoError(t, err)
	// A misconfigured LimitsFor that names limits after the key must not
	// create a series per key.
	l, err := ratelimit.New(ratelimit.Config{
		LimitsFor: func(key string) []ratelimit.Limit {
			return []ratelimit.Limit{{Rate: 10, Period: time.Second, Name: key}}
		},
		Hooks: hooks,
	})
	require.NoError(t, err)
	const keys = 300
	for i := range keys {
		_, err := l.Allow(context.Background(), "k"+strconv.Itoa(i))
		require.NoError(t, err)
	}
	got := m.Counter(t, "bedrock.ratelimit.decisions", "{decision}")
	assert.Len(t, got, 257)
	assert.Equal(t, int64(keys-256),
		got["bedrock.ratelimit.decision=allowed,bedrock.ratelimit.degraded=false,bedrock.ratelimit.limiter=api,bedrock.ratelimit.policy=_OTHER"],
		"decisions past the bound share one series per decision")
}

func TestMemoryHooks_CountEvictionsOfActiveKeys(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "ratelimitobserve")
	hooks, err := ratelimitobserve.MemoryHooks(m.MP, "api")
	require.NoError(t, err)
	mem, err := ratelimit.NewMemory(ratelimit.MemoryConfig{MaxKeys: 16, Shards: 1, Hooks: hooks})
	require.NoError(t, err)
	l, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerMinute(1)}, Store: mem})
	require.NoError(t, err)
	const keys = 100
	for i := range keys {
		_, err := l.Allow(context.Background(), "k"+strconv.Itoa(i))
		require.NoError(t, err)
	}
	got := m.Counter(t, "bedrock.ratelimit.memory.evictions", "{key}")
	require.Len(t, got, 1, "every evicted key was still limited: %v", got)
	assert.GreaterOrEqual(t, got["bedrock.ratelimit.active=true,bedrock.ratelimit.limiter=api"], int64(keys-16))
}

func BenchmarkHooks_Decided(b *testing.B) {
	hooks, err := ratelimitobserve.Hooks(otelhooktest.NewRecorder(b, "ratelimitobserve").MP, "api")
	require.NoError(b, err)
	r := ratelimit.Result{Allowed: true, Limit: ratelimit.Limit{Rate: 10, Period: time.Second, Name: "per-user"}}
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnDecision("user-1", r)
	}
}
