package cache_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
)

func TestStore_DownFallsBackToLocalAndLoader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore()
		store.failWith(errDown)
		var storeErrs atomic.Int64
		c := newCache(t, store, cache.Config[string, string]{
			StoreCooldown: time.Second,
			Hooks:         cache.Hooks{OnError: func(op cache.Op, err error) { storeErrs.Add(1) }},
		})
		var l counter
		for range 5 {
			v, err := c.Get(t.Context(), "k", l.load)
			require.NoError(t, err, "a store failure is not the caller's error")
			assert.Equal(t, "k-v1", v)
		}
		assert.EqualValues(t, 1, l.n.Load(), "the local tier serves while the store is down")
		assert.EqualValues(t, 1, store.fetches.Load(), "the store is bypassed during the cooldown")
		assert.EqualValues(t, 1, storeErrs.Load())

		// Still one load per key in the process while degraded.
		var wg sync.WaitGroup
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.Get(t.Context(), "other", l.load)
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
		assert.EqualValues(t, 2, l.n.Load())

		// After the cooldown the store is tried again.
		store.failWith(nil)
		time.Sleep(time.Second)
		_, err := c.Get(t.Context(), "third", l.load)
		require.NoError(t, err)
		_, ok := store.get("t:v0:third")
		assert.True(t, ok, "the recovered store is written again")
	})
}

func TestStore_SlowStoreBoundedByTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore()
		store.hang.Store(true)
		c := newCache(t, store, cache.Config[string, string]{StoreTimeout: 50 * time.Millisecond})
		start := time.Now()
		v, err := c.Get(t.Context(), "k", staticLoad)
		require.NoError(t, err)
		assert.Equal(t, "value of k", v)
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "one store timeout, then the loader")
	})
}

func TestStore_CallerCancellationIsNotAStoreFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore()
		store.delay.Store(int64(20 * time.Millisecond))
		var storeErrs atomic.Int64
		c := newCache(t, store, cache.Config[string, string]{
			Hooks: cache.Hooks{OnError: func(cache.Op, error) { storeErrs.Add(1) }},
		})
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
		defer cancel()
		_, err := c.Get(ctx, "k", staticLoad)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		synctest.Wait()
		assert.Zero(t, storeErrs.Load())
		// The store was not put in cooldown: the next read uses it.
		_, err = c.Get(t.Context(), "k2", staticLoad)
		require.NoError(t, err)
		assert.EqualValues(t, 2, store.fetches.Load())
	})
}

func TestStore_LeaseGivesOneLoadAcrossProcesses(t *testing.T) {
	store := newMemStore()
	const procs, perProc = 8, 100
	caches := make([]*cache.Cache[string, string], procs)
	for i := range caches {
		caches[i] = newCache(t, store, cache.Config[string, string]{})
	}
	var calls atomic.Int64
	load := func(context.Context, string) (string, error) {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		return "v", nil
	}
	var wg sync.WaitGroup
	for _, c := range caches {
		for range perProc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := c.Get(t.Context(), "cold", load)
				assert.NoError(t, err)
				assert.Equal(t, "v", v)
			}()
		}
	}
	wg.Wait()
	assert.EqualValues(t, 1, calls.Load())
}

func TestStore_LeaseHolderFailureLetsAnotherLoad(t *testing.T) {
	store := newMemStore()
	a := newCache(t, store, cache.Config[string, string]{})
	b := newCache(t, store, cache.Config[string, string]{})
	started := make(chan struct{})
	fail := make(chan struct{})
	go func() {
		_, err := a.Get(t.Context(), "k", func(context.Context, string) (string, error) {
			close(started)
			<-fail
			return "", errors.New("source error")
		})
		assert.Error(t, err)
	}()
	<-started
	got := make(chan string)
	go func() {
		v, err := b.Get(t.Context(), "k", staticLoad)
		assert.NoError(t, err)
		got <- v
	}()
	time.Sleep(5 * time.Millisecond) // b is now waiting on a's lease
	close(fail)
	select {
	case v := <-got:
		assert.Equal(t, "value of k", v)
	case <-time.After(500 * time.Millisecond):
		t.Fatal("the waiter did not take over the released lease (the lease lasts 1s)")
	}
}

