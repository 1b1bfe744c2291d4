// Package observe wires OpenTelemetry into a Bedrock service: traces and
// metrics with their exporters, slog records that carry the trace, HTTP
// server and client instrumentation, health endpoints, and adapters that
// turn the hooks of Bedrock's packages into metrics.
//
// # Setup
//
// [Setup] builds the tracer and meter providers from a [Config] and the
// standard OTEL_* environment variables, installs them globally together
// with the W3C trace-context and baggage propagators (the default global
// propagator does nothing, so without this traces silently stop at every
// service boundary), and returns a [Telemetry] whose Shutdown flushes.
//
// # HTTP
//
// [Middleware] gives every request a span named by its route pattern (never
// the raw path, whose cardinality is unbounded), the semantic-convention
// duration histogram and in-flight gauge, a request id, an access log line,
// and panic recovery that answers 500 problem+json (without the headers the
// handler had set for the response it never sent). Build it with
// [NewMiddleware], serve through [Middleware.Handler] outermost, and wrap
// the router itself with [Router]:
//
//	h := mw.Handler(authn.Handler(observe.Router(mux)))
//
// Router is what lets the route through middlewares that pass on a copy
// of the request, as authentication does: the mux sets the pattern on the
// request it receives, which the outer middleware would otherwise never
// see. [Transport] does the same as the middleware for outgoing calls and
// propagates the trace.
//
// A request continues its caller's trace only when
// [MiddlewareConfig.TrustRemoteTrace] says so; by default every request
// starts a trace of its own and links the one its traceparent named, so
// that a client on a public endpoint cannot choose the trace id of the
// server's logs, force sampling, or inject baggage.
//
// # Health
//
// [Health] serves /livez and /readyz from named checks with timeouts and a
// result cache, so a storm of probes does not become a storm of database
// pings; [GracefulShutdown] drains a server behind a load balancer. A
// service that is not ready answers 503 with an RFC 9457 problem listing
// each check's state; check errors, which often name internal addresses,
// go to the log and appear in the answer only with
// [HealthConfig.ShowErrors].
//
// # Runtime and profiling
//
// [RuntimeMetrics] reports the Go runtime (goroutines, memory, GC) as
// OpenTelemetry metrics under the semantic-convention names; [Setup]
// registers it on the provider it builds. [ProfilingHandler] serves
// /debug/pprof/ for a separate, opt-in admin listener on loopback or a
// private network, never the public mux; unlike net/http/pprof it
// registers nothing on http.DefaultServeMux.
//
// # Adapters
//
// Each Bedrock package reports what it does through a small hooks struct,
// nil by default. The adapters that fill those structs with OpenTelemetry
// instruments live in sub-packages, one per adapted package
// (observe/cacheobserve, observe/resilienceobserve, ...), so that this
// package imports no other Bedrock package and no database or Redis
// driver: a service compiles only the adapters, and the drivers, it uses.
package observe
