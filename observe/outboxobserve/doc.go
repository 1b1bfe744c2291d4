// Package outboxobserve turns the hooks of an
// [github.com/bedrock-go/bedrock/outbox] relay into OpenTelemetry metrics:
// messages claimed, published (with the lag from commit to claim, the one
// number to alert on), failed, dead-lettered, and the relay's own errors.
//
//	cfg.Hooks, err = outboxobserve.Hooks(mp, "orders")
//	cfg.Hooks = outboxobserve.Logged(cfg.Hooks, log, "orders")
//
// [Logged] adds log lines for publish failures, relay errors (both
// sampled) and dead letters, which otherwise show only as counters.
//
// It compiles pgx because outbox does; a service that uses outbox has it
// already. Message ids, keys and payloads are never recorded. Like every
// adapter under observe/, it builds its instruments and attribute sets
// once, so a hook call allocates nothing, and a nil meter provider means
// the global one (which observe.Setup installs).
package outboxobserve
