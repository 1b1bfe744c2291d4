package observe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Check reports whether a dependency is usable; it must honour ctx.
type Check func(ctx context.Context) error

// CheckOptions configure one registered check.
type CheckOptions struct {
	// Timeout bounds one run; 2s when zero.
	Timeout time.Duration
	// TTL caches the result, so a storm of probes does not become a storm
	// of pings; 1s when zero.
	TTL time.Duration
	// NonCritical checks are reported but do not make /readyz fail.
	NonCritical bool
}

// Health serves /livez and /readyz. The zero value is not usable; call
// [NewHealth]. It is safe for concurrent use.
type Health struct {
	mu       sync.Mutex
	checks   map[string]*check
	order    []string
	draining atomic.Bool
	now      func() time.Time
}

type check struct {
	fn   Check
	opts CheckOptions

	mu      sync.Mutex
	at      time.Time
	err     error
	latency time.Duration
}

// NewHealth returns an empty Health.
func NewHealth() *Health {
	return &Health{checks: map[string]*check{}, now: time.Now}
}

// Register adds a readiness check under name; registering a name twice
// replaces the check.
func (h *Health) Register(name string, fn Check, opts CheckOptions) {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.TTL <= 0 {
		opts.TTL = time.Second
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.checks[name]; !ok {
		h.order = append(h.order, name)
	}
	h.checks[name] = &check{fn: fn, opts: opts}
}

// PingCheck checks anything with Ping(ctx) error, such as *pgxpool.Pool.
func PingCheck(p interface{ Ping(context.Context) error }) Check { return p.Ping }

// RedisCheck checks a Redis client with PING.
func RedisCheck(c redis.UniversalClient) Check {
	return func(ctx context.Context) error { return c.Ping(ctx).Err() }
}

// SetDraining marks the service not ready (or ready again), whatever its
// checks say; [GracefulShutdown] uses it.
func (h *Health) SetDraining(v bool) { h.draining.Store(v) }

// CheckResult is one check's entry in the /readyz body.
type CheckResult struct {
	Status    string  `json:"status"` // "ok" or "fail"
	Critical  bool    `json:"critical"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
	Cached    bool    `json:"cached"`
}

// Report is the /readyz body.
type Report struct {
	Status string                 `json:"status"` // "ok", "fail" or "draining"
	Checks map[string]CheckResult `json:"checks"`
}

// Ready runs (or reads from cache) every check concurrently and reports.
func (h *Health) Ready(ctx context.Context) Report {
	h.mu.Lock()
	names := slices.Clone(h.order)
	checks := make([]*check, len(names))
	for i, n := range names {
		checks[i] = h.checks[n]
	}
	h.mu.Unlock()

	results := make([]CheckResult, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { results[i] = c.run(ctx, h.now) })
	}
	wg.Wait()
	rep := Report{Status: "ok", Checks: make(map[string]CheckResult, len(names))}
	for i, n := range names {
		rep.Checks[n] = results[i]
		if results[i].Status != "ok" && results[i].Critical {
			rep.Status = "fail"
		}
	}
	if h.draining.Load() {
		rep.Status = "draining"
	}
	return rep
}

func (c *check) run(ctx context.Context, now func() time.Time) CheckResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	cached := true
	if c.at.IsZero() || now().Sub(c.at) >= c.opts.TTL {
		cached = false
		cctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		start := now()
		c.err = safeRun(cctx, c.fn)
		if c.err == nil && cctx.Err() != nil {
			c.err = cctx.Err()
		}
		c.latency = now().Sub(start)
		c.at = now()
		cancel()
	}
	r := CheckResult{Status: "ok", Critical: !c.opts.NonCritical, LatencyMS: float64(c.latency.Microseconds()) / 1000, Cached: cached}
	if c.err != nil {
		r.Status, r.Error = "fail", c.err.Error()
		if errors.Is(c.err, context.DeadlineExceeded) {
			r.Error = "timed out after " + c.opts.Timeout.String()
		}
	}
	return r
}

// safeRun turns a panicking check into a failed one.
func safeRun(ctx context.Context, fn Check) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("check panicked: %v", v)
		}
	}()
	return fn(ctx)
}

// Livez answers 200 while the process can serve HTTP at all.
func (h *Health) Livez() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
}

// Readyz answers 200 when every critical check passes and the service is
// not draining, 503 otherwise, with the [Report] as JSON.
func (h *Health) Readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := h.Ready(r.Context())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if rep.Status != "ok" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(rep)
	})
}

// GracefulShutdown drains srv: it marks h not ready, waits drain (for load
// balancers to notice /readyz), shuts the server down (letting in-flight
// requests finish until ctx ends), then runs hooks in order (stop workers,
// flush telemetry, close pools). It returns every error joined.
func GracefulShutdown(ctx context.Context, srv *http.Server, h *Health, drain time.Duration, hooks ...func(context.Context) error) error {
	if h != nil {
		h.SetDraining(true)
	}
	if drain > 0 {
		t := time.NewTimer(drain)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	var errs []error
	if srv != nil {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("observe: server shutdown: %w", err))
		}
	}
	for _, hook := range hooks {
		if err := hook(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
