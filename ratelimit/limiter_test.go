package ratelimit_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/ratelimit"
)

func newLimiter(t testing.TB, limits ...ratelimit.Limit) *ratelimit.Limiter {
	t.Helper()
	l, err := ratelimit.New(ratelimit.Config{Limits: limits})
	require.NoError(t, err)
	return l
}

func TestNew_RejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  ratelimit.Config
		want error
	}{
		{"no limits", ratelimit.Config{}, ratelimit.ErrInvalidLimit},
		{"too many limits", ratelimit.Config{Limits: make([]ratelimit.Limit, ratelimit.MaxLimits+1)}, ratelimit.ErrInvalidLimit},
		{"invalid limit", ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerSecond(0)}}, ratelimit.ErrInvalidLimit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ratelimit.New(tc.cfg)
			assert.Nil(t, l)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestLimiter_RejectsBadInputAtCall(t *testing.T) {
	l := newLimiter(t, ratelimit.PerSecond(5), ratelimit.PerMinute(3))
	ctx := context.Background()
	cases := []struct {
		name string
		key  string
		n    int
		want error
	}{
		{"empty key", "", 1, ratelimit.ErrInvalidKey},
		{"key over 512 bytes", strings.Repeat("k", ratelimit.MaxKeyLen+1), 1, ratelimit.ErrInvalidKey},
		{"zero cost", "k", 0, ratelimit.ErrInvalidCost},
		{"negative cost", "k", -3, ratelimit.ErrInvalidCost},
		{"cost above the smallest burst", "k", 4, ratelimit.ErrCostExceedsBurst},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.AllowN(ctx, tc.key, tc.n)
			assert.ErrorIs(t, err, tc.want)
			_, err = l.PeekAt(ctx, tc.key, time.Now(), tc.n)
			assert.ErrorIs(t, err, tc.want)
			_, err = l.Reserve(ctx, tc.key, tc.n)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, l.WaitN(ctx, tc.key, tc.n), tc.want)
		})
	}
	res, err := l.AllowN(ctx, strings.Repeat("k", ratelimit.MaxKeyLen), 3)
	require.NoError(t, err, "a 512-byte key and a cost equal to the burst are fine")
	assert.True(t, res.Allowed)
}

func TestLimiter_SetLimitsValidatesAndApplies(t *testing.T) {
	l := newLimiter(t, ratelimit.PerSecond(1))
	ctx := context.Background()
	require.ErrorIs(t, l.SetLimits(), ratelimit.ErrInvalidLimit)
	require.ErrorIs(t, l.SetLimits(ratelimit.Limit{Rate: 1}), ratelimit.ErrInvalidLimit)
	assert.Equal(t, []ratelimit.Limit{ratelimit.PerSecond(1)}, l.Limits(), "a rejected change leaves the limits")

	at := time.Unix(1_000_000, 0)
	res, _ := l.AllowAt(ctx, "k", at, 1)
	assert.True(t, res.Allowed)
	res, _ = l.AllowAt(ctx, "k", at, 1)
	assert.False(t, res.Allowed)
	require.NoError(t, l.SetLimits(ratelimit.Limit{Rate: 1, Period: time.Second, Burst: 2}))
	res, _ = l.AllowAt(ctx, "k", at, 1)
	assert.True(t, res.Allowed, "a larger burst takes effect at once")
}