func TestStore_DeleteBetweenLoadAndSetWins(t *testing.T) {
	store := newMemStore()
	a := newCache(t, store, cache.Config[string, string]{})
	b := newCache(t, store, cache.Config[string, string]{})
	for i := range 1000 {
		key := fmt.Sprint("k", i)
		v, err := a.Get(t.Context(), key, func(ctx context.Context, k string) (string, error) {
			// The source changes and another process deletes the key while
			// this load is in flight.
			require.NoError(t, b.Delete(ctx, k))
			return "old", nil
		})
		require.NoError(t, err)
		require.Equal(t, "old", v, "the caller still gets the value it asked for")
		_, inStore := store.get("t:v0:" + key)
		require.False(t, inStore, "the slow load must not overwrite the deletion")
		v, err = a.Get(t.Context(), key, func(context.Context, string) (string, error) { return "new", nil })
		require.NoError(t, err)
		require.Equal(t, "new", v, "the local tier must not keep the old value")
	}
}

func TestStore_LocalDeleteDuringLoadIsNotUndone(t *testing.T) {
	c := newCache(t, nil, cache.Config[string, string]{})
	v, err := c.Get(t.Context(), "k", func(ctx context.Context, k string) (string, error) {
		require.NoError(t, c.Delete(ctx, k))
		return "old", nil
	})
	require.NoError(t, err)
	assert.Equal(t, "old", v)
	v, err = c.Get(t.Context(), "k", func(context.Context, string) (string, error) { return "new", nil })
	require.NoError(t, err)
	assert.Equal(t, "new", v)
}

func TestStore_InvalidationReachesOtherLocalTiers(t *testing.T) {
	store := newMemStore()
	a := newCache(t, store, cache.Config[string, string]{})
	b := newCache(t, store, cache.Config[string, string]{})
	var l counter
	_, err := a.Get(t.Context(), "k", l.load)
	require.NoError(t, err)
	v, err := b.Get(t.Context(), "k", l.load)
	require.NoError(t, err)
	require.Equal(t, "k-v1", v, "b got a's value from the store")

	require.NoError(t, a.Delete(t.Context(), "k"))
	v, err = b.Get(t.Context(), "k", l.load)
	require.NoError(t, err)
	assert.Equal(t, "k-v2", v, "b's local copy was dropped")

	require.NoError(t, a.Set(t.Context(), "k", "set-by-a"))
	v, err = b.Get(t.Context(), "k", l.load)
	require.NoError(t, err)
	assert.Equal(t, "set-by-a", v, "a Set also drops other local copies")

	store.Announce(cache.Invalidation{All: true})
	store.failWith(errDown)
	v, err = b.Get(t.Context(), "k", l.load)
	require.NoError(t, err)
	assert.Equal(t, "k-v3", v, "a flush empties the local tier")
}

func TestStore_DeleteReportsStoreFailure(t *testing.T) {
	store := newMemStore()
	c := newCache(t, store, cache.Config[string, string]{})
	store.failWith(errDown)
	err := c.Delete(t.Context(), "k")
	assert.ErrorIs(t, err, errDown)
	err = c.Set(t.Context(), "k", "v")
	assert.ErrorIs(t, err, errDown)
}

type userV1 struct {
	Name string `json:"name"`
}

type userV2 struct {
	Name  []string `json:"name"`
	Email string   `json:"email"`
}

