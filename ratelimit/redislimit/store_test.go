package redislimit_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/ratelimit/ratelimittest"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
)

// realRedis returns a client of the test Redis, which honours context
// deadlines as New requires, and the test's key prefix.
func realRedis(t *testing.T) (*redis.Client, string) { return testenv.Redis(t) }

func newStore(t *testing.T, rdb redis.UniversalClient, cfg redislimit.Config) *redislimit.Store {
	t.Helper()
	s, err := redislimit.New(rdb, cfg)
	require.NoError(t, err)
	return s
}

func TestStore_ConformsAgainstRealRedis(t *testing.T) {
	rdb, prefix := realRedis(t)
	s := newStore(t, rdb, redislimit.Config{Prefix: prefix, Timeout: 5 * time.Second, WhenUnavailable: redislimit.FailClosed})
	ratelimittest.Run(t, func(*testing.T) ratelimit.Store { return s })
}

func TestStore_LeasesConformAgainstRealRedis(t *testing.T) {
	rdb, prefix := realRedis(t)
	s := newStore(t, rdb, redislimit.Config{Prefix: prefix, Timeout: 5 * time.Second, WhenUnavailable: redislimit.FailClosed})
	ratelimittest.RunLeases(t, func(*testing.T) ratelimit.LeaseStore { return s })
}

func TestStore_ServerClockDecides(t *testing.T) {
	rdb, prefix := realRedis(t)
	lim, err := ratelimit.New(ratelimit.Config{
		Limits: []ratelimit.Limit{{Rate: 2, Period: time.Hour}},
		Store:  newStore(t, rdb, redislimit.Config{Prefix: prefix, Timeout: 5 * time.Second, WhenUnavailable: redislimit.FailClosed}),
	})
	require.NoError(t, err)
	ctx := context.Background()
	serverNow, err := rdb.Time(ctx).Result()
	require.NoError(t, err)
	for i, want := range []bool{true, true, false} {
		res, err := lim.Allow(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, want, res.Allowed, "call %d", i)
		assert.WithinDuration(t, serverNow, res.At, time.Second, "At is the server's clock")
	}
}

func TestStore_KeysCarryHashTagAndTTL(t *testing.T) {
	rdb, prefix := realRedis(t)
	s := newStore(t, rdb, redislimit.Config{Prefix: prefix, Timeout: 5 * time.Second, WhenUnavailable: redislimit.FailClosed})
	lim, err := ratelimit.New(ratelimit.Config{
		Limits: []ratelimit.Limit{ratelimit.PerSecond(5), {Rate: 3, Period: time.Minute, Algorithm: ratelimit.SlidingLog}},
		Store:  s,
	})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = lim.Allow(ctx, "user:7")
	require.NoError(t, err)

	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{prefix + "{user:7}:0:0", prefix + "{user:7}:1:3"}, keys)
	for _, k := range keys {
		assert.Equal(t, "user:7", k[strings.IndexByte(k, '{')+1:strings.IndexByte(k, '}')], "hash tag of %s", k)
		ttl, err := rdb.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.Positive(t, ttl, "%s has a TTL", k)
		// No longer than the state matters: 200ms for 5/s after one event,
		// a minute for the log.
		longest := 200 * time.Millisecond
		if strings.HasSuffix(k, ":3") {
			longest = time.Minute
		}
		assert.LessOrEqual(t, ttl, longest, k)
	}
	assert.Equal(t, s.Key("user:7", 0, ratelimit.GCRA), prefix+"{user:7}:0:0")
}

