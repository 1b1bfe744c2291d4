package observe

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// Check reports whether a dependency is usable; it must honour ctx.
type Check func(ctx context.Context) error

// CheckOptions configure one registered check.
type CheckOptions struct {
	// Timeout bounds one run; 2s when zero, and negative is an error.
	Timeout time.Duration
	// TTL caches the result, so a storm of probes does not become a storm
	// of pings; 1s when zero, and negative is an error.
	TTL time.Duration
	// NonCritical checks are reported but do not make /readyz fail.
	NonCritical bool
}

// HealthConfig configures [NewHealth]. The zero value hides check errors
// from /readyz and logs them with slog.Default.
type HealthConfig struct {
	// ShowErrors puts each failed check's error text in /readyz answers.
	// Off by default: /readyz is often reachable from outside, and a
	// driver's error names internal addresses ("dial tcp 10.0.0.5:5432:
	// connect: connection refused"). Turn it on only where the endpoint
	// is private.
	ShowErrors bool
	// Logger receives a Warn record with the error when a check starts
	// failing, and an Info record when it recovers (not one per probe),
	// so that errors hidden from /readyz still reach operators.
	// slog.Default when nil.
	Logger *slog.Logger
}

// Health serves /livez and /readyz. The zero value is not usable; call
// [NewHealth]. It is safe for concurrent use.
type Health struct {
	mu       sync.Mutex
	checks   map[string]*check
	order    []string
	draining atomic.Bool
	now      func() time.Time
	cfg      HealthConfig
}

type check struct {
	name string
	fn   Check
	opts CheckOptions

	mu      sync.Mutex
	at      time.Time
	err     error
	latency time.Duration
	// timedOut is set when the check failed after its own deadline, which
	// drivers report with errors of their own ("i/o timeout").
	timedOut bool
}

// NewHealth returns a Health without checks.
func NewHealth(cfg HealthConfig) *Health {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Health{checks: map[string]*check{}, now: time.Now, cfg: cfg}
}

// Register adds a readiness check under name; registering a name twice
// replaces the check. An empty name, a nil fn or a negative duration in
// opts is refused with an error wrapping [ErrInvalidConfig], and nothing
// is registered.
func (h *Health) Register(name string, fn Check, opts CheckOptions) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty check name", ErrInvalidConfig)
	case fn == nil:
		return fmt.Errorf("%w: nil check %q", ErrInvalidConfig, name)
	case opts.Timeout < 0:
		return fmt.Errorf("%w: check %q: negative Timeout %v", ErrInvalidConfig, name, opts.Timeout)
	case opts.TTL < 0:
		return fmt.Errorf("%w: check %q: negative TTL %v", ErrInvalidConfig, name, opts.TTL)
	}
	opts.Timeout = cmp.Or(opts.Timeout, 2*time.Second)
	opts.TTL = cmp.Or(opts.TTL, time.Second)
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.checks[name]; !ok {
		h.order = append(h.order, name)
	}
	h.checks[name] = &check{name: name, fn: fn, opts: opts}
	return nil
}

// PingCheck checks anything with Ping(ctx) error, such as *pgxpool.Pool
// or *sql.DB, without observe importing its driver. A Redis client's Ping
// returns a command rather than an error: redisobserve.Check adapts it.
func PingCheck(p interface{ Ping(context.Context) error }) Check { return p.Ping }

// SetDraining marks the service not ready (or ready again), whatever its
// checks say; [GracefulShutdown] uses it.
func (h *Health) SetDraining(v bool) { h.draining.Store(v) }

// CheckResult is one check's entry in a [Report].
type CheckResult struct {
	Status    string  `json:"status"` // "ok" or "fail"
	Critical  bool    `json:"critical"`
	LatencyMS float64 `json:"latency_ms"`
	// Error is the check's error text. [Health.Ready] always fills it;
	// /readyz shows it only with HealthConfig.ShowErrors.
	Error  string `json:"error,omitempty"`
	Cached bool   `json:"cached"`
}

