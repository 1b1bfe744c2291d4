package app

import (
	"net/http"

	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/observe/resilienceobserve"
	"github.com/bedrock-go/bedrock/resilience"

	"github.com/bedrock-go/bedrock/examples/service/internal/config"
)

// newShedder returns the load shedder in front of the API and the function
// that stops reporting its gauges, or nil and a no-op when cfg.Disabled.
// The limiter learns the service's capacity from its latency; past it,
// lists are refused first (503, Retry-After), then the other requests,
// while health checks and login take every slot that frees up. Its limit,
// in-flight and queued gauges and its refusals per priority are
// bedrock.resilience.limiter.* with bedrock.resilience.name "api".
func newShedder(cfg config.Shed, mp metric.MeterProvider) (*resilience.Shedder, func() error, error) {
	none := func() error { return nil }
	if cfg.Disabled {
		return nil, none, nil
	}
	hooks, err := resilienceobserve.AdaptiveLimiterHooks(mp, "api")
	if err != nil {
		return nil, none, err
	}
	limiter, err := resilience.NewAdaptiveLimiter(resilience.AdaptiveLimiterConfig{InitialLimit: cfg.InitialLimit,
		MaxLimit: cfg.MaxLimit, MaxQueue: cfg.MaxQueue, MaxWait: cfg.MaxWait, Hooks: hooks})
	if err != nil {
		return nil, none, err
	}
	shedder, err := resilience.NewShedder(limiter, resilience.ShedderConfig{Priority: priority, RetryAfter: cfg.RetryAfter})
	if err != nil {
		return nil, none, err
	}
	gauges, err := resilienceobserve.AdaptiveLimiter(mp, "api", limiter)
	if err != nil {
		return nil, none, err
	}
	return shedder, gauges.Unregister, nil
}

// priority ranks a request for the load shedder. The shedder runs before
// routing (a refusal must cost little), so it reads the method and path,
// which for these routes are exact: health checks and login are critical,
// so that the load balancer does not take an overloaded instance out (which
// would overload the others) and users can still sign in; the listings,
// the most expensive reads and the ones a client can most easily repeat
// later, are sheddable; everything else, reads of one resource included, is
// normal.
func priority(r *http.Request) resilience.Priority {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch r.URL.Path {
		case "/livez", "/readyz":
			return resilience.PriorityCritical
		case "/v1/products", "/v0/products", "/v1/orders", "/v1/apikeys":
			return resilience.PrioritySheddable
		}
	case http.MethodPost:
		if r.URL.Path == "/v1/auth/login" {
			return resilience.PriorityCritical
		}
	}
	return resilience.PriorityNormal
}