// countingHook counts the commands sent to Redis.
type countingHook struct{ cmds atomic.Int64 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.cmds.Add(1)
		return next(ctx, cmd)
	}
}
func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.cmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func TestStore_OneRoundTripPerDecision(t *testing.T) {
	rdb, prefix := realRedis(t)
	hook := &countingHook{}
	rdb.AddHook(hook)
	lim, err := ratelimit.New(ratelimit.Config{
		Limits: []ratelimit.Limit{ratelimit.PerSecond(100), ratelimit.PerHour(1000),
			{Rate: 50, Period: time.Minute, Algorithm: ratelimit.SlidingLog}},
		Store: newStore(t, rdb, redislimit.Config{Prefix: prefix, Timeout: 5 * time.Second, WhenUnavailable: redislimit.FailClosed}),
	})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = lim.Allow(ctx, "warm") // may load the script: EVALSHA, then EVAL
	require.NoError(t, err)

	hook.cmds.Store(0)
	const n = 20
	for i := range n {
		switch i % 3 {
		case 0:
			_, err = lim.Allow(ctx, "k")
		case 1:
			_, err = lim.Peek(ctx, "k")
		default:
			var r *ratelimit.Reservation
			if r, err = lim.Reserve(ctx, "k", 1); err == nil {
				hook.cmds.Add(-1) // the cancel below is a decision of its own
				err = r.Cancel(ctx)
			}
		}
		require.NoError(t, err)
	}
	assert.Equal(t, int64(n), hook.cmds.Load(), "one command per decision")
}

func TestStore_NoScriptFallsBackToEval(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	lim, err := ratelimit.New(ratelimit.Config{
		Limits: []ratelimit.Limit{{Rate: 2, Period: time.Hour}},
		Store:  newStore(t, rdb, redislimit.Config{Timeout: 5 * time.Second, WhenUnavailable: redislimit.FailClosed}),
	})
	require.NoError(t, err)
	ctx := context.Background()
	res, err := lim.Allow(ctx, "k")
	require.NoError(t, err)
	assert.True(t, res.Allowed)
	require.NoError(t, rdb.ScriptFlush(ctx).Err())
	res, err = lim.Allow(ctx, "k")
	require.NoError(t, err, "NOSCRIPT must fall back to EVAL")
	assert.True(t, res.Allowed)
	res, err = lim.Allow(ctx, "k")
	require.NoError(t, err)
	assert.False(t, res.Allowed, "state survived the script flush")
}

func TestStore_Unavailable(t *testing.T) {
	limits := []ratelimit.Limit{{Rate: 1, Period: time.Hour}}
	servers := map[string]func(t *testing.T) string{
		"stopped": func(t *testing.T) string { return testenv.ClosedAddr(t) },
		"hanging": func(t *testing.T) string { return testenv.SilentServer(t) },
	}
	for name, server := range servers {
		for _, policy := range []redislimit.Policy{redislimit.FailOpen, redislimit.FailClosed, redislimit.FallBack} {
			t.Run(name+"/"+policy.String(), func(t *testing.T) {
				rdb := redis.NewClient(&redis.Options{
					Addr: server(t), ContextTimeoutEnabled: true, MaxRetries: -1,
					DialTimeout: 50 * time.Millisecond,
				})
				t.Cleanup(func() { _ = rdb.Close() })
				mem, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
				require.NoError(t, err)
				var outages atomic.Int64
				lim, err := ratelimit.New(ratelimit.Config{Limits: limits, Store: newStore(t, rdb, redislimit.Config{
					Timeout:         30 * time.Millisecond,
					WhenUnavailable: policy,
					Fallback:        mem,
					Hooks: redislimit.Hooks{OnUnavailable: func(err error, p redislimit.Policy) {
						assert.Error(t, err)
						assert.Equal(t, policy, p)
						outages.Add(1)
					}},
				})})
				require.NoError(t, err)

				start := time.Now()
				first, err1 := lim.Allow(context.Background(), "k")
				second, err2 := lim.Allow(context.Background(), "k")
				assert.Less(t, time.Since(start), 2*time.Second, "the budget bounds each decision")
				assert.Equal(t, int64(2), outages.Load())
				switch policy {
				case redislimit.FailOpen:
					require.NoError(t, err1)
					require.NoError(t, err2)
					assert.True(t, first.Allowed && second.Allowed, "fail open admits")
					assert.True(t, first.Degraded && second.Degraded)
				case redislimit.FailClosed:
					assert.ErrorIs(t, err1, redislimit.ErrUnavailable)
					assert.ErrorIs(t, err2, redislimit.ErrUnavailable)
				case redislimit.FallBack:
					require.NoError(t, err1)
					require.NoError(t, err2)
					assert.True(t, first.Allowed, "the local store admits the first")
					assert.False(t, second.Allowed, "and limits the second")
					assert.True(t, first.Degraded && second.Degraded)
				}
			})
		}
	}
}

