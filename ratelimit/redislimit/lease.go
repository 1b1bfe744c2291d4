package redislimit

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/bedrock-go/bedrock/internal/redisclient"
	"github.com/bedrock-go/bedrock/ratelimit"
)

//go:embed lease.lua
var leaseSource string

var _ ratelimit.LeaseStore = (*Store)(nil)

// LeaseKey returns the Redis key holding the leases of key: a sorted set of
// lease IDs scored by expiry, whose hash tag is the key, as for [Store.Key].
func (s *Store) LeaseKey(key string) string {
	key = redisclient.HashTag(key)
	var b strings.Builder
	b.Grow(len(s.prefix) + len(key) + 8)
	b.WriteString(s.prefix)
	b.WriteByte('{')
	b.WriteString(key)
	b.WriteString("}:lease")
	return b.String()
}

// Lease implements [ratelimit.LeaseStore] in one Lua script on the Redis
// clock. When Redis is unavailable, WhenUnavailable applies as for
// [Store.Do]: FailOpen grants (Degraded, no lease recorded), FailClosed
// returns [ErrUnavailable], FallBack asks Fallback when it is also a
// ratelimit.LeaseStore (as ratelimit.Memory is) and fails closed otherwise.
func (s *Store) Lease(ctx context.Context, req ratelimit.LeaseRequest) (ratelimit.LeaseResult, error) {
	if err := req.Validate(); err != nil {
		return ratelimit.LeaseResult{}, err
	}
	var now any = -1
	if !req.Now.IsZero() {
		now = req.Now.UnixMicro()
	}
	callCtx, start := ctx, time.Now()
	if s.timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	vals, err := s.leaseScript.Run(callCtx, s.client, []string{s.LeaseKey(req.Key)},
		int(req.Op), req.ID, req.Limit, req.TTL.Microseconds(), now).Int64Slice()
	if err != nil {
		return s.leaseUnavailable(ctx, req, err, start)
	}
	if len(vals) != 5 {
		return ratelimit.LeaseResult{}, fmt.Errorf("redislimit: unexpected lease script reply %v", vals)
	}
	res := ratelimit.LeaseResult{
		Granted:    vals[0] == 1,
		InFlight:   int(vals[1]),
		RetryAfter: time.Duration(vals[3]) * time.Microsecond,
		At:         time.UnixMicro(vals[4]),
	}
	if vals[2] > 0 {
		res.Expires = time.UnixMicro(vals[2])
	}
	return res, nil
}

func (s *Store) leaseUnavailable(ctx context.Context, req ratelimit.LeaseRequest, err error, start time.Time) (ratelimit.LeaseResult, error) {
	if ctx.Err() != nil {
		return ratelimit.LeaseResult{}, ctx.Err()
	}
	if dl, ok := ctx.Deadline(); ok && (s.timeout <= 0 || dl.Before(start.Add(s.timeout))) && isTimeout(err) {
		return ratelimit.LeaseResult{}, fmt.Errorf("redislimit: %w (%w)", context.DeadlineExceeded, err)
	}
	if !isOutage(err) {
		return ratelimit.LeaseResult{}, fmt.Errorf("redislimit: %w", err)
	}
	if s.hooks.OnUnavailable != nil {
		s.hooks.OnUnavailable(err, s.policy)
	}
	switch s.policy {
	case FailOpen:
		granted := req.Op == ratelimit.LeaseAcquire || req.Op == ratelimit.LeaseRenew
		return ratelimit.LeaseResult{Granted: granted, At: time.Now(), Degraded: true}, nil
	case FallBack:
		if ls, ok := s.backup.(ratelimit.LeaseStore); ok {
			r, ferr := ls.Lease(ctx, req)
			r.Degraded = ferr == nil
			return r, ferr
		}
	}
	return ratelimit.LeaseResult{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
}
