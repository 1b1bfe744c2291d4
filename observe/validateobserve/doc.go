// Package validateobserve counts what a
// [github.com/bedrock-go/bedrock/validate] Checker refuses: values that
// broke a rule, and request bodies the decoder refused, by reason, as
// OpenTelemetry metrics.
//
//	cfg.Hooks, err = validateobserve.Hooks(mp)
//
// Field names, values and messages are never recorded. Like every adapter
// under observe/, it builds its instruments and attribute sets once, so a
// hook call allocates nothing, and a nil meter provider means the global
// one (which observe.Setup installs).
package validateobserve
