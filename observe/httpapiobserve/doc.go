// Package httpapiobserve counts, as an OpenTelemetry metric, the calls
// to routes that [github.com/bedrock-go/bedrock/httpapi] marks as
// deprecated, by deprecation name and by whether the route was already
// past its sunset (answered 410 Gone): a team sees who still calls what
// it is retiring, and when the count reaches zero.
//
//	cfg.Hooks, err = httpapiobserve.Hooks(mp) // httpapi.DeprecationConfig
//
// Clients, paths and versions a client names are never recorded; the
// deprecation name comes from the configuration. Like every adapter under
// observe/, it builds its instruments and attribute sets once, so a hook
// call allocates nothing, and a nil meter provider means the global one
// (which observe.Setup installs).
package httpapiobserve
