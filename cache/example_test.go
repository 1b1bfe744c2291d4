package cache_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bedrock-go/bedrock/cache"
)

type User struct {
	ID   int64
	Name string
}

var users = map[int64]User{1: {ID: 1, Name: "Ada"}}

func loadUser(_ context.Context, id int64) (User, error) {
	u, ok := users[id]
	if !ok {
		return User{}, cache.ErrNotFound
	}
	return u, nil
}

// A local-only cache: pass a cache.Store (such as rediscache's) instead of
// nil to share values, leases and invalidations across processes.
func Example() {
	c, err := cache.New(nil, cache.Config[int64, User]{TTL: 5 * time.Minute, Stale: time.Minute})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()

	u, err := c.Get(ctx, 1, loadUser)
	fmt.Println(u.Name, err)

	_, err = c.Get(ctx, 2, loadUser)
	fmt.Println(errors.Is(err, cache.ErrNotFound))
	// Output:
	// Ada <nil>
	// true
}

func ExampleCache_GetMany() {
	c, err := cache.New(nil, cache.Config[int64, User]{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	found, err := c.GetMany(context.Background(), []int64{1, 2}, func(_ context.Context, ids []int64) (map[int64]User, error) {
		out := make(map[int64]User)
		for _, id := range ids {
			if u, ok := users[id]; ok {
				out[id] = u
			}
		}
		return out, nil // id 2 is absent: cached as not found
	})
	fmt.Println(len(found), found[1].Name, err)
	// Output: 1 Ada <nil>
}

func ExampleCache_Delete() {
	c, err := cache.New(nil, cache.Config[string, int]{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()
	version := 1
	load := func(context.Context, string) (int, error) { return version, nil }

	v, _ := c.Get(ctx, "config", load)
	version = 2
	cached, _ := c.Get(ctx, "config", load)
	_ = c.Delete(ctx, "config")
	reloaded, _ := c.Get(ctx, "config", load)
	fmt.Println(v, cached, reloaded)
	// Output: 1 1 2
}

// Pages tagged by what they show: invalidating a product drops its page and
// every list showing it, and nothing else.
func ExampleCache_InvalidateTags() {
	pages, err := cache.New(nil, cache.Config[string, string]{TTL: time.Hour})
	if err != nil {
		panic(err)
	}
	defer pages.Close()
	ctx := context.Background()
	renders := 0
	render := func(ctx context.Context, key string) (string, error) {
		renders++
		switch key {
		case "product/42":
			cache.EntryOf(ctx).Tag("product:42")
		case "category/7":
			cache.EntryOf(ctx).Tag("category:7", "product:42", "product:43")
		case "category/8":
			cache.EntryOf(ctx).Tag("category:8", "product:44")
		}
		return fmt.Sprintf("%s (render %d)", key, renders), nil
	}
	for _, key := range []string{"product/42", "category/7", "category/8"} {
		_, _ = pages.Get(ctx, key, render)
	}
	_ = pages.InvalidateTags(ctx, "product:42") // product 42 changed
	for _, key := range []string{"product/42", "category/7", "category/8"} {
		p, _ := pages.Get(ctx, key, render)
		fmt.Println(p)
	}
	// Output:
	// product/42 (render 4)
	// category/7 (render 5)
	// category/8 (render 3)
}

// A loader sets the TTL of what it loads, here from an upstream
// Cache-Control header, or says not to cache it.
func ExampleEntryControl_SetTTL() {
	c, err := cache.New(nil, cache.Config[string, string]{TTL: time.Minute})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	maxAge := map[string]time.Duration{"rates": time.Hour, "quote": 0} // from Cache-Control
	fetches := 0
	fetch := func(ctx context.Context, key string) (string, error) {
		fetches++
		cache.EntryOf(ctx).SetTTL(maxAge[key]) // 0: no-store, not cached
		return key + " body", nil
	}
	ctx := context.Background()
	for range 2 {
		_, _ = c.Get(ctx, "rates", fetch)
		_, _ = c.Get(ctx, "quote", fetch)
	}
	fmt.Println("upstream fetches:", fetches)
	// Output: upstream fetches: 3
}
