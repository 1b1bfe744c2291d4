package app

import (
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/apikey"
	"github.com/bedrock-go/bedrock/auth/token"
	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/observe"
	"github.com/bedrock-go/bedrock/resilience"

	"github.com/bedrock-go/bedrock/examples/service/internal/access"
	"github.com/bedrock-go/bedrock/examples/service/internal/web"
)

// stack is what the middleware around every route needs.
type stack struct {
	Log      *slog.Logger
	Verifier *token.Verifier
	APIKeys  *apikey.Keys
	// CORSOrigins may read responses from browsers; none when empty.
	CORSOrigins  []string
	MaxBodyBytes int64 // 1 MiB when zero
	// Telemetry traces and measures every request (the global OpenTelemetry
	// providers when nil).
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Shedder refuses what the service cannot serve in time; none when nil.
	// OnAdmitted is Options.OnAdmitted.
	Shedder    *resilience.Shedder
	OnAdmitted func(*http.Request)
}

// systemRoutes registers the routes that belong to no domain: health,
// metrics and the token verification keys. The OpenAPI document is
// registered last, once every domain has described its routes.
func systemRoutes(r *web.Router, health *observe.Health, metrics http.Handler, ring *token.KeyRing) {
	r.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	r.Handle("GET /readyz", health.Readyz())
	r.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if metrics == nil {
			httpapi.Problem{Status: http.StatusNotFound, Detail: "Metrics are not exported as Prometheus here; set OTEL_METRICS_EXPORTER=prometheus."}.Write(w)
			return
		}
		metrics.ServeHTTP(w, r)
	})
	r.Handle("GET /.well-known/jwks.json", token.JWKSHandler(ring, 0))
}

// wrap returns the routes inside the middleware every request goes
// through.
func wrap(routes *web.Router, d stack) (http.Handler, error) {
	tokenAuth := token.Authenticator[access.Claims](d.Verifier, token.AuthenticatorConfig[access.Claims]{
		Principal: access.Principal,
		Skip:      d.APIKeys.IsKey,
	})
	authn, err := auth.NewMiddleware(auth.MiddlewareConfig{
		Authenticators: []auth.Authenticator{d.APIKeys.Authenticator(), tokenAuth},
		Realm:          "shop",
		Hooks: auth.Hooks{OnFailure: func(r *http.Request, err error) {
			d.Log.InfoContext(r.Context(), "credential refused", slog.String("path", r.URL.Path), slog.Any("reason", err))
		}},
	})
	if err != nil {
		return nil, err
	}
	// Outermost first: security headers on every answer, refusals included;
	// CORS answers preflights before anything else runs; oversized bodies
	// are refused before authentication spends any work.
	headers, err := httpsec.NewHeaders(httpsec.HeadersConfig{})
	if err != nil {
		return nil, err
	}
	body, err := httpsec.NewBodyLimit(httpsec.BodyLimitConfig{MaxBytes: d.MaxBodyBytes})
	if err != nil {
		return nil, err
	}
	// observe.Router hands the matched route (and the principal auth put
	// in the request's context) back to observe's middleware outside:
	// authn passes on a copy of the request, on which the mux sets the
	// pattern.
	h := body.Handler(authn.Handler(observe.Router(routes.Mux())))
	h = shed(h, d)
	if len(d.CORSOrigins) > 0 {
		// Bearer tokens only, never cookies: no AllowCredentials. Frontends
		// may send the trace context of browser tracing and their own
		// request id, and read the request id (to quote in error reports)
		// and WWW-Authenticate (to tell an expired token from a bad one).
		cors, err := httpsec.NewCORS(httpsec.CORSConfig{
			AllowedOrigins: d.CORSOrigins,
			AllowedMethods: []string{"GET", "POST", "PUT", "DELETE"},
			AllowedHeaders: []string{"Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match",
				"If-Modified-Since", "X-API-Key", observe.RequestIDHeader},
			AllowTraceContext: true,
			ExposedHeaders: []string{"ETag", "Link", "Location", "Retry-After", "Idempotent-Replayed", "RateLimit", "RateLimit-Policy",
				observe.RequestIDHeader, "WWW-Authenticate", "Deprecation", "Sunset"},
		})
		if err != nil {
			return nil, err
		}
		h = cors.Handler(h)
	}
	h = headers.Handler(h)
	// Outermost: every request gets a span named by its route, a request
	// id, the duration histogram and one access-log line with the trace id.
	instrument, err := observe.NewMiddleware(observe.MiddlewareConfig{
		TracerProvider: d.TracerProvider, MeterProvider: d.MeterProvider,
		Logger:    d.Log,
		Principal: func(r *http.Request) string { return auth.SubjectFrom(r.Context()) },
	})
	if err != nil {
		return nil, err
	}
	return instrument.Handler(h), nil
}

// shed puts the load shedder in front of h: inside the security headers
// and CORS, which cost little and let a browser read a refusal's
// Retry-After, and observe's middleware, which logs and counts refusals;
// outside authentication and rate limits, whose work is what a refusal
// saves.
func shed(h http.Handler, d stack) http.Handler {
	if hold := d.OnAdmitted; hold != nil {
		next := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hold(r)
			next.ServeHTTP(w, r)
		})
	}
	if d.Shedder == nil {
		return h
	}
	return d.Shedder.Handler(h)
}
