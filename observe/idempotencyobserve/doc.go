// Package idempotencyobserve turns the hooks of
// [github.com/bedrock-go/bedrock/idempotency] into OpenTelemetry metrics:
// replayed responses, conflicts, mismatched reuses of a key, store
// failures and lost locks.
//
//	cfg.Hooks, err = idempotencyobserve.Hooks(mp)
//
// The Idempotency-Key is never recorded. Like every adapter under
// observe/, it builds its instruments and attribute sets once, so a hook
// call allocates nothing, and a nil meter provider means the global one
// (which observe.Setup installs).
package idempotencyobserve
