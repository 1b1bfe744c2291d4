// Package redislimitobserve counts the rate-limit decisions the Redis
// store of [github.com/bedrock-go/bedrock/ratelimit/redislimit] could not
// make, by the policy that decided instead, as an OpenTelemetry metric. A
// fail-open limiter that counts here is not limiting at all.
//
//	storeCfg.Hooks, err = redislimitobserve.Hooks(mp, "api")
//
// It is apart from observe/ratelimitobserve so that observing the
// in-memory limiter never compiles go-redis. Like every adapter under
// observe/, it builds its instruments and attribute sets once, so a hook
// call allocates nothing, and a nil meter provider means the global one
// (which observe.Setup installs).
package redislimitobserve
