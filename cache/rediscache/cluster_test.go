package rediscache_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/rediscache"
)

func TestRedis_OneLoadPerCluster(t *testing.T) {
	// 8 processes (own client, store and local tier) x 1000 goroutines miss
	// one cold key at once.
	c := newCluster(t)
	const procs, goroutines = 8, 1000
	caches := make([]*cache.Cache[string, string], procs)
	for i := range caches {
		caches[i], _ = process(t, c, cache.Config[string, string]{})
	}
	var calls atomic.Int64
	start := make(chan struct{})
	load := func(context.Context, string) (string, error) {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		return "loaded", nil
	}
	var wg sync.WaitGroup
	var failures atomic.Int64
	for _, cc := range caches {
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				v, err := cc.Get(t.Context(), "cold", load)
				if err != nil || v != "loaded" {
					failures.Add(1)
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	assert.Zero(t, failures.Load())
	assert.EqualValues(t, 1, calls.Load(), "the loader runs exactly once in the cluster")
}

func TestRedis_DeleteBetweenLoadAndSet(t *testing.T) {
	// A load reads the source, a Delete lands, then the load tries to store
	// its (now stale) value: repeated 10^4 times, the deletion must always
	// win, in Redis and in the loader's local tier.
	c := newCluster(t)
	a, _ := process(t, c, cache.Config[int, string]{LocalSize: 20_000})
	b, _ := process(t, c, cache.Config[int, string]{})
	rounds, workers := scale(10_000), 32
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= rounds {
					return
				}
				v, err := a.Get(t.Context(), i, func(ctx context.Context, k int) (string, error) {
					if err := b.Delete(ctx, k); err != nil {
						return "", err
					}
					return "stale", nil
				})
				if err != nil || v != "stale" {
					t.Errorf("round %d: Get = %q, %v", i, v, err)
					return
				}
			}
		}()
	}
	wg.Wait()

	// No value may be left in Redis...
	keys := make([]string, rounds)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s{t:v0:%d}", c.prefix, i)
	}
	stale := 0
	for chunk := range slices.Chunk(keys, 1000) {
		n, err := c.base.Exists(t.Context(), chunk...).Result()
		require.NoError(t, err)
		stale += int(n)
	}
	// ...nor in the local tier of the process that loaded: a local hit now
	// would be a stale one.
	localStale := 0
	for chunk := range slices.Chunk(ids(rounds), 1000) {
		got, err := a.GetMany(t.Context(), chunk, func(_ context.Context, keys []int) (map[int]string, error) {
			m := make(map[int]string, len(keys))
			for _, k := range keys {
				m[k] = "fresh"
			}
			return m, nil
		})
		require.NoError(t, err)
		for _, v := range got {
			if v != "fresh" {
				localStale++
			}
		}
	}
	t.Logf("%d rounds: %d stale overwrites in Redis, %d in the local tier", rounds, stale, localStale)
	assert.Zero(t, stale)
	assert.Zero(t, localStale)
}

// scale returns n, or n/20 under the race detector, which makes the
// scenarios of 10^4 and 10^5 operations too slow for a test run.
func scale(n int) int {
	if raceEnabled {
		return n / 20
	}
	return n
}

