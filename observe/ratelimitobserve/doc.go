// Package ratelimitobserve turns the hooks of
// [github.com/bedrock-go/bedrock/ratelimit] into OpenTelemetry metrics:
// decisions per policy, store failures, evictions of the in-memory
// store, and refusals of concurrency quotas.
//
//	cfg.Hooks, err = ratelimitobserve.Hooks(mp, "api")
//
// It never compiles a driver: the Redis store's hooks are in
// observe/redislimitobserve. The key being limited is never recorded. Like
// every adapter under observe/, it builds its instruments and attribute
// sets once, so a hook call allocates nothing, and a nil meter provider
// means the global one (which observe.Setup installs).
package ratelimitobserve
