package ratelimittest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/ratelimit"
)

// NewLeaseStore returns a lease store for one subtest. Stores may share
// state across calls: the suite uses distinct keys in every subtest.
type NewLeaseStore func(t *testing.T) ratelimit.LeaseStore

// leaseStep is one operation of a lease script, at t0+at.
type leaseStep struct {
	at       time.Duration
	op       ratelimit.LeaseOp
	id       string
	limit    int
	ttl      time.Duration
	granted  bool
	inFlight int
	retry    time.Duration // for a refused acquire
}

func acquire(at time.Duration, id string, limit int, ttl time.Duration, granted bool, inFlight int, retry time.Duration) leaseStep {
	return leaseStep{at: at, op: ratelimit.LeaseAcquire, id: id, limit: limit, ttl: ttl, granted: granted, inFlight: inFlight, retry: retry}
}

func leaseOp(at time.Duration, op ratelimit.LeaseOp, id string, ttl time.Duration, granted bool, inFlight int) leaseStep {
	return leaseStep{at: at, op: op, id: id, ttl: ttl, granted: granted, inFlight: inFlight}
}

func leaseScripts() map[string][]leaseStep {
	const s = time.Second
	return map[string][]leaseStep{
		"at most limit in flight": {
			acquire(0, "a", 2, 10*s, true, 1, 0),
			acquire(1*s, "b", 2, 10*s, true, 2, 0),
			acquire(2*s, "c", 2, 10*s, false, 2, 8*s), // a expires at 10s
			leaseOp(3*s, ratelimit.LeaseRelease, "a", 0, true, 1),
			acquire(4*s, "c", 2, 10*s, true, 2, 0),
			leaseOp(5*s, ratelimit.LeaseCount, "", 0, false, 2),
		},
		"a crashed holder's lease expires": {
			acquire(0, "crashed", 1, 5*s, true, 1, 0),
			acquire(4999*ms, "next", 1, 5*s, false, 1, 1*ms),
			acquire(5*s, "next", 1, 5*s, true, 1, 0),
			leaseOp(6*s, ratelimit.LeaseRenew, "crashed", 5*s, false, 1),
			leaseOp(6*s, ratelimit.LeaseRelease, "crashed", 0, false, 1),
		},
		"renew extends and acquire again is a renewal": {
			acquire(0, "a", 1, 5*s, true, 1, 0),
			leaseOp(4*s, ratelimit.LeaseRenew, "a", 5*s, true, 1),
			acquire(8*s, "b", 1, 5*s, false, 1, 1*s),
			acquire(8*s, "a", 1, 5*s, true, 1, 0),
			leaseOp(12*s, ratelimit.LeaseCount, "", 0, false, 1),
			leaseOp(13*s, ratelimit.LeaseCount, "", 0, false, 0),
		},
		"reset frees every slot": {
			acquire(0, "a", 2, 10*s, true, 1, 0),
			acquire(0, "b", 2, 10*s, true, 2, 0),
			leaseOp(1*s, ratelimit.LeaseReset, "", 0, false, 0),
			leaseOp(1*s, ratelimit.LeaseRenew, "a", 10*s, false, 0),
			acquire(2*s, "c", 2, 10*s, true, 1, 0),
			leaseOp(2*s, ratelimit.LeaseRelease, "b", 0, false, 1),
		},
		"a lower limit holds the ones in flight": {
			acquire(0, "a", 3, 10*s, true, 1, 0),
			acquire(0, "b", 3, 10*s, true, 2, 0),
			acquire(1*s, "c", 1, 10*s, false, 2, 9*s),
			leaseOp(2*s, ratelimit.LeaseRelease, "a", 0, true, 1),
			acquire(3*s, "c", 1, 10*s, false, 1, 7*s),
		},
	}
}

