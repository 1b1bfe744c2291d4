package cache_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
)

// source is a source of truth whose values carry a version.
type source struct {
	mu   sync.Mutex
	vals map[int]int
}

func (s *source) load(_ context.Context, k int) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vals[k]
	if !ok {
		return "", cache.ErrNotFound
	}
	return fmt.Sprint(k, "@", v), nil
}

func (s *source) loadMany(ctx context.Context, keys []int) (map[int]string, error) {
	out := make(map[int]string)
	for _, k := range keys {
		if v, err := s.load(ctx, k); err == nil {
			out[k] = v
		}
	}
	return out, nil
}

// update changes the source, then invalidates, as a writer does.
func (s *source) update(k int) {
	s.mu.Lock()
	if rand.IntN(4) == 0 {
		delete(s.vals, k)
	} else {
		s.vals[k]++
	}
	s.mu.Unlock()
}

func TestStress_MixedOperationsConverge(t *testing.T) {
	store := newMemStore()
	// The store is in memory: a call that outlasts a budget was only
	// descheduled (64 goroutines on one P, under -race, on a busy
	// machine). With the default 100ms budget such a Delete fails, as it
	// should against a slow Redis, and the test would count a scheduler
	// hiccup as a wrong answer. What it checks is convergence, so the
	// budget is one no scheduler reaches.
	cfg := cache.Config[int, string]{StoreTimeout: time.Minute}
	caches := []*cache.Cache[int, string]{
		newCache(t, store, cfg),
		newCache(t, store, cfg),
	}
	src := &source{vals: map[int]int{}}
	const keys, goroutines, ops = 32, 64, 300
	var wrong atomic.Int64
	var firstErr sync.Once
	record := func(op string, err error) {
		wrong.Add(1)
		firstErr.Do(func() { t.Logf("first wrong answer: %s: %v", op, err) })
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := caches[g%len(caches)]
			for range ops {
				k := rand.IntN(keys)
				switch rand.IntN(10) {
				case 0:
					src.update(k)
					if err := c.Delete(t.Context(), k); err != nil {
						record("Delete", err)
					}
				case 1:
					if _, err := c.GetMany(t.Context(), []int{k, (k + 1) % keys, (k + 2) % keys}, src.loadMany); err != nil {
						record("GetMany", err)
					}
				default:
					v, err := c.Get(t.Context(), k, src.load)
					if err != nil && err != cache.ErrNotFound || err == nil && v == "" {
						record(fmt.Sprintf("Get %q", v), err)
					}
				}
			}
		}()
	}
	wg.Wait()
	require.Zero(t, wrong.Load())
	// Once the writers stopped and every update was followed by its Delete,
	// no tier may hold a value older than the source.
	for k := range keys {
		want, wantErr := src.load(t.Context(), k)
		for i, c := range caches {
			got, err := c.Get(t.Context(), k, src.load)
			assert.Equal(t, wantErr, err, "cache %d key %d", i, k)
			assert.Equal(t, want, got, "cache %d key %d", i, k)
		}
	}
}