func TestStore_CancelledContextIsNotAnOutage(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: testenv.SilentServer(t), ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	var outages atomic.Int64
	s := newStore(t, rdb, redislimit.Config{Timeout: time.Second, Hooks: redislimit.Hooks{
		OnUnavailable: func(error, redislimit.Policy) { outages.Add(1) },
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := s.Do(ctx, ratelimit.Request{Key: "k", Limits: []ratelimit.Limit{ratelimit.PerSecond(1)}, Cost: 1})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, outages.Load(), "the caller's deadline is not Redis's fault")
}

// TestStore_ExactUnderContention runs 4 clients × 32 goroutines against one
// key of the real Redis: exactly the limit is admitted.
func TestStore_ExactUnderContention(t *testing.T) {
	_, prefix := realRedis(t)
	for _, l := range []ratelimit.Limit{
		{Rate: 100, Period: time.Hour},
		{Rate: 100, Period: time.Hour, Algorithm: ratelimit.SlidingLog},
		{Rate: 100, Period: time.Hour, Algorithm: ratelimit.TokenBucket},
	} {
		t.Run(l.Algorithm.String(), func(t *testing.T) {
			var admitted, failed atomic.Int64
			var wg sync.WaitGroup
			for range 4 { // clients, each with its own pool
				rdb := redis.NewClient(testenv.RedisOptions(t))
				t.Cleanup(func() { _ = rdb.Close() })
				lim, err := ratelimit.New(ratelimit.Config{
					Limits: []ratelimit.Limit{l},
					Store:  newStore(t, rdb, redislimit.Config{Prefix: prefix, Timeout: 5 * time.Second, WhenUnavailable: redislimit.FailClosed}),
				})
				require.NoError(t, err)
				for range 32 {
					wg.Go(func() {
						for range 5 {
							res, err := lim.Allow(context.Background(), "hot:"+l.Algorithm.String())
							switch {
							case err != nil:
								failed.Add(1)
							case res.Allowed:
								admitted.Add(1)
							}
						}
					})
				}
			}
			wg.Wait()
			assert.Zero(t, failed.Load())
			assert.Equal(t, int64(100), admitted.Load(), "640 attempts, exactly the limit admitted")
		})
	}
}

func TestNew_RejectsBadConfig(t *testing.T) {
	plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = plain.Close() })
	ok := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = ok.Close() })
	cases := []struct {
		name   string
		client redis.UniversalClient
		cfg    redislimit.Config
	}{
		{"nil client", nil, redislimit.Config{}},
		{"brace in prefix", ok, redislimit.Config{Prefix: "a{b"}},
		{"client without context deadlines", plain, redislimit.Config{}},
		{"client without context deadlines, no budget of the store's own", plain, redislimit.Config{Timeout: -1}},
		{"fallback without store", ok, redislimit.Config{WhenUnavailable: redislimit.FallBack}},
		{"unknown policy", ok, redislimit.Config{WhenUnavailable: 9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redislimit.New(tc.client, tc.cfg)
			assert.Nil(t, s)
			assert.ErrorIs(t, err, redislimit.ErrInvalidConfig)
		})
	}
}

