package ratelimit

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// MiddlewareConfig configures a [Middleware].
type MiddlewareConfig struct {
	// Key names the client a request counts against. Required; see
	// [KeyByClientIP], [KeyByContext], [KeyByAPIKey] and [FirstKey].
	Key KeyFunc
	// Cost is the number of events a request counts as. Nil means 1. A
	// cost the limits could never admit is answered with 429 and no
	// Retry-After.
	Cost func(r *http.Request) int
	// LegacyHeaders adds X-RateLimit-Limit, X-RateLimit-Remaining and
	// X-RateLimit-Reset (seconds until reset) for clients that predate the
	// RateLimit fields. Off by default.
	LegacyHeaders bool
	// Limited writes the response to a request that was not admitted; the
	// rate-limit headers and Retry-After are already set. Nil means a 429
	// application/problem+json document.
	Limited func(w http.ResponseWriter, r *http.Request, res Result)
	// Error writes the response when no decision could be made. Nil means
	// a problem document: 400 when the request lacks what the limit is
	// keyed by (err matches [ErrNoKey]: a header, or a principal) or its
	// key is unusable ([ErrInvalidKey], e.g. a header over [MaxKeyLen]);
	// 500 when the server cannot name the client ([ErrNoClientIP]: a
	// deployment problem, such as a proxy on a Unix socket the config
	// does not trust) or for a bad cost or limit (a bug); and 503 when the
	// store failed. Never 401: a rate limit authenticates no one, and a
	// 401 would owe the client a WWW-Authenticate challenge. A limit keyed
	// by principal belongs behind the authentication middleware, whose own
	// 401 carries that challenge.
	Error func(w http.ResponseWriter, r *http.Request, err error)
}

// Middleware admits HTTP requests through a [Limiter]. Most callers want
// [Middleware.Handler], which wraps a handler; [Middleware.Allow] makes
// the same decision for a caller that answers by itself. A Middleware is
// safe for concurrent use and may wrap any number of handlers, which then
// share its limits.
type Middleware struct {
	l   *Limiter
	cfg MiddlewareConfig
}

// NewMiddleware returns the middleware that admits requests through l
// with cfg. It fails with [ErrInvalidConfig] when l or cfg.Key is nil.
func NewMiddleware(l *Limiter, cfg MiddlewareConfig) (*Middleware, error) {
	if l == nil {
		return nil, fmt.Errorf("%w: middleware needs a Limiter", ErrInvalidConfig)
	}
	if cfg.Key == nil {
		return nil, fmt.Errorf("%w: middleware needs a Key function", ErrInvalidConfig)
	}
	if cfg.Limited == nil {
		cfg.Limited = writeLimited
	}
	if cfg.Error == nil {
		cfg.Error = writeError
	}
	return &Middleware{l: l, cfg: cfg}, nil
}

// decision is what deciding on a request learns: the result, and what
// the response fields are written from.
type decision struct {
	res      Result
	set      *limitSet // the precompiled limits, nil with LimitsFor
	limits   []Limit
	cost     int
	capacity int
}

// Allow decides whether r is admitted, and counts it if so, exactly as
// Handler would, but writes nothing: a denial is a Result with Allowed
// false. The error matches [ErrNoKey] (or [ErrNoClientIP]) or
// [ErrInvalidKey] when the request names no usable client,
// [ErrCostExceedsBurst] when its cost could never be admitted,
// [ErrInvalidCost] or [ErrInvalidLimit] for a bug in Cost or LimitsFor,
// and is the store's error when the store failed.
func (m *Middleware) Allow(r *http.Request) (Result, error) {
	d, err := m.decide(r)
	return d.res, err
}

func (m *Middleware) decide(r *http.Request) (decision, error) {
	var d decision
	key, err := m.cfg.Key(r)
	if err != nil {
		return d, err
	}
	d.cost = 1
	if m.cfg.Cost != nil {
		d.cost = m.cfg.Cost(r)
	}
	if d.set, d.limits, d.capacity, err = m.l.limitsOf(key); err != nil {
		return d, err
	}
	req := Request{Key: key, Limits: d.limits, Cost: d.cost}
	d.res, err = m.l.run(r.Context(), &req, d.set, d.capacity)
	return d, err
}

// Handler returns next behind the limit. Every response carries the
// RateLimit-Policy and RateLimit fields of
// draft-ietf-httpapi-ratelimit-headers (for the limit that decided), and
// optionally the legacy X-RateLimit-* fields; a 429 also carries
// Retry-After, in whole seconds rounded up. A degraded decision (the store
// unreachable and its policy deciding) carries no rate-limit fields, only
// Retry-After on a denial. With static limits, writing the fields costs
// one allocation.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := m.decide(r)
		if err != nil {
			if errors.Is(err, ErrCostExceedsBurst) && d.cost > d.capacity {
				writeTooExpensive(w, d.cost, d.capacity)
				return
			}
			m.cfg.Error(w, r, err)
			return
		}
		res := d.res
		if !res.Degraded {
			policy := ""
			if d.set != nil {
				policy = d.set.policy
			} else {
				policy = policyHeader(d.limits)
			}
			writeHeaders(w.Header(), policy, d.limits, res, m.cfg.LegacyHeaders)
		} else if !res.Allowed && res.RetryAfter > 0 {
			w.Header().Set(headerRetryAfter, strconv.FormatInt(ceilSeconds(res.RetryAfter), 10))
		}
		if !res.Allowed {
			m.cfg.Limited(w, r, res)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeLimited(w http.ResponseWriter, _ *http.Request, res Result) {
	problem.Write(w, problem.Details{Status: http.StatusTooManyRequests, Detail: limitedDetail(res)})
}

// limitedDetail tells the client when to retry in the whole seconds of
// Retry-After, rounded up alike, rather than as a Go duration.
func limitedDetail(res Result) string {
	if res.RetryAfter <= 0 {
		return "Rate limit exceeded."
	}
	s := retrySeconds(res)
	if s == 1 {
		return "Rate limit exceeded; retry after 1 second."
	}
	return "Rate limit exceeded; retry after " + strconv.FormatInt(s, 10) + " seconds."
}

func writeTooExpensive(w http.ResponseWriter, cost, capacity int) {
	problem.Write(w, problem.Details{
		Status: http.StatusTooManyRequests,
		Detail: fmt.Sprintf("The request costs %d, more than the limit's capacity of %d; it can never be admitted.", cost, capacity),
	})
}

func writeError(w http.ResponseWriter, _ *http.Request, err error) {
	switch {
	case errors.Is(err, ErrNoClientIP):
		problem.Write(w, problem.Details{Status: http.StatusInternalServerError, Detail: "The server cannot tell which client sent the request."})
	case errors.Is(err, ErrNoKey):
		problem.Write(w, problem.Details{Status: http.StatusBadRequest, Detail: "The request does not identify its client."})
	case errors.Is(err, ErrInvalidKey):
		problem.Write(w, problem.Details{Status: http.StatusBadRequest, Detail: "The request's client key is unusable."})
	case errors.Is(err, ErrInvalidCost), errors.Is(err, ErrInvalidLimit), errors.Is(err, ErrCostExceedsBurst):
		problem.Write(w, problem.Details{Status: http.StatusInternalServerError})
	default:
		problem.Write(w, problem.Details{Status: http.StatusServiceUnavailable, Detail: "Rate limiting is unavailable."})
	}
}
