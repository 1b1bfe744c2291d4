package resilience

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// ShedderConfig configures a [Shedder]. Every zero field has the default
// written in its comment.
type ShedderConfig struct {
	// Priority derives a request's priority (health checks and login
	// critical, list endpoints sheddable, ...). A value outside the three
	// priorities counts as [PriorityNormal]. Default: every request is
	// PriorityNormal.
	Priority func(r *http.Request) Priority
	// RetryAfter is the wait a refused client is asked for, sent as
	// Retry-After in whole seconds (rounded up). Default 1s.
	RetryAfter time.Duration
}

// Shedder is HTTP middleware that admits requests through an
// [AdaptiveLimiter] and refuses the ones it cannot serve in time with
// 503 Service Unavailable, a Retry-After header and a problem document,
// lowest priority first: under pressure sheddable requests are refused (or
// evicted from the queue) before normal ones, and critical requests take
// every slot that frees up, so that they keep flowing.
//
// A request whose context ends while it is served (the client gave up or
// its deadline passed) counts as dropped, which shrinks the limit; a
// handler that panics is not measured. Refusing allocates nothing.
//
// Build one with [NewShedder] and serve through [Shedder.Handler]. Put it
// outermost but for logging and metrics, so that a refused request costs
// as little as possible. A Shedder is safe for concurrent use.
type Shedder struct {
	l          *AdaptiveLimiter
	priority   func(*http.Request) Priority
	retryAfter []string
	refusal    *problem.Rendered
}

// NewShedder returns a Shedder admitting requests through l. It returns an
// error matching [ErrInvalidConfig] for a nil l or a negative RetryAfter.
func NewShedder(l *AdaptiveLimiter, cfg ShedderConfig) (*Shedder, error) {
	if l == nil {
		return nil, configError("limiter", "nil")
	}
	if cfg.RetryAfter < 0 {
		return nil, configError("RetryAfter", "%v is negative", cfg.RetryAfter)
	}
	if cfg.RetryAfter == 0 {
		cfg.RetryAfter = time.Second
	}
	secs := int64((cfg.RetryAfter + time.Second - 1) / time.Second)
	return &Shedder{
		l:          l,
		priority:   cfg.Priority,
		retryAfter: []string{strconv.FormatInt(secs, 10)},
		refusal: problem.Render(problem.Details{
			Status: http.StatusServiceUnavailable,
			Detail: "The server is overloaded and cannot serve this request now; retry later.",
		}),
	}, nil
}

// Handler returns next behind the shedder.
func (s *Shedder) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := PriorityNormal
		if s.priority != nil {
			if p = s.priority(r); !p.valid() {
				p = PriorityNormal
			}
		}
		ctx := r.Context()
		permit, err := s.l.acquire(ctx, p)
		if err != nil {
			w.Header()["Retry-After"] = s.retryAfter
			s.refusal.Write(w)
			return
		}
		s.serve(w, r, next, permit, ctx)
	})
}

func (s *Shedder) serve(w http.ResponseWriter, r *http.Request, next http.Handler, permit Permit, ctx context.Context) {
	o := OutcomeIgnored // a panic: free the slot, measure nothing
	defer func() { permit.Release(o) }()
	next.ServeHTTP(w, r)
	switch err := ctx.Err(); {
	case err == nil:
		o = OutcomeSuccess
	case errors.Is(err, context.DeadlineExceeded):
		o = OutcomeFailure
	default:
		o = OutcomeIgnored
	}
}
