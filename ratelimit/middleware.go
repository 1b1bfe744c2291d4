package ratelimit

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// MiddlewareConfig configures [Limiter.Middleware].
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
	// a problem document: 401 when the request names no client (err
	// matches [ErrNoKey]), 400 when its key is unusable ([ErrInvalidKey],
	// e.g. a header over [MaxKeyLen]), 500 for a bad cost or limit (a bug),
	// and 503 when the store failed.
	Error func(w http.ResponseWriter, r *http.Request, err error)
}

// Middleware returns HTTP middleware that admits each request through l.
//
// Every response carries the RateLimit-Policy and RateLimit fields of
// draft-ietf-httpapi-ratelimit-headers (for the limit that decided), and
// optionally the legacy X-RateLimit-* fields; a 429 also carries
// Retry-After, in whole seconds rounded up. A degraded decision (the store
// unreachable and its policy deciding) carries no rate-limit fields, only
// Retry-After on a denial. With
// static limits, writing the headers costs one allocation.
//
// It fails with [ErrInvalidConfig] when cfg.Key is nil.
func (l *Limiter) Middleware(cfg MiddlewareConfig) (func(http.Handler) http.Handler, error) {
	if cfg.Key == nil {
		return nil, fmt.Errorf("%w: middleware needs a Key function", ErrInvalidConfig)
	}
	if cfg.Limited == nil {
		cfg.Limited = writeLimited
	}
	if cfg.Error == nil {
		cfg.Error = writeError
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, err := cfg.Key(r)
			if err != nil {
				cfg.Error(w, r, err)
				return
			}
			cost := 1
			if cfg.Cost != nil {
				cost = cfg.Cost(r)
			}
			set, limits, capacity, err := l.limitsOf(key)
			if err != nil {
				cfg.Error(w, r, err)
				return
			}
			if cost > capacity {
				writeTooExpensive(w, cost, capacity)
				return
			}
			req := Request{Key: key, Limits: limits, Cost: cost}
			res, err := l.run(r.Context(), &req, set, capacity)
			if err != nil {
				cfg.Error(w, r, err)
				return
			}
			if !res.Degraded {
				policy := ""
				if set != nil {
					policy = set.policy
				} else {
					policy = policyHeader(limits)
				}
				writeHeaders(w.Header(), policy, limits, res, cfg.LegacyHeaders)
			} else if !res.Allowed && res.RetryAfter > 0 {
				w.Header().Set(headerRetryAfter, strconv.FormatInt(ceilSeconds(res.RetryAfter), 10))
			}
			if !res.Allowed {
				cfg.Limited(w, r, res)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
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
	case errors.Is(err, ErrNoKey):
		problem.Write(w, problem.Details{Status: http.StatusUnauthorized, Detail: "The request does not identify its client."})
	case errors.Is(err, ErrInvalidKey):
		problem.Write(w, problem.Details{Status: http.StatusBadRequest, Detail: "The request's client key is unusable."})
	case errors.Is(err, ErrInvalidCost), errors.Is(err, ErrInvalidLimit):
		problem.Write(w, problem.Details{Status: http.StatusInternalServerError})
	default:
		problem.Write(w, problem.Details{Status: http.StatusServiceUnavailable, Detail: "Rate limiting is unavailable."})
	}
}
