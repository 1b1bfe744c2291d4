package cache_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

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
	caches := []*cache.Cache[int, string]{
		newCache(t, store, cache.Config[int, string]{}),
		newCache(t, store, cache.Config[int, string]{}),
	}
	src := &source{vals: map[int]int{}}
	const keys, goroutines, ops = 32, 64, 300
	var wrong atomic.Int64
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
						wrong.Add(1)
					}
				case 1:
					if _, err := c.GetMany(t.Context(), []int{k, (k + 1) % keys, (k + 2) % keys}, src.loadMany); err != nil {
						wrong.Add(1)
					}
				default:
					v, err := c.Get(t.Context(), k, src.load)
					if err != nil && err != cache.ErrNotFound || err == nil && v == "" {
						wrong.Add(1)
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
