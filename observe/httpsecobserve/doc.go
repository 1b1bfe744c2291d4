// Package httpsecobserve counts the requests the middleware of
// [github.com/bedrock-go/bedrock/httpsec] refuses (CORS, cross-origin
// protection, host check, body limit), by reason, as an OpenTelemetry
// metric.
//
//	hooks, err := httpsecobserve.Hooks(mp) // one value for every httpsec middleware
//
// Origins and hosts come from the client and are never recorded. Like
// every adapter under observe/, it builds its instruments and attribute
// sets once, so a hook call allocates nothing, and a nil meter provider
// means the global one (which observe.Setup installs).
package httpsecobserve
