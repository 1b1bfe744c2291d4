package redislimit

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/internal/redisclient"
	"github.com/bedrock-go/bedrock/ratelimit"
)

//go:embed script.lua
var scriptSource string

// ErrUnavailable reports that Redis could not be reached within the budget
// and the store fails closed.
var ErrUnavailable = errors.New("redislimit: redis unavailable")

// ErrInvalidConfig reports a bad [Config].
var ErrInvalidConfig = errors.New("redislimit: invalid config")

// Policy is what a [Store] does when Redis is unreachable, too slow, or
// refusing work (LOADING, READONLY, BUSY, ...).
type Policy uint8

const (
	// FailOpen admits every event while Redis is unavailable, with a
	// Result whose Degraded is true and whose Limit is zero. It keeps the
	// service up at the price of not limiting during the outage.
	FailOpen Policy = iota
	// FailClosed returns an error matching [ErrUnavailable]; the middleware
	// answers 503. It protects what lies behind the limiter at the price of
	// availability.
	FailClosed
	// FallBack decides with Config.Fallback (typically a ratelimit.Memory):
	// each process then limits on its own, which keeps a per-process bound
	// during the outage. Results are marked Degraded.
	FallBack
)

// String returns the policy's name.
func (p Policy) String() string {
	switch p {
	case FailOpen:
		return "fail-open"
	case FailClosed:
		return "fail-closed"
	case FallBack:
		return "fall-back"
	}
	return "Policy(" + strconv.Itoa(int(p)) + ")"
}

// Config configures a [Store].
type Config struct {
	// Prefix starts every key. It must not contain '{' or '}', which
	// delimit the hash tag. Empty means "ratelimit:".
	Prefix string
	// Timeout is the budget of one decision, after which Redis counts as
	// unavailable. Zero means 100ms; negative means no budget of the store's
	// own (the client's timeouts and the caller's context still apply).
	Timeout time.Duration
	// WhenUnavailable chooses the behaviour when Redis is unavailable. The
	// zero value is FailOpen. A caller's cancelled context is never treated
	// as unavailability: its error is returned as is.
	WhenUnavailable Policy
	// Fallback decides when WhenUnavailable is FallBack; required then.
	Fallback ratelimit.Store
	// Hooks observe the store; a nil callback costs nothing.
	Hooks Hooks
}

// Hooks observe a [Store]. They run on the caller's goroutine and must be
// safe for concurrent use.
type Hooks struct {
	// OnUnavailable is called for each decision Redis could not make, with
	// the error and the policy that decided instead.
	OnUnavailable func(err error, policy Policy)
}

// Store is a [ratelimit.Store] in Redis: one Lua script per decision (one
// round trip; EVALSHA, falling back to EVAL when the server lost the script),
// timed by the Redis server's clock so that every process agrees on time,
// with keys that share a hash tag per limited key so that it works on Redis
// Cluster, and a TTL on every key so that idle keys vanish. It is safe for
// concurrent use.
type Store struct {
	client  redis.UniversalClient
	script  *redis.Script
	prefix  string
	timeout time.Duration
	policy  Policy
	backup  ratelimit.Store
	hooks   Hooks

	leaseScript *redis.Script

	argMu    sync.RWMutex
	argCache map[ratelimit.Limit][]any
}

var _ ratelimit.Store = (*Store)(nil)

const defaultTimeout = 100 * time.Millisecond

// New returns a store using client (a *redis.Client, *redis.ClusterClient,
// *redis.Ring, ...). It fails with [ErrInvalidConfig] when cfg is unusable,
// and when client is a go-redis client without ContextTimeoutEnabled, which
// every Redis-backed package of Bedrock refuses: without it neither the
// Timeout budget nor the caller's deadline can interrupt a slow Redis.
func New(client redis.UniversalClient, cfg Config) (*Store, error) {
	if err := redisclient.Check(client, ErrInvalidConfig); err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "ratelimit:"
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		return nil, fmt.Errorf("%w: prefix %q contains a brace", ErrInvalidConfig, cfg.Prefix)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	switch cfg.WhenUnavailable {
	case FailOpen, FailClosed:
	case FallBack:
		if cfg.Fallback == nil {
			return nil, fmt.Errorf("%w: FallBack needs a Fallback store", ErrInvalidConfig)
		}
	default:
		return nil, fmt.Errorf("%w: unknown policy %v", ErrInvalidConfig, cfg.WhenUnavailable)
	}
	s := &Store{
		client:      client,
		script:      redis.NewScript(scriptSource),
		leaseScript: redis.NewScript(leaseSource),
		prefix:      cfg.Prefix,
		timeout:     cfg.Timeout,
		policy:      cfg.WhenUnavailable,
		backup:      cfg.Fallback,
		hooks:       cfg.Hooks,

		argCache: make(map[ratelimit.Limit][]any),
	}
	return s, nil
}

