package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrLeaseLost is returned by [Lease.Renew] when the lease expired (and its
// slot may have gone to another holder) or was reset.
var ErrLeaseLost = errors.New("ratelimit: lease lost")

// LeaseStore keeps, per key, the leases of a [Concurrency] quota and grants
// them atomically. [Memory] holds them in process; package redislimit
// shares them through Redis. Every store makes the same decisions on the
// same sequence of requests; package ratelimittest checks that
// ([ratelimittest.RunLeases]).
type LeaseStore interface {
	// Lease applies req to the leases of req.Key.
	Lease(ctx context.Context, req LeaseRequest) (LeaseResult, error)
}

// LeaseOp is what a [LeaseRequest] does.
type LeaseOp uint8

const (
	// LeaseAcquire grants a lease to ID if fewer than Limit unexpired leases
	// are held (an ID that holds one already has it renewed).
	LeaseAcquire LeaseOp = iota
	// LeaseRenew extends the lease of ID by TTL, if it still holds one.
	LeaseRenew
	// LeaseRelease gives back the lease of ID.
	LeaseRelease
	// LeaseCount counts the unexpired leases.
	LeaseCount
	// LeaseReset drops every lease of the key.
	LeaseReset
)

// MaxLeaseIDLen is the longest lease ID, in bytes, a store accepts.
const MaxLeaseIDLen = 128

// LeaseRequest is one operation on a key's leases.
type LeaseRequest struct {
	Op  LeaseOp
	Key string
	// ID names the holder (LeaseAcquire, LeaseRenew, LeaseRelease).
	ID string
	// Limit is the number of leases that may be held at once
	// (LeaseAcquire).
	Limit int
	// TTL is how long a granted or renewed lease lasts unless renewed
	// (LeaseAcquire, LeaseRenew).
	TTL time.Duration
	// Now is the time of the decision. The zero Now means the store's own
	// clock (for Redis, the server's), which is what production code wants;
	// an explicit Now serves tests.
	Now time.Time
}

// Validate reports why r cannot be applied: an error matching
// [ErrInvalidKey] (key or ID) or [ErrInvalidLimit] (Limit, TTL, Op).
func (r *LeaseRequest) Validate() error {
	if len(r.Key) == 0 || len(r.Key) > MaxKeyLen {
		return fmt.Errorf("%w: length %d, want 1 to %d bytes", ErrInvalidKey, len(r.Key), MaxKeyLen)
	}
	switch r.Op {
	case LeaseAcquire, LeaseRenew, LeaseRelease:
		if len(r.ID) == 0 || len(r.ID) > MaxLeaseIDLen {
			return fmt.Errorf("%w: lease ID length %d, want 1 to %d bytes", ErrInvalidKey, len(r.ID), MaxLeaseIDLen)
		}
	case LeaseCount, LeaseReset:
	default:
		return fmt.Errorf("%w: unknown lease op %d", ErrInvalidLimit, r.Op)
	}
	if r.Op == LeaseAcquire && r.Limit < 1 {
		return fmt.Errorf("%w: lease limit %d, want at least 1", ErrInvalidLimit, r.Limit)
	}
	if (r.Op == LeaseAcquire || r.Op == LeaseRenew) && r.TTL < time.Millisecond {
		return fmt.Errorf("%w: lease TTL %v, want at least 1ms", ErrInvalidLimit, r.TTL)
	}
	return nil
}

// LeaseResult is the outcome of a [LeaseRequest].
type LeaseResult struct {
	// Granted reports, for LeaseAcquire, that the lease was granted; for
	// LeaseRenew and LeaseRelease, that ID held a lease.
	Granted bool
	// InFlight is the number of unexpired leases after the operation.
	InFlight int
	// Expires is when the granted or renewed lease ends, on the store's
	// clock.
	Expires time.Time
	// RetryAfter is, when LeaseAcquire was refused, how long until the
	// earliest lease expires (it may be released sooner).
	RetryAfter time.Duration
	// At is the time of the decision on the store's clock.
	At time.Time
	// Degraded reports that the store could not be reached and its failure
	// policy made the decision.
	Degraded bool
}

// ConcurrencyConfig configures a [Concurrency] quota.
type ConcurrencyConfig struct {
	// Store keeps the leases: a [*Memory], or package redislimit's Store
	// to share the quota between processes. Required.
	Store LeaseStore
	// Limit is how many leases a key may hold at once. Required, at least 1.
	Limit int
	// TTL is how long a lease lasts unless renewed, so that a holder that
	// crashed frees its slot. Default 1m. Hold work longer than TTL only
	// with [Lease.Renew].
	TTL time.Duration
	// Hooks receives events; nil hooks cost nothing.
	Hooks ConcurrencyHooks
}

// ConcurrencyHooks receives [Concurrency] events. A nil hook costs nothing.
type ConcurrencyHooks struct {
	// OnReject is called for every Acquire refused because the key holds
	// Limit leases.
	OnReject func()
}

// Concurrency is a quota of work in flight per key ("at most 5 exports per
// tenant at once"), as a rate limit is a quota of events per period. A slot
// is a [Lease] that expires after TTL unless renewed, so that a holder that
// crashed without releasing frees its slot.
//
// Most callers want [Concurrency.Acquire] and then [Lease.Release]; long
// work calls [Lease.Renew] more often than TTL. Create one with
// [NewConcurrency]; the zero Concurrency is not usable. A Concurrency is safe
// for concurrent use.
type Concurrency struct {
	cfg ConcurrencyConfig
}

// NewConcurrency returns a Concurrency quota. It returns an error matching
// [ErrInvalidConfig] when cfg is invalid.
func NewConcurrency(cfg ConcurrencyConfig) (*Concurrency, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: Store is nil", ErrInvalidConfig)
	}
	if cfg.Limit < 1 {
		return nil, fmt.Errorf("%w: Limit %d, want at least 1", ErrInvalidConfig, cfg.Limit)
	}
	if cfg.TTL < 0 || (cfg.TTL > 0 && cfg.TTL < time.Millisecond) {
		return nil, fmt.Errorf("%w: TTL %v, want 0 (default) or at least 1ms", ErrInvalidConfig, cfg.TTL)
	}
	if cfg.TTL == 0 {
		cfg.TTL = time.Minute
	}
	return &Concurrency{cfg: cfg}, nil
}