func TestLimiter_LimitsForChoosesPerKey(t *testing.T) {
	plans := map[string][]ratelimit.Limit{
		"free": {ratelimit.PerMinute(1)},
		"pro":  {ratelimit.PerMinute(3)},
	}
	l, err := ratelimit.New(ratelimit.Config{LimitsFor: func(key string) []ratelimit.Limit {
		plan, _, _ := strings.Cut(key, ":")
		return plans[plan]
	}})
	require.NoError(t, err)
	ctx := context.Background()
	at := time.Unix(1_000_000, 0)
	count := func(key string) int {
		n := 0
		for range 5 {
			res, err := l.AllowAt(ctx, key, at, 1)
			require.NoError(t, err)
			if res.Allowed {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 1, count("free:alice"))
	assert.Equal(t, 3, count("pro:bob"))
	_, err = l.Allow(ctx, "unknown:carol")
	assert.ErrorIs(t, err, ratelimit.ErrInvalidLimit, "no limits for a key is an error, not unlimited")
	assert.ErrorIs(t, l.SetLimits(ratelimit.PerSecond(1)), ratelimit.ErrInvalidConfig)
	assert.Nil(t, l.Limits())
}

func TestLimiter_PeekDoesNotConsume(t *testing.T) {
	l := newLimiter(t, ratelimit.PerHour(2))
	ctx := context.Background()
	for range 10 {
		res, err := l.Peek(ctx, "k")
		require.NoError(t, err)
		assert.True(t, res.Allowed)
		assert.Equal(t, 2, res.Remaining)
	}
	res, err := l.AllowN(ctx, "k", 2)
	require.NoError(t, err)
	assert.True(t, res.Allowed)
}

func TestReservation_CancelReturnsTokensOnce(t *testing.T) {
	l := newLimiter(t, ratelimit.PerHour(3))
	ctx := context.Background()
	r, err := l.Reserve(ctx, "k", 2)
	require.NoError(t, err)
	require.True(t, r.Result().Allowed)
	require.NoError(t, r.Cancel(ctx))
	require.NoError(t, r.Cancel(ctx), "a second cancel is a no-op")
	res, err := l.AllowN(ctx, "k", 3)
	require.NoError(t, err)
	assert.True(t, res.Allowed, "the cancelled tokens came back, and only once")
	res, err = l.Allow(ctx, "k")
	require.NoError(t, err)
	assert.False(t, res.Allowed)

	denied, err := l.Reserve(ctx, "k", 1)
	require.NoError(t, err)
	assert.False(t, denied.Result().Allowed)
	require.NoError(t, denied.Cancel(ctx), "cancelling a denied reservation gives nothing back")
	res, _ = l.Peek(ctx, "k")
	assert.False(t, res.Allowed)
}

func TestLimiter_WaitSleepsUntilAdmitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, ratelimit.PerSecond(2)) // one event per 500ms
		ctx := context.Background()
		require.NoError(t, l.WaitN(ctx, "k", 2))
		start := time.Now()
		require.NoError(t, l.Wait(ctx, "k"))
		assert.Equal(t, 500*time.Millisecond, time.Since(start))
	})
}

func TestLimiter_WaitGivesUpAtOnceWhenDeadlineIsTooShort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, ratelimit.PerMinute(1))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, l.Wait(ctx, "k"))
		start := time.Now()
		err := l.Wait(ctx, "k")
		assert.Zero(t, time.Since(start), "no sleep in vain")
		require.ErrorIs(t, err, ratelimit.ErrLimited)
		var le *ratelimit.LimitedError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, time.Minute, le.RetryAfter())
	})
}

func TestLimiter_WaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, ratelimit.PerMinute(1))
		ctx, cancel := context.WithCancel(context.Background())
		require.NoError(t, l.Wait(ctx, "k"))
		go func() {
			time.Sleep(time.Second)
			cancel()
		}()
		start := time.Now()
		assert.ErrorIs(t, l.Wait(ctx, "k"), context.Canceled)
		assert.Equal(t, time.Second, time.Since(start))
	})
}

func TestLimiter_HooksSeeEveryDecision(t *testing.T) {
	var decided, failed atomic.Int64
	l, err := ratelimit.New(ratelimit.Config{
		Limits: []ratelimit.Limit{ratelimit.PerHour(1)},
		Hooks: ratelimit.Hooks{
			OnDecision: func(key string, r ratelimit.Result) {
				assert.Equal(t, "k", key)
				decided.Add(1)
			},
			OnError: func(string, error) { failed.Add(1) },
		},
	})
	require.NoError(t, err)
	ctx := context.Background()
	_, _ = l.Allow(ctx, "k")
	_, _ = l.Allow(ctx, "k")
	_, _ = l.Peek(ctx, "k")
	assert.Equal(t, int64(3), decided.Load())
	assert.Zero(t, failed.Load())
}

// failingStore is a Store whose backend is down.
type failingStore struct{ err error }

func (s failingStore) Do(context.Context, ratelimit.Request) (ratelimit.Result, error) {
	return ratelimit.Result{}, s.err
}

func TestLimiter_StoreErrorsReachCallerAndHook(t *testing.T) {
	boom := assert.AnError
	var failed atomic.Int64
	l, err := ratelimit.New(ratelimit.Config{
		Limits: []ratelimit.Limit{ratelimit.PerHour(1)},
		Store:  failingStore{boom},
		Hooks:  ratelimit.Hooks{OnError: func(string, error) { failed.Add(1) }},
	})
	require.NoError(t, err)
	_, err = l.Allow(context.Background(), "k")
	assert.ErrorIs(t, err, boom)
	assert.ErrorIs(t, l.Wait(context.Background(), "k"), boom)
	assert.Equal(t, int64(2), failed.Load())
}
