// Package cache is a typed cache-aside: Get returns a key's value from an
// in-process tier, else from a shared [Store] (Redis, with
// [github.com/bedrock-go/bedrock/cache/rediscache]), else from a loader whose
// result it stores in both.
//
//	users, err := cache.New(store, cache.Config[int64, User]{
//		Namespace: "user", Version: 2, TTL: 5 * time.Minute, Stale: time.Minute,
//	})
//	u, err := users.Get(ctx, id, func(ctx context.Context, id int64) (User, error) {
//		u, err := db.User(ctx, id)
//		if errors.Is(err, sql.ErrNoRows) {
//			return User{}, cache.ErrNotFound // cached for Config.NegativeTTL
//		}
//		return u, err
//	})
//
// # One load per key
//
// Concurrent misses on a key in a process share one load (single-flight).
// The load runs on its own goroutine with a context detached from the caller
// that started it: a caller that gives up returns at once with its own
// ctx.Err(), the others keep waiting, and the load is cancelled only when no
// caller waits any more. A caller that comes after that starts a new load; it
// never joins a cancelled one.
//
// Across processes, a miss takes the key's lease in the store (one atomic
// step with the read). The holder loads and writes the value only if its
// lease is still current; the other processes poll briefly for the value
// instead of loading. Delete voids leases, so a slow loader can never write
// back a value older than a deletion or than a newer write. If the holder
// dies, its lease expires and one waiter takes over.
//
// # Freshness
//
// A value is fresh for Config.TTL, spread by ±Config.Jitter so that keys
// loaded together do not expire together. Before it expires, reads refresh it
// early in the background with a probability that rises as expiry nears
// (XFetch, Config.EarlyRefreshBeta), so a hot key is reloaded once instead of
// missing for all its readers at once. After TTL, for Config.Stale, the stale
// value is served while one background refresh runs (one per cluster, under
// the store's lease); failed refreshes back off exponentially while the stale
// value keeps being served.
//
// A loader returns [ErrNotFound] for a key without a value: that answer is
// cached for Config.NegativeTTL, so lookups of absent ids do not reach the
// source more than once per id. Other loader errors are never cached.
//
// # Invalidation
//
// [Cache.Delete] removes keys from both tiers and, with a [Broadcaster] store,
// from the local tier of every process. A process whose notification channel
// drops flushes its local tier, and again when it reconnects, so its
// staleness is bounded by the outage rather than by TTL. Config.LocalTTL caps
// local freshness further.
//
// The broadcast carries the changes made through Bedrock caches. For values
// that other programs change in Redis too (another service, a script,
// redis-cli), the Redis store can also follow Redis's own reports of changed
// keys (server-assisted client-side caching): see the Tracking field of
// [github.com/bedrock-go/bedrock/cache/rediscache.Config].
//
// # Tags
//
// An entry can carry tags, from Config.Tags or from its loader
// ([EntryControl.Tag]); [Cache.InvalidateTags] drops every entry carrying
// one of them, in every cache sharing the store and in every process, in one
// store round trip and without scanning keys. The store keeps a sequence
// number per tag ([TagStore]); an entry records the number known when its
// load started and is served only while none of its tags was invalidated
// after it, so a load that raced an invalidation never installs its value.
//
//	pages, err := cache.New(store, cache.Config[string, Page]{Namespace: "page"})
//	p, err := pages.Get(ctx, "category/7", func(ctx context.Context, key string) (Page, error) {
//		page, products, err := renderCategory(ctx, 7)
//		e := cache.EntryOf(ctx)
//		e.Tag("category:7")
//		for _, id := range products {
//			e.Tag("product:" + id)
//		}
//		return page, err
//	})
//	err = pages.InvalidateTags(ctx, "product:42") // after product 42 changed
//
// # Loader-chosen TTL
//
// A loader may set its value's TTL ([EntryControl.SetTTL], from an upstream
// Cache-Control or a row's expiry) or forbid caching it
// ([EntryControl.NoCache]); Jitter and Stale apply on top. In a
// BatchLoader, [EntryFor] decides per key. [Cache.SetWith] sets a value
// with its own TTL and tags.
//
// # Degradation
//
// Each store call has a time budget (Config.StoreTimeout). A store that fails
// or is slow is bypassed for Config.StoreCooldown: reads fall back to the
// local tier and the loader, still one load per key in the process, and
// return no error for the store. Delete and Set do report store failures,
// since a lost invalidation must not pass silently. [Hooks] report every
// absorbed failure.
//
// # Versions
//
// Store keys are Namespace:vVersion:key, and values carry a small header
// (format, stale tail, load time) before the [Codec]'s bytes (JSON by
// default). Bumping Config.Version when a value's type changes means a new
// deploy never decodes the old deploy's bytes; bytes that fail to decode are
// treated as a miss and overwritten.
package cache