// RunLeases runs the lease suite against the stores newStore returns:
// scripted sequences on explicit times, with known answers, and a
// concurrency check that a quota is never exceeded.
func RunLeases(t *testing.T, newStore NewLeaseStore) {
	for name, steps := range leaseScripts() {
		t.Run(name, func(t *testing.T) {
			store := newStore(t)
			key, other := keyFor(t, "k"), keyFor(t, "other")
			ctx := context.Background()
			for i, st := range steps {
				now := t0.Add(st.at)
				res, err := store.Lease(ctx, ratelimit.LeaseRequest{Op: st.op, Key: key, ID: st.id, Limit: st.limit, TTL: st.ttl, Now: now})
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if res.Granted != st.granted || res.InFlight != st.inFlight {
					t.Fatalf("step %d (op %d %q at %v): granted %v in flight %d, want %v %d", i, st.op, st.id, st.at, res.Granted, res.InFlight, st.granted, st.inFlight)
				}
				if !res.At.Equal(now) {
					t.Fatalf("step %d: decided at %v, want %v", i, res.At, now)
				}
				if st.op == ratelimit.LeaseAcquire && !st.granted && res.RetryAfter != st.retry {
					t.Fatalf("step %d: retry after %v, want %v", i, res.RetryAfter, st.retry)
				}
				if (st.op == ratelimit.LeaseAcquire || st.op == ratelimit.LeaseRenew) && st.granted && !res.Expires.Equal(now.Add(st.ttl)) {
					t.Fatalf("step %d: expires %v, want %v", i, res.Expires, now.Add(st.ttl))
				}
			}
			res, err := store.Lease(ctx, ratelimit.LeaseRequest{Op: ratelimit.LeaseCount, Key: other, Now: t0})
			if err != nil || res.InFlight != 0 {
				t.Fatalf("another key holds %d leases (%v)", res.InFlight, err)
			}
		})
	}
	t.Run("rejects bad requests", func(t *testing.T) {
		store := newStore(t)
		for name, req := range map[string]ratelimit.LeaseRequest{
			"empty key":  {Op: ratelimit.LeaseCount},
			"no ID":      {Op: ratelimit.LeaseAcquire, Key: "k", Limit: 1, TTL: time.Second},
			"zero limit": {Op: ratelimit.LeaseAcquire, Key: "k", ID: "a", TTL: time.Second},
			"zero TTL":   {Op: ratelimit.LeaseRenew, Key: "k", ID: "a"},
			"bad op":     {Op: 99, Key: "k"},
		} {
			_, err := store.Lease(context.Background(), req)
			if !errors.Is(err, ratelimit.ErrInvalidKey) && !errors.Is(err, ratelimit.ErrInvalidLimit) {
				t.Errorf("%s: %v, want ErrInvalidKey or ErrInvalidLimit", name, err)
			}
		}
	})
	t.Run("concurrent acquires never exceed the limit", func(t *testing.T) { runLeasesConcurrent(t, newStore(t)) })
}

func runLeasesConcurrent(t *testing.T, store ratelimit.LeaseStore) {
	const limit, workers, rounds = 3, 16, 20
	key := keyFor(t, "hot")
	var held, peak, granted atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				id := fmt.Sprintf("w%d-%d", w, r)
				res, err := store.Lease(context.Background(), ratelimit.LeaseRequest{Op: ratelimit.LeaseAcquire, Key: key, ID: id, Limit: limit, TTL: time.Minute})
				if err != nil {
					errs <- err
					return
				}
				if !res.Granted {
					continue
				}
				granted.Add(1)
				n := held.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				held.Add(-1)
				if _, err := store.Lease(context.Background(), ratelimit.LeaseRequest{Op: ratelimit.LeaseRelease, Key: key, ID: id}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if peak.Load() > limit {
		t.Fatalf("%d leases held at once, limit %d", peak.Load(), limit)
	}
	if granted.Load() == 0 {
		t.Fatal("no lease granted")
	}
	res, err := store.Lease(context.Background(), ratelimit.LeaseRequest{Op: ratelimit.LeaseCount, Key: key})
	if err != nil || res.InFlight != 0 {
		t.Fatalf("%d leases left after every release (%v)", res.InFlight, err)
	}
}