func TestStore_VersionChangeNeverDecodesOldBytes(t *testing.T) {
	store := newMemStore()
	var decodeErrs atomic.Int64
	hooks := cache.Hooks{OnError: func(op cache.Op, err error) {
		if op == cache.OpDecode {
			decodeErrs.Add(1)
		}
	}}
	v1 := newCache(t, store, cache.Config[int, userV1]{Namespace: "user", Version: 1, Hooks: hooks})
	_, err := v1.Get(t.Context(), 7, func(context.Context, int) (userV1, error) { return userV1{Name: "Ada"}, nil })
	require.NoError(t, err)

	v2 := newCache(t, store, cache.Config[int, userV2]{Namespace: "user", Version: 2, Hooks: hooks})
	got, err := v2.Get(t.Context(), 7, func(context.Context, int) (userV2, error) {
		return userV2{Name: []string{"Ada", "Lovelace"}, Email: "ada@example.com"}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, "ada@example.com", got.Email, "the new deploy loads instead of decoding v1 bytes")
	assert.Zero(t, decodeErrs.Load())

	// Both deploys keep working side by side.
	old, err := v1.Get(t.Context(), 7, nil)
	require.NoError(t, err)
	assert.Equal(t, "Ada", old.Name)
}

func TestStore_CorruptEntryIsReloaded(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"one byte", []byte{0xB1}},
		{"unknown format", []byte("{\"name\":\"x\"}")},
		{"truncated header", []byte{0xB1, 0, 0x80}},
		{"bad payload", []byte{0xB1, 0, 0, 0, '{'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newMemStore()
			store.put("t:v0:k", tc.data, time.Minute)
			var decodeErrs atomic.Int64
			c := newCache(t, store, cache.Config[string, userV1]{Hooks: cache.Hooks{OnError: func(op cache.Op, err error) {
				if op == cache.OpDecode && errors.Is(err, cache.ErrCorrupt) {
					decodeErrs.Add(1)
				}
			}}})
			v, err := c.Get(t.Context(), "k", func(context.Context, string) (userV1, error) { return userV1{Name: "fresh"}, nil })
			require.NoError(t, err)
			assert.Equal(t, "fresh", v.Name)
			assert.EqualValues(t, 1, decodeErrs.Load())
			other := newCache(t, store, cache.Config[string, userV1]{})
			v, err = other.Get(t.Context(), "k", func(context.Context, string) (userV1, error) {
				t.Error("the corrupt entry was not overwritten")
				return userV1{}, nil
			})
			require.NoError(t, err)
			assert.Equal(t, "fresh", v.Name)
		})
	}
}

func TestStore_StaleValueInStoreIsServedAndRefreshedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore()
		cfg := cache.Config[string, string]{TTL: time.Minute, Stale: time.Minute, Jitter: -1, EarlyRefreshBeta: -1}
		a := newCache(t, store, cfg)
		var l counter
		_, err := a.Get(t.Context(), "k", l.load)
		require.NoError(t, err)
		time.Sleep(time.Minute + time.Second)
		// Fresh processes with empty local tiers see the stale value while
		// one of them refreshes it.
		gate := make(chan struct{})
		slow := func(ctx context.Context, k string) (string, error) {
			<-gate
			return l.load(ctx, k)
		}
		var wg sync.WaitGroup
		for range 4 {
			p := newCache(t, store, cfg)
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := p.Get(t.Context(), "k", slow)
				assert.NoError(t, err)
				assert.Equal(t, "k-v1", v)
			}()
		}
		wg.Wait()
		close(gate)
		synctest.Wait()
		assert.EqualValues(t, 2, l.n.Load(), "one refresh for the cluster")
		b, ok := store.get("t:v0:k")
		require.True(t, ok)
		assert.Contains(t, string(b), "k-v2")
	})
}

func TestGetMany(t *testing.T) {
	store := newMemStore()
	c := newCache(t, store, cache.Config[int, string]{})
	var batches [][]int
	var mu sync.Mutex
	load := func(_ context.Context, keys []int) (map[int]string, error) {
		mu.Lock()
		batches = append(batches, append([]int(nil), keys...))
		mu.Unlock()
		out := map[int]string{}
		for _, k := range keys {
			if k%2 == 0 {
				out[k] = fmt.Sprint("v", k)
			}
		}
		return out, nil
	}
	_, err := c.Get(t.Context(), 2, func(context.Context, int) (string, error) { return "v2", nil })
	require.NoError(t, err)
	fetches, writes := store.fetches.Load(), store.writes.Load()

	got, err := c.GetMany(t.Context(), []int{1, 2, 3, 4, 4, 6}, load)
	require.NoError(t, err)
	assert.Equal(t, map[int]string{2: "v2", 4: "v4", 6: "v6"}, got)
	require.Len(t, batches, 1, "one loader call for the misses")
	assert.ElementsMatch(t, []int{1, 3, 4, 6}, batches[0])
	assert.EqualValues(t, 1, store.fetches.Load()-fetches, "one store fetch")
	assert.EqualValues(t, 1, store.writes.Load()-writes, "one store write")

	// Everything, including "not found", is now cached.
	got, err = c.GetMany(t.Context(), []int{1, 2, 3, 4, 6}, load)
	require.NoError(t, err)
	assert.Len(t, got, 3)
	assert.Len(t, batches, 1)

	// Another process finds them in the store.
	other := newCache(t, store, cache.Config[int, string]{})
	got, err = other.GetMany(t.Context(), []int{1, 4, 6}, load)
	require.NoError(t, err)
	assert.Equal(t, map[int]string{4: "v4", 6: "v6"}, got)
	assert.Len(t, batches, 1)
}

