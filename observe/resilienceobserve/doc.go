// Package resilienceobserve turns the hooks of
// [github.com/bedrock-go/bedrock/resilience] into OpenTelemetry metrics:
// breaker transitions and rejections, retries and give-ups, bulkhead
// rejections and hedged requests, calls shed by an adaptive limiter per
// priority and changes of its limit, and calls refused by a throttler;
// [Breaker], [Bulkhead] and [AdaptiveLimiter] report a breaker's state, a
// bulkhead's occupancy, and an adaptive limiter's limit, in-flight and
// queued calls when metrics are collected.
//
//	cfg.Hooks, err = resilienceobserve.BreakerHooks(mp, "payments")
//	reg, err := resilienceobserve.Breaker(mp, "payments", breaker)
//
// State-like values are read at collection rather than pushed from hooks,
// so concurrent transitions cannot leave a stale value. Like every adapter
// under observe/, it builds its instruments and attribute sets once, so a
// hook call allocates nothing, and a nil meter provider means the global
// one (which observe.Setup installs).
package resilienceobserve