// Report is the result of [Health.Ready], and the body of a 200 /readyz.
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
		wg.Go(func() { results[i] = c.run(ctx, h.now, h.cfg.Logger) })
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

func (c *check) run(ctx context.Context, now func() time.Time, log *slog.Logger) CheckResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	cached := true
	if c.at.IsZero() || now().Sub(c.at) >= c.opts.TTL {
		cached = false
		cctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		start := now()
		failedBefore := c.err != nil
		c.err = safeRun(cctx, c.fn)
		if c.err == nil && cctx.Err() != nil {
			c.err = cctx.Err()
		}
		c.timedOut = c.err != nil && errors.Is(cctx.Err(), context.DeadlineExceeded)
		c.latency = now().Sub(start)
		c.at = now()
		cancel()
		c.logTransition(ctx, log, failedBefore)
	}
	r := CheckResult{Status: "ok", Critical: !c.opts.NonCritical, LatencyMS: float64(c.latency.Microseconds()) / 1000, Cached: cached}
	if c.err != nil {
		r.Status, r.Error = "fail", c.err.Error()
		if c.timedOut || errors.Is(c.err, context.DeadlineExceeded) {
			r.Error = "timed out after " + c.opts.Timeout.String()
		}
	}
	return r
}

func (c *check) logTransition(ctx context.Context, log *slog.Logger, failedBefore bool) {
	switch {
	case c.err != nil && !failedBefore:
		log.LogAttrs(ctx, slog.LevelWarn, "readiness check failed", slog.String("check", c.name),
			slog.Bool("critical", !c.opts.NonCritical), slog.String("error", c.err.Error()))
	case c.err == nil && failedBefore:
		log.LogAttrs(ctx, slog.LevelInfo, "readiness check recovered", slog.String("check", c.name))
	}
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

// Readyz answers 200 with the [Report] as JSON when every critical check
// passes and the service is not draining. Otherwise it answers 503 with an
// RFC 9457 problem (application/problem+json) whose extension members are
// "readiness" ("fail" or "draining") and "checks", each check's entry of
// the Report. Check errors appear in neither answer unless
// HealthConfig.ShowErrors is set.
func (h *Health) Readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := h.Ready(r.Context())
		if !h.cfg.ShowErrors {
			for name, c := range rep.Checks {
				c.Error = ""
				rep.Checks[name] = c
			}
		}
		if rep.Status != "ok" {
			problem.Write(w, problem.Details{Status: http.StatusServiceUnavailable, Detail: notReadyDetail(rep),
				Extensions: map[string]any{"readiness": rep.Status, "checks": rep.Checks}})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(rep)
	})
}

func notReadyDetail(rep Report) string {
	if rep.Status == "draining" {
		return "The service is shutting down."
	}
	var failed []string
	for name, c := range rep.Checks {
		if c.Critical && c.Status != "ok" {
			failed = append(failed, name)
		}
	}
	slices.Sort(failed)
	return "Required dependencies are unavailable: " + strings.Join(failed, ", ") + "."
}

// DefaultDrain is the drain delay a service behind a load balancer passes
// to [GracefulShutdown] unless it knows better: long enough for a few
// readiness probes to see 503 and for the balancer to stop sending.
const DefaultDrain = 5 * time.Second

// GracefulShutdown drains srv: it marks h not ready, waits drain (for load
// balancers to notice /readyz) while the listener stays open and new and
// in-flight requests are served, then shuts the server down (it stops
// accepting and lets in-flight requests finish until ctx ends), then runs
// steps in order (stop workers, flush telemetry, close pools), each even
// if an earlier one failed. It returns every error joined. The drain ends
// early if ctx ends; give ctx room for the drain and the shutdown both
// (DefaultDrain plus the longest request). A zero drain does not wait.
func GracefulShutdown(ctx context.Context, srv *http.Server, h *Health, drain time.Duration, steps ...func(context.Context) error) error {
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
	for _, step := range steps {
		if err := step(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