// ConcurrencyError is returned by [Concurrency.Acquire] when the key holds
// all its leases. It matches [ErrLimited].
type ConcurrencyError struct {
	Key             string
	InFlight, Limit int
	// RetryAfter is how long until the earliest lease expires; a release
	// may free a slot sooner.
	RetryAfter time.Duration
}

// Error says how many leases the key holds.
func (e *ConcurrencyError) Error() string {
	return "ratelimit: " + strconv.Itoa(e.InFlight) + " of " + strconv.Itoa(e.Limit) + " in flight"
}

// Is makes a ConcurrencyError match [ErrLimited].
func (e *ConcurrencyError) Is(target error) bool { return target == ErrLimited }

// Lease is a slot of a [Concurrency] quota. Release it when the work is done.
type Lease struct {
	c   *Concurrency
	key string
	id  string
	// Expires is when the lease ends unless renewed, on the store's clock.
	Expires time.Time
}

// Key returns the key the lease counts against.
func (l *Lease) Key() string { return l.key }

// ID returns the lease's random identifier.
func (l *Lease) ID() string { return l.id }

// Acquire takes a lease on key, or returns a [*ConcurrencyError] (matching
// [ErrLimited]) when key holds Limit unexpired leases, or the store's error.
func (c *Concurrency) Acquire(ctx context.Context, key string) (*Lease, error) {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	id := hex.EncodeToString(b[:])
	res, err := c.cfg.Store.Lease(ctx, LeaseRequest{Op: LeaseAcquire, Key: key, ID: id, Limit: c.cfg.Limit, TTL: c.cfg.TTL})
	if err != nil {
		return nil, err
	}
	if !res.Granted {
		if h := c.cfg.Hooks.OnReject; h != nil {
			h()
		}
		return nil, &ConcurrencyError{Key: key, InFlight: res.InFlight, Limit: c.cfg.Limit, RetryAfter: res.RetryAfter}
	}
	return &Lease{c: c, key: key, id: id, Expires: res.Expires}, nil
}

// InFlight returns the number of unexpired leases key holds.
func (c *Concurrency) InFlight(ctx context.Context, key string) (int, error) {
	res, err := c.cfg.Store.Lease(ctx, LeaseRequest{Op: LeaseCount, Key: key})
	return res.InFlight, err
}

// Reset drops every lease key holds, for support tools and tests: their
// holders' Renew fails with [ErrLeaseLost] and their Release does nothing.
func (c *Concurrency) Reset(ctx context.Context, key string) error {
	_, err := c.cfg.Store.Lease(ctx, LeaseRequest{Op: LeaseReset, Key: key})
	return err
}

// Release gives the slot back. Releasing a lease that expired or was
// released already does nothing.
func (l *Lease) Release(ctx context.Context) error {
	_, err := l.c.cfg.Store.Lease(ctx, LeaseRequest{Op: LeaseRelease, Key: l.key, ID: l.id})
	return err
}

// Renew extends the lease by the quota's TTL. It returns [ErrLeaseLost]
// when the lease expired or was reset: the work should stop, its slot may be
// another's.
func (l *Lease) Renew(ctx context.Context) error {
	res, err := l.c.cfg.Store.Lease(ctx, LeaseRequest{Op: LeaseRenew, Key: l.key, ID: l.id, TTL: l.c.cfg.TTL})
	if err != nil {
		return err
	}
	if !res.Granted {
		return ErrLeaseLost
	}
	l.Expires = res.Expires
	return nil
}