func ids(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestRedis_InvalidationReachesAllLocalTiers(t *testing.T) {
	c := newCluster(t)
	const procs, rounds = 8, 100
	caches := make([]*cache.Cache[string, string], procs)
	arrivals := make(chan time.Time, procs*rounds)
	for i := range caches {
		var s *rediscache.Store
		caches[i], s = process(t, c, cache.Config[string, string]{})
		if i > 0 {
			s.Subscribe(func(inv cache.Invalidation) {
				if !inv.All {
					arrivals <- time.Now()
				}
			})
		}
	}
	// Let every listener subscribe before the first broadcast.
	require.Eventually(t, func() bool {
		n, err := c.base.PubSubNumSub(t.Context(), c.prefix+"invalidate").Result()
		return err == nil && n[c.prefix+"invalidate"] == procs
	}, 5*time.Second, 5*time.Millisecond)

	latencies := make([]time.Duration, 0, (procs-1)*rounds)
	for r := range rounds {
		key := fmt.Sprint("k", r)
		for _, cc := range caches {
			v, err := cc.Get(t.Context(), key, func(context.Context, string) (string, error) { return "old", nil })
			require.NoError(t, err)
			require.Equal(t, "old", v)
		}
		start := time.Now()
		require.NoError(t, caches[0].Delete(t.Context(), key))
		for range procs - 1 {
			select {
			case at := <-arrivals:
				latencies = append(latencies, at.Sub(start))
			case <-time.After(5 * time.Second):
				t.Fatalf("round %d: an invalidation did not arrive", r)
			}
		}
		for i, cc := range caches {
			assert.Eventually(t, func() bool {
				v, err := cc.Get(t.Context(), key, func(context.Context, string) (string, error) { return "new", nil })
				return err == nil && v == "new"
			}, 2*time.Second, time.Millisecond, "process %d kept its local copy", i)
		}
	}
	slices.Sort(latencies)
	t.Logf("invalidation latency over %d deliveries: p50 %v, p99 %v, max %v",
		len(latencies), latencies[len(latencies)/2], latencies[len(latencies)*99/100], latencies[len(latencies)-1])
}

func TestRedis_Penetration(t *testing.T) {
	// 100k lookups of random absent ids: at most one load per distinct id
	// within the negative TTL, across two processes.
	c := newCluster(t)
	a, _ := process(t, c, cache.Config[int, string]{NegativeTTL: time.Minute})
	b, _ := process(t, c, cache.Config[int, string]{NegativeTTL: time.Minute})
	var calls atomic.Int64
	load := func(context.Context, int) (string, error) {
		calls.Add(1)
		return "", cache.ErrNotFound
	}
	lookups, space, workers := scale(100_000), scale(3_000), 8
	seen := make([]atomic.Bool, space)
	var wg sync.WaitGroup
	for w := range workers {
		cc := a
		if w%2 == 1 {
			cc = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := uint32(w*2654435761 + 1)
			for range lookups / workers {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				id := int(x % uint32(space))
				seen[id].Store(true)
				if _, err := cc.Get(t.Context(), id, load); !errors.Is(err, cache.ErrNotFound) {
					t.Errorf("Get(%d) = %v", id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	unique := 0
	for i := range seen {
		if seen[i].Load() {
			unique++
		}
	}
	t.Logf("%d lookups, %d unique ids, %d loader calls", lookups, unique, calls.Load())
	assert.LessOrEqual(t, calls.Load(), int64(unique))
}

func TestRedis_LeaseHolderDiesAndOneOtherLoads(t *testing.T) {
	c := newCluster(t)
	// A process takes the lease and dies without writing.
	dead := c.store(t, c.client(t, ""), rediscache.Config{LeaseTTL: 100 * time.Millisecond})
	items, err := dead.Fetch(t.Context(), []string{"t:v0:k"}, cache.FetchOptions{Lease: cache.LeaseIfMissing})
	require.NoError(t, err)
	require.Equal(t, cache.LeaseGranted, items[0].Lease)

	var calls atomic.Int64
	load := func(context.Context, string) (string, error) {
		calls.Add(1)
		return "v", nil
	}
	var wg sync.WaitGroup
	for range 4 {
		s := c.store(t, c.client(t, ""), rediscache.Config{LeaseTTL: 100 * time.Millisecond})
		cc := newCache(t, s, cache.Config[string, string]{})
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := cc.Get(t.Context(), "k", load)
				assert.NoError(t, err)
				assert.Equal(t, "v", v)
			}()
		}
	}
	wg.Wait()
	assert.EqualValues(t, 1, calls.Load(), "after the lease expired exactly one process loaded")
}

func TestRedis_StaleRefreshedOncePerCluster(t *testing.T) {
	c := newCluster(t)
	cfg := cache.Config[string, string]{TTL: 100 * time.Millisecond, Stale: time.Minute, Jitter: -1, EarlyRefreshBeta: -1}
	var calls atomic.Int64
	gate := make(chan struct{})
	load := func(context.Context, string) (string, error) {
		n := calls.Add(1)
		if n > 1 {
			<-gate
		}
		return fmt.Sprint("v", n), nil
	}
	first, _ := process(t, c, cfg)
	_, err := first.Get(t.Context(), "k", load)
	require.NoError(t, err)
	time.Sleep(110 * time.Millisecond)

	var wg sync.WaitGroup
	for range 4 {
		cc, _ := process(t, c, cfg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := cc.Get(t.Context(), "k", load)
			assert.NoError(t, err)
			assert.Equal(t, "v1", v, "the stale value is served while refreshing")
		}()
	}
	wg.Wait()
	close(gate)
	assert.Eventually(t, func() bool {
		v, err := c.base.Get(t.Context(), c.prefix+"{t:v0:k}").Result()
		return err == nil && len(v) > 2 && v[len(v)-4:] == `"v2"`
	}, 2*time.Second, 5*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	assert.EqualValues(t, 2, calls.Load(), "one refresh for the whole cluster")
}

func TestRedis_VersionChange(t *testing.T) {
	type v1 struct{ Name string }
	type v2 struct{ Names []string }
	c := newCluster(t)
	old, _ := process(t, c, cache.Config[int, v1]{Namespace: "user", Version: 1})
	_, err := old.Get(t.Context(), 1, func(context.Context, int) (v1, error) { return v1{Name: "a"}, nil })
	require.NoError(t, err)
	var decodeErrs atomic.Int64
	cur, _ := process(t, c, cache.Config[int, v2]{Namespace: "user", Version: 2, Hooks: cache.Hooks{
		OnError: func(op cache.Op, err error) { decodeErrs.Add(1) },
	}})
	got, err := cur.Get(t.Context(), 1, func(context.Context, int) (v2, error) { return v2{Names: []string{"a", "b"}}, nil })
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, got.Names)
	assert.Zero(t, decodeErrs.Load())
}

func TestRedis_GetManyIsOneRoundTripEachWay(t *testing.T) {
	c := newCluster(t)
	client := c.client(t, "")
	var single, pipelines atomic.Int64
	client.AddHook(countHook{single: &single, pipelines: &pipelines})
	cc := newCache(t, c.store(t, client, rediscache.Config{}), cache.Config[int, string]{})
	other, _ := process(t, c, cache.Config[int, string]{})
	require.NoError(t, other.Set(t.Context(), 1, "one"))
	// Load the scripts on the server, so that the count is not about that.
	_, err := cc.GetMany(t.Context(), []int{-1, -2}, func(context.Context, []int) (map[int]string, error) {
		return map[int]string{-1: "x"}, nil
	})
	require.NoError(t, err)
	single.Store(0)
	pipelines.Store(0)

	var batches int
	var got map[int]string
	got, err = cc.GetMany(t.Context(), []int{1, 2, 3, 4}, func(_ context.Context, keys []int) (map[int]string, error) {
		batches++
		assert.ElementsMatch(t, []int{2, 3, 4}, keys)
		return map[int]string{2: "two", 3: "three"}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, map[int]string{1: "one", 2: "two", 3: "three"}, got)
	assert.Equal(t, 1, batches)
	assert.EqualValues(t, 2, pipelines.Load(), "one fetch pipeline, one write pipeline")
	assert.Zero(t, single.Load())

	got, err = other.GetMany(t.Context(), []int{2, 3, 4}, func(context.Context, []int) (map[int]string, error) {
		t.Error("everything, including the absent key, was stored")
		return nil, nil
	})
	require.NoError(t, err)
	assert.Equal(t, map[int]string{2: "two", 3: "three"}, got)
}

type countHook struct{ single, pipelines *atomic.Int64 }

func (h countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.single.Add(1)
		return next(ctx, cmd)
	}
}
func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.pipelines.Add(1)
		return next(ctx, cmds)
	}
}

// Two caches of one process on one Store (the sharing the package doc
// shows) see each other's writes and deletions at once: the store hands its
// own invalidations to all its caches before it publishes them, and skips
// only their echo from Redis.
func TestRedis_CachesSharingAStoreSeeEachOthersInvalidations(t *testing.T) {
	c := newCluster(t)
	s := c.store(t, c.client(t, ""), rediscache.Config{})
	a := newCache(t, s, cache.Config[string, string]{Namespace: "user"})
	b := newCache(t, s, cache.Config[string, string]{Namespace: "user"})
	other, _ := process(t, c, cache.Config[string, string]{Namespace: "user"})
	ctx := t.Context()
	loads := 0
	load := func(v string) cache.Loader[string, string] {
		return func(context.Context, string) (string, error) { loads++; return v, nil }
	}
	for _, cc := range []*cache.Cache[string, string]{a, b} {
		v, err := cc.Get(ctx, "k", load("v1"))
		require.NoError(t, err)
		require.Equal(t, "v1", v)
	}
	require.Equal(t, 1, loads, "b read a's value from the store")

	require.NoError(t, a.Set(ctx, "k", "v2"))
	v, err := b.Get(ctx, "k", load("never"))
	require.NoError(t, err)
	assert.Equal(t, "v2", v, "b dropped its copy when a set the key")

	require.NoError(t, b.Delete(ctx, "k"))
	v, err = a.Get(ctx, "k", load("v3"))
	require.NoError(t, err)
	assert.Equal(t, "v3", v, "a dropped its copy when b deleted the key")

	// Another process still learns through Redis.
	v, err = other.Get(ctx, "k", load("never"))
	require.NoError(t, err)
	require.Equal(t, "v3", v)
	require.NoError(t, a.Delete(ctx, "k"))
	assert.Eventually(t, func() bool {
		v, err := other.Get(ctx, "k", func(context.Context, string) (string, error) { return "v4", nil })
		return err == nil && v == "v4"
	}, 5*time.Second, time.Millisecond, "the other process dropped its copy")
}
