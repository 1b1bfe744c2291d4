// Package httpsecobserve counts, as OpenTelemetry metrics, what
// [github.com/bedrock-go/bedrock/httpsec] refuses and reloads: requests
// its middleware refuses (CORS, cross-origin protection, host check, body
// limit) by reason, outbound requests its Outbound refuses by reason and
// address class, and the certificate reloads of its ServerTLS by result.
//
//	hooks, err := httpsecobserve.Hooks(mp) // one value for everything in httpsec
//
// Origins, hosts, URLs and addresses come from clients and users and are
// never recorded. Like every adapter under observe/, it builds its
// instruments and attribute sets once, so a hook call allocates nothing,
// and a nil meter provider means the global one (which observe.Setup
// installs).
package httpsecobserve