func TestGetMany_LoaderErrorAndDegradedStore(t *testing.T) {
	store := newMemStore()
	c := newCache(t, store, cache.Config[int, string]{})
	boom := errors.New("boom")
	_, err := c.GetMany(t.Context(), []int{1, 2}, func(context.Context, []int) (map[int]string, error) { return nil, boom })
	assert.ErrorIs(t, err, boom)

	store.failWith(errDown)
	got, err := c.GetMany(t.Context(), []int{1, 2}, func(_ context.Context, keys []int) (map[int]string, error) {
		return map[int]string{1: "a", 2: "b"}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, map[int]string{1: "a", 2: "b"}, got)
}

func TestGetMany_JoinsLoadsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCache(t, nil, cache.Config[int, string]{})
		release := make(chan struct{})
		var single atomic.Int64
		go func() {
			_, _ = c.Get(t.Context(), 1, func(context.Context, int) (string, error) {
				single.Add(1)
				<-release
				return "from Get", nil
			})
		}()
		synctest.Wait()
		done := make(chan map[int]string)
		var batchKeys []int
		go func() {
			got, err := c.GetMany(t.Context(), []int{1, 2}, func(_ context.Context, keys []int) (map[int]string, error) {
				batchKeys = keys
				return map[int]string{1: "from batch", 2: "b"}, nil
			})
			assert.NoError(t, err)
			done <- got
		}()
		synctest.Wait()
		close(release)
		got := <-done
		assert.Equal(t, map[int]string{1: "from Get", 2: "b"}, got)
		assert.Equal(t, []int{2}, batchKeys)
	})
}

func TestGetMany_CancelledCallerReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCache(t, nil, cache.Config[int, string]{})
		var cancelled atomic.Bool
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			_, err := c.GetMany(ctx, []int{1, 2}, func(ctx context.Context, _ []int) (map[int]string, error) {
				<-ctx.Done()
				cancelled.Store(true)
				return nil, ctx.Err()
			})
			done <- err
		}()
		synctest.Wait()
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
		synctest.Wait()
		assert.True(t, cancelled.Load(), "the batch load is cancelled once nobody waits")
	})
}

func TestNew_RejectsBadConfig(t *testing.T) {
	type point struct{ X, Y int }
	store := newMemStore()
	for _, tc := range []struct {
		name  string
		field string
		make  func() error
	}{
		{"negative TTL", "TTL", func() error {
			_, err := cache.New(nil, cache.Config[string, int]{TTL: -1})
			return err
		}},
		{"jitter of 1", "Jitter", func() error {
			_, err := cache.New(nil, cache.Config[string, int]{Jitter: 1})
			return err
		}},
		{"infinite beta", "EarlyRefreshBeta", func() error {
			_, err := cache.New(nil, cache.Config[string, int]{EarlyRefreshBeta: math.Inf(1)})
			return err
		}},
		{"negative version", "Version", func() error {
			_, err := cache.New(nil, cache.Config[string, int]{Version: -1})
			return err
		}},
		{"store without namespace", "Namespace", func() error {
			_, err := cache.New(store, cache.Config[string, int]{})
			return err
		}},
		{"hash tag in namespace", "Namespace", func() error {
			_, err := cache.New(store, cache.Config[string, int]{Namespace: "a{b}"})
			return err
		}},
		{"struct key without KeyString", "KeyString", func() error {
			_, err := cache.New(store, cache.Config[point, int]{Namespace: "p"})
			return err
		}},
		{"struct key without ParseKey on a broadcasting store", "ParseKey", func() error {
			_, err := cache.New(store, cache.Config[point, int]{Namespace: "p", KeyString: func(p point) string { return fmt.Sprint(p) }})
			return err
		}},
		{"no local tier without store", "LocalSize", func() error {
			_, err := cache.New(nil, cache.Config[string, int]{LocalSize: -1})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.make()
			require.ErrorIs(t, err, cache.ErrInvalidConfig)
			var ce *cache.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.field, ce.Field)
		})
	}
}