func TestStore_RejectsBadRequests(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	s := newStore(t, rdb, redislimit.Config{Timeout: 5 * time.Second, WhenUnavailable: redislimit.FailClosed})
	one := []ratelimit.Limit{ratelimit.PerSecond(2)}
	cases := []struct {
		name string
		req  ratelimit.Request
		want error
	}{
		{"empty key", ratelimit.Request{Limits: one, Cost: 1}, ratelimit.ErrInvalidKey},
		{"long key", ratelimit.Request{Key: strings.Repeat("k", 513), Limits: one, Cost: 1}, ratelimit.ErrInvalidKey},
		{"zero cost", ratelimit.Request{Key: "k", Limits: one}, ratelimit.ErrInvalidCost},
		{"cost above burst", ratelimit.Request{Key: "k", Limits: one, Cost: 3}, ratelimit.ErrCostExceedsBurst},
		{"no limits", ratelimit.Request{Key: "k", Cost: 1}, ratelimit.ErrInvalidLimit},
		{"bad limit", ratelimit.Request{Key: "k", Limits: []ratelimit.Limit{{Rate: -1, Period: time.Second}}, Cost: 1}, ratelimit.ErrInvalidLimit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Do(context.Background(), tc.req)
			assert.ErrorIs(t, err, tc.want)
		})
	}
	_, err := s.Do(context.Background(), ratelimit.Request{Key: "k", Limits: one, Cost: 1})
	require.NoError(t, err)
	assert.False(t, errors.Is(err, redislimit.ErrUnavailable))
}

func TestStore_KeyAlwaysTagsTheWholeKey(t *testing.T) {
	s := newStore(t, redis.NewClient(&redis.Options{ContextTimeoutEnabled: true}), redislimit.Config{Prefix: "p:"})
	cases := map[string]string{
		"user:7": "p:{user:7}:1:0",
		"}x":     "p:{%7Dx}:1:0",
		"a{b}c":  "p:{a%7Bb%7Dc}:1:0",
		"%7Dx":   "p:{%257Dx}:1:0",
	}
	for key, want := range cases {
		got := s.Key(key, 1, ratelimit.GCRA)
		assert.Equal(t, want, got)
		tag := got[strings.IndexByte(got, '{')+1 : strings.IndexByte(got, '}')]
		assert.NotEmpty(t, tag)
		assert.Equal(t, strings.Index(got, "}"), strings.LastIndex(got, "}"), "one closing brace: the tag is the whole key")
	}
}

// TestStore_LeasesWhenUnavailable: with Redis really down, each policy
// decides leases as it decides events.
func TestStore_LeasesWhenUnavailable(t *testing.T) {
	for _, policy := range []redislimit.Policy{redislimit.FailOpen, redislimit.FailClosed, redislimit.FallBack} {
		t.Run(policy.String(), func(t *testing.T) {
			rdb := redis.NewClient(&redis.Options{
				Addr: testenv.ClosedAddr(t), ContextTimeoutEnabled: true, MaxRetries: -1, DialTimeout: 50 * time.Millisecond,
			})
			t.Cleanup(func() { _ = rdb.Close() })
			mem, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
			require.NoError(t, err)
			var outages atomic.Int64
			c, err := ratelimit.NewConcurrency(ratelimit.ConcurrencyConfig{Limit: 1, Store: newStore(t, rdb, redislimit.Config{
				Timeout: 30 * time.Millisecond, WhenUnavailable: policy, Fallback: mem,
				Hooks: redislimit.Hooks{OnUnavailable: func(error, redislimit.Policy) { outages.Add(1) }},
			})})
			require.NoError(t, err)
			_, err1 := c.Acquire(context.Background(), "k")
			_, err2 := c.Acquire(context.Background(), "k")
			assert.Equal(t, int64(2), outages.Load())
			switch policy {
			case redislimit.FailOpen:
				assert.NoError(t, err1)
				assert.NoError(t, err2, "fail open grants every lease")
			case redislimit.FailClosed:
				assert.ErrorIs(t, err1, redislimit.ErrUnavailable)
				assert.ErrorIs(t, err2, redislimit.ErrUnavailable)
			case redislimit.FallBack:
				assert.NoError(t, err1)
				assert.ErrorIs(t, err2, ratelimit.ErrLimited, "the local store holds the quota")
			}
		})
	}
}
