package cacheobserve

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/internal/otelhook"
)

// Attribute keys of the cache adapter.
const (
	attrCacheName    = attribute.Key("bedrock.cache.name")
	attrCacheTier    = attribute.Key("bedrock.cache.tier")
	attrCacheOp      = attribute.Key("bedrock.cache.operation")
	attrCacheOutcome = attribute.Key("bedrock.cache.load.outcome")
)

// cacheOps is the number of cache.Op values, numbered from OpFetch (0).
const cacheOps = int(cache.OpDecode) + 1

// Hooks returns hooks that record the activity of the Cache called
// name (a constant: it becomes the bedrock.cache.name attribute). Keys are
// never recorded. A nil mp means the global provider.
//
// Metrics:
//   - bedrock.cache.hits ({hit}, counter): fresh values served, with
//     bedrock.cache.tier ("local" or "store").
//   - bedrock.cache.misses ({miss}, counter): lookups that had to wait for
//     a load.
//   - bedrock.cache.stale_serves ({hit}, counter): stale values served
//     while they are refreshed.
//   - bedrock.cache.load.duration (s, histogram): every loader call, with
//     bedrock.cache.load.outcome: ok, not_found, canceled,
//     deadline_exceeded or error.
//   - bedrock.cache.errors ({error}, counter): failures the cache absorbed,
//     with bedrock.cache.operation (fetch, write, delete, encode or decode)
//     and error.type (lease_lost, corrupt, canceled, deadline_exceeded or
//     _OTHER).
//
// The hooks carry no context, so loads are not traced here; trace them in
// the loader, which receives the caller's context.
//
// It fails only if the instruments cannot be created.
func Hooks(mp metric.MeterProvider, name string) (cache.Hooks, error) {
	b := otelhook.New(mp, "cacheobserve")
	hits := b.Counter("bedrock.cache.hits", "{hit}", "Fresh values served by the cache.")
	misses := b.Counter("bedrock.cache.misses", "{miss}", "Cache lookups that waited for a load.")
	stale := b.Counter("bedrock.cache.stale_serves", "{hit}", "Stale values served while refreshed.")
	loads := b.Duration("bedrock.cache.load.duration", "Duration of the cache's loader calls.")
	failures := b.Counter("bedrock.cache.errors", "{error}", "Failures the cache absorbed, by operation.")
	if err := b.Check("cache"); err != nil {
		return cache.Hooks{}, err
	}
	n := attrCacheName.String(name)
	local := otelhook.OptsOf(n, attrCacheTier.String(cache.TierLocal.String()))
	store := otelhook.OptsOf(n, attrCacheTier.String(cache.TierStore.String()))
	plain := otelhook.OptsOf(n)
	var ops [cacheOps]*otelhook.Classifier
	for i := range ops {
		ops[i] = otelhook.NewClassifier(otelhook.AttrErrorType, "_OTHER", otelhook.WithContextClasses(
			otelhook.ErrorClass{Err: cache.ErrLeaseLost, Reason: "lease_lost"},
			otelhook.ErrorClass{Err: cache.ErrCorrupt, Reason: "corrupt"},
		), n, attrCacheOp.String(cache.Op(i).String()))
	}
	ok := otelhook.OptsOf(n, attrCacheOutcome.String("ok"))
	byError := otelhook.NewClassifier(attrCacheOutcome, "error",
		otelhook.WithContextClasses(otelhook.ErrorClass{Err: cache.ErrNotFound, Reason: "not_found"}), n)
	return cache.Hooks{
		OnHit: func(t cache.Tier) {
			o := store
			if t == cache.TierLocal {
				o = local
			}
			hits.Add(context.Background(), 1, o.Add...)
		},
		OnMiss:  func() { misses.Add(context.Background(), 1, plain.Add...) },
		OnStale: func() { stale.Add(context.Background(), 1, plain.Add...) },
		OnLoad: func(d time.Duration, err error) {
			o := ok
			if err != nil {
				o = byError.Of(err)
			}
			loads.Record(context.Background(), d.Seconds(), o.Record...)
		},
		OnError: func(op cache.Op, err error) {
			if int(op) < cacheOps {
				failures.Add(context.Background(), 1, ops[op].Of(err).Add...)
			}
		},
	}, nil
}