// Key returns the Redis key holding the state of limit i for key: the key is
// the hash tag, so all limits of one key live in one cluster slot, and the
// algorithm is part of the name, so changing it starts afresh. Braces and
// '%' in key are percent-escaped, so that the tag is always the whole key
// and two keys never share a name.
func (s *Store) Key(key string, i int, algo ratelimit.Algorithm) string {
	key = redisclient.HashTag(key)
	var b strings.Builder
	b.Grow(len(s.prefix) + len(key) + 8)
	b.WriteString(s.prefix)
	b.WriteByte('{')
	b.WriteString(key)
	b.WriteString("}:")
	b.WriteString(strconv.Itoa(i))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(int(algo)))
	return b.String()
}

// Do implements [ratelimit.Store].
func (s *Store) Do(ctx context.Context, req ratelimit.Request) (ratelimit.Result, error) {
	if err := req.Validate(); err != nil {
		return ratelimit.Result{}, err
	}
	keys := make([]string, len(req.Limits))
	args := make([]any, 0, 4+5*len(req.Limits))
	var now, taken any = "-1", 0 // "-1": the server's clock; a constant boxes for free
	if !req.Now.IsZero() {
		now = req.Now.UnixMicro()
	}
	if req.Op == ratelimit.OpRefund {
		taken = req.TakenAt.UnixMicro()
	}
	args = append(args, int(req.Op), req.Cost, now, taken)
	for i, l := range req.Limits {
		keys[i] = s.Key(req.Key, i, l.Algorithm)
		args = append(args, s.limitArgs(l)...)
	}

	callCtx, start := ctx, time.Now()
	if s.timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	vals, err := s.script.Run(callCtx, s.client, keys, args...).Int64Slice()
	if err != nil {
		return s.unavailable(ctx, req, err, start)
	}
	if len(vals) != 8 || vals[1] < 0 || int(vals[1]) >= len(req.Limits) {
		return ratelimit.Result{}, fmt.Errorf("redislimit: unexpected script reply %v", vals)
	}
	return ratelimit.Result{
		Allowed:     vals[0] == 1,
		Limit:       req.Limits[vals[1]],
		Remaining:   int(vals[2]),
		RetryAfter:  time.Duration(vals[3]) * time.Microsecond,
		ResetAfter:  time.Duration(vals[4]) * time.Microsecond,
		RefillAfter: time.Duration(vals[6]) * time.Microsecond,
		At:          time.UnixMicro(vals[5]),
		Granted:     int(vals[7]),
	}, nil
}

// maxCachedLimits bounds the cache of script arguments, for LimitsFor
// functions that invent limits per key.
const maxCachedLimits = 1024

// limitArgs returns the script arguments of l, boxed once per distinct limit
// rather than on every call.
func (s *Store) limitArgs(l ratelimit.Limit) []any {
	s.argMu.RLock()
	args, ok := s.argCache[l]
	s.argMu.RUnlock()
	if ok {
		return args
	}
	args = []any{int(l.Algorithm), l.Rate, l.Period.Microseconds(), l.Capacity(), l.Interval().Microseconds()}
	s.argMu.Lock()
	if len(s.argCache) < maxCachedLimits {
		s.argCache[l] = args
	}
	s.argMu.Unlock()
	return args
}

// unavailable applies the failure policy to err, unless err is the
// caller's own cancellation or a reply that no retry would change.
func (s *Store) unavailable(ctx context.Context, req ratelimit.Request, err error, start time.Time) (ratelimit.Result, error) {
	if ctx.Err() != nil {
		return ratelimit.Result{}, ctx.Err()
	}
	// A socket deadline set from the caller's deadline may fire a moment
	// before the context notices: the caller's deadline, not Redis, ended it.
	if dl, ok := ctx.Deadline(); ok && (s.timeout <= 0 || dl.Before(start.Add(s.timeout))) && isTimeout(err) {
		return ratelimit.Result{}, fmt.Errorf("redislimit: %w (%w)", context.DeadlineExceeded, err)
	}
	if !isOutage(err) {
		return ratelimit.Result{}, fmt.Errorf("redislimit: %w", err)
	}
	if s.hooks.OnUnavailable != nil {
		s.hooks.OnUnavailable(err, s.policy)
	}
	switch s.policy {
	case FailClosed:
		return ratelimit.Result{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	case FallBack:
		r, ferr := s.backup.Do(ctx, req)
		if ferr != nil {
			return ratelimit.Result{}, ferr
		}
		r.Degraded = true
		return r, nil
	}
	return ratelimit.Result{Allowed: true, At: time.Now(), Degraded: true}, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// isOutage tells an unreachable or unwilling server from a reply that
// reports a real error (a bug, or a key of the wrong type).
func isOutage(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return true // network error, timeout, closed pool
	}
	for _, p := range []string{"LOADING", "READONLY", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "OOM"} {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}
