package cachetest_test

import (
	"context"
	"fmt"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/cachetest"
)

// A MemoryStore stands in for Redis in the tests of code that uses a cache
// with a store: two caches on it are two processes, and a change made
// through one leaves the other's local tier, by key or by tag.
func ExampleNewMemoryStore() {
	ctx := context.Background()
	store, err := cachetest.NewMemoryStore(cachetest.MemoryStoreConfig{})
	if err != nil {
		panic(err)
	}
	version := 1
	load := func(_ context.Context, id int) (string, error) {
		return fmt.Sprintf("product %d v%d", id, version), nil
	}
	newCache := func() *cache.Cache[int, string] {
		c, err := cache.New(store, cache.Config[int, string]{
			Namespace: "product", Load: load,
			Tags: func(id int, _ string) []string { return []string{fmt.Sprintf("product:%d", id)} },
		})
		if err != nil {
			panic(err)
		}
		return c
	}
	a, b := newCache(), newCache()
	defer a.Close()
	defer b.Close()

	v, _ := b.Get(ctx, 42, nil)
	fmt.Println(v)
	version = 2 // the source changes, and a invalidates the product's tag
	if err := a.InvalidateTags(ctx, "product:42"); err != nil {
		panic(err)
	}
	v, _ = b.Get(ctx, 42, nil)
	fmt.Println(v)
	// Output:
	// product 42 v1
	// product 42 v2
}
