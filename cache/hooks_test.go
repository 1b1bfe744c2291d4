package cache_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
)

// events records hook calls.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *events) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.list
	e.list = nil
	return out
}

func (e *events) hooks() cache.Hooks {
	return cache.Hooks{
		OnHit:   func(t cache.Tier) { e.add("hit:" + t.String()) },
		OnMiss:  func() { e.add("miss") },
		OnStale: func() { e.add("stale") },
		OnLoad: func(_ time.Duration, err error) {
			if err != nil {
				e.add("load:" + err.Error())
				return
			}
			e.add("load")
		},
		OnError: func(op cache.Op, err error) { e.add("error:" + op.String()) },
	}
}

func TestHooks(t *testing.T) {
	store := newMemStore()
	var ev events
	a := newCache(t, store, cache.Config[string, string]{Hooks: ev.hooks()})
	b := newCache(t, store, cache.Config[string, string]{Hooks: ev.hooks()})
	ctx := t.Context()

	_, err := a.Get(ctx, "k", staticLoad)
	require.NoError(t, err)
	assert.Equal(t, []string{"miss", "load"}, ev.take())

	_, err = a.Get(ctx, "k", staticLoad)
	require.NoError(t, err)
	assert.Equal(t, []string{"hit:local"}, ev.take())

	_, err = b.Get(ctx, "k", staticLoad)
	require.NoError(t, err)
	assert.Equal(t, []string{"miss", "hit:store"}, ev.take())

	_, err = a.Get(ctx, "gone", func(context.Context, string) (string, error) { return "", cache.ErrNotFound })
	assert.ErrorIs(t, err, cache.ErrNotFound)
	assert.Equal(t, []string{"miss", "load:cache: not found"}, ev.take())

	store.failWith(errors.New("down"))
	_, err = a.Get(ctx, "other", staticLoad)
	require.NoError(t, err)
	assert.Equal(t, []string{"miss", "error:fetch", "load"}, ev.take())
}
