// Package txnobserve turns the hooks of
// [github.com/bedrock-go/bedrock/txn] into OpenTelemetry metrics and span
// events: transaction attempts by outcome, their duration, and retries by
// reason (serialization failure, deadlock, lock not available, ...).
//
//	cfg.Hooks, err = txnobserve.Hooks(mp)
//
// It compiles pgx because txn does. Labels (txn.Label) must be constants,
// like span names. Like every adapter under observe/, it builds its
// instruments and attribute sets once, so a hook call allocates nothing,
// and a nil meter provider means the global one (which observe.Setup
// installs).
package txnobserve
