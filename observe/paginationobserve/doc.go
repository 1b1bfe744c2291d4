// Package paginationobserve counts the cursors a
// [github.com/bedrock-go/bedrock/pagination] Pager refuses, by reason, as
// an OpenTelemetry metric; a rise in forged signatures is worth an alert.
//
//	cfg.Hooks, err = paginationobserve.Hooks(mp)
//
// Cursors are never recorded. Like every adapter under observe/, it builds
// its instruments and attribute sets once, so a hook call allocates
// nothing, and a nil meter provider means the global one (which
// observe.Setup installs).
package paginationobserve
