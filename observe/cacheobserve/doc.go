// Package cacheobserve turns the hooks of
// [github.com/bedrock-go/bedrock/cache] into OpenTelemetry metrics: hits
// per tier, misses, stale serves, loader durations and the store failures
// the cache absorbed.
//
//	cfg.Hooks, err = cacheobserve.Hooks(mp, "products")
//
// Keys are never recorded; the cache's name, a constant chosen in code, is
// the bedrock.cache.name attribute. Like every adapter under observe/, it
// builds its instruments and attribute sets once, so a hook call allocates
// nothing, and a nil meter provider means the global one (which
// observe.Setup installs).
package cacheobserve
