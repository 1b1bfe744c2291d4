package ratelimit

import (
	"context"
	"sync"
	"time"
)

// memoryLeases is the lease table of a [Memory]: per key, the expiry (µs)
// of each holder's lease.
type memoryLeases struct {
	mu   sync.Mutex
	keys map[string]map[string]int64
	ops  int
}

// sweepEvery is how many lease operations pass between sweeps of keys whose
// leases all expired without anyone touching the key again.
const sweepEvery = 1024

// Lease implements [LeaseStore]. Expired leases are dropped when their key
// is next used, and every key is swept now and then, so that the table holds
// only keys with live leases.
func (m *Memory) Lease(_ context.Context, req LeaseRequest) (LeaseResult, error) {
	if err := req.Validate(); err != nil {
		return LeaseResult{}, err
	}
	t := &m.leases
	t.mu.Lock()
	defer t.mu.Unlock()
	now := m.now()
	if !req.Now.IsZero() {
		now = req.Now.UnixMicro()
	}
	if t.keys == nil {
		t.keys = make(map[string]map[string]int64)
	}
	if t.ops++; t.ops%sweepEvery == 0 {
		for k, held := range t.keys {
			if purge(held, now) == 0 {
				delete(t.keys, k)
			}
		}
	}
	held := t.keys[req.Key]
	purge(held, now)
	res := LeaseResult{At: time.UnixMicro(now)}
	switch req.Op {
	case LeaseAcquire:
		_, holds := held[req.ID]
		if !holds && len(held) >= req.Limit {
			earliest := int64(-1)
			for _, exp := range held {
				if earliest < 0 || exp < earliest {
					earliest = exp
				}
			}
			res.RetryAfter = time.Duration(earliest-now) * time.Microsecond
			break
		}
		if held == nil {
			held = make(map[string]int64)
			t.keys[req.Key] = held
		}
		res.Granted = true
		res.Expires = grant(held, req, now)
	case LeaseRenew:
		if _, ok := held[req.ID]; ok {
			res.Granted = true
			res.Expires = grant(held, req, now)
		}
	case LeaseRelease:
		if _, ok := held[req.ID]; ok {
			res.Granted = true
			delete(held, req.ID)
		}
	case LeaseReset:
		clear(held)
	}
	if len(held) == 0 {
		delete(t.keys, req.Key)
	}
	res.InFlight = len(held)
	return res, nil
}

func grant(held map[string]int64, req LeaseRequest, now int64) time.Time {
	exp := now + req.TTL.Microseconds()
	held[req.ID] = exp
	return time.UnixMicro(exp)
}

// purge drops the expired leases of held and returns how many remain.
func purge(held map[string]int64, now int64) int {
	for id, exp := range held {
		if exp <= now {
			delete(held, id)
		}
	}
	return len(held)
}
