package ratelimittest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/ratelimit"
)

// T0 is the start of every scripted sequence: an explicit time aligned to a
// whole hour, so that window boundaries fall where the scripts expect.
var t0 = time.Unix(1_800_000_000, 0)

// NewStore returns a store for one subtest. Stores may share state across
// calls: the suite uses distinct keys in every subtest.
type NewStore func(t *testing.T) ratelimit.Store

// Run runs the whole suite against the stores newStore returns.
func Run(t *testing.T, newStore NewStore) {
	t.Run("Scripts", func(t *testing.T) { RunScripts(t, newStore) })
	t.Run("Random", func(t *testing.T) { RunRandom(t, newStore, 150) })
	t.Run("Concurrent", func(t *testing.T) { RunConcurrent(t, newStore) })
	t.Run("PartialAndReset", func(t *testing.T) { RunPartialAndReset(t, newStore) })
}

// RunPartialAndReset checks partial grants ([ratelimit.Limiter.AllowAtMost])
// and [ratelimit.Limiter.Reset] on every algorithm, with one and two limits.
func RunPartialAndReset(t *testing.T, newStore NewStore) {
	for _, algo := range []ratelimit.Algorithm{ratelimit.GCRA, ratelimit.TokenBucket, ratelimit.FixedWindow,
		ratelimit.SlidingWindow, ratelimit.SlidingLog} {
		for _, limits := range [][]ratelimit.Limit{
			{{Rate: 5, Period: time.Hour, Algorithm: algo}},
			{{Rate: 8, Period: time.Hour, Algorithm: algo}, {Rate: 5, Period: 2 * time.Hour, Algorithm: algo}},
		} {
			t.Run(fmt.Sprintf("%v/%d limits", algo, len(limits)), func(t *testing.T) {
				ctx := context.Background()
				lim, err := ratelimit.New(ratelimit.Config{Limits: limits, Store: newStore(t)})
				if err != nil {
					t.Fatal(err)
				}
				key := keyFor(t, "k")
				check := func(step string, res ratelimit.Result, err error, allowed bool, granted, remaining int) {
					t.Helper()
					if err != nil {
						t.Fatalf("%s: %v", step, err)
					}
					if res.Allowed != allowed || res.Granted != granted || res.Remaining != remaining {
						t.Fatalf("%s: allowed %v granted %d remaining %d, want %v %d %d", step, res.Allowed, res.Granted, res.Remaining, allowed, granted, remaining)
					}
				}
				res, err := lim.AllowAtMostAt(ctx, key, t0, 2)
				check("2 of 5", res, err, true, 2, 3)
				res, err = lim.AllowAtMostAt(ctx, key, t0, 100)
				check("the 3 left of 100 asked", res, err, true, 3, 0)
				res, err = lim.AllowAtMostAt(ctx, key, t0, 1)
				check("none left", res, err, false, 0, 0)
				if res.RetryAfter <= 0 {
					t.Fatalf("a refusal says when one event fits: %s", show(res))
				}
				res, err = lim.AllowAt(ctx, key, t0, 1)
				check("a plain take", res, err, false, 0, 0)
				if err := lim.Reset(ctx, key); err != nil {
					t.Fatal(err)
				}
				res, err = lim.AllowAt(ctx, key, t0, 5)
				check("after reset, the whole capacity", res, err, true, 5, 0)
			})
		}
	}
}

// step is one operation of a script, at t0+at.
type step struct {
	at      time.Duration
	op      string // "take", "peek", "reserve", "cancel" (last reservation), "set" (limits)
	cost    int
	limits  []ratelimit.Limit // for "set"
	allowed bool
	remain  int
	retry   time.Duration
	reset   time.Duration
	refill  time.Duration
	limit   int // index of the limit the result describes
}

func take(at time.Duration, cost int, allowed bool, remain int, retry, reset, refill time.Duration) step {
	return step{at: at, op: "take", cost: cost, allowed: allowed, remain: remain, retry: retry, reset: reset, refill: refill}
}

func on(s step, limit int) step { s.limit = limit; return s }

func peek(at time.Duration, cost int, allowed bool, remain int, retry, reset, refill time.Duration) step {
	s := take(at, cost, allowed, remain, retry, reset, refill)
	s.op = "peek"
	return s
}

func reserve(at time.Duration, cost int, allowed bool, remain int, reset, refill time.Duration) step {
	s := take(at, cost, allowed, remain, 0, reset, refill)
	s.op = "reserve"
	return s
}

func cancel(at time.Duration) step { return step{at: at, op: "cancel"} }

func set(at time.Duration, limits ...ratelimit.Limit) step {
	return step{at: at, op: "set", limits: limits}
}

type script struct {
	name   string
	limits []ratelimit.Limit
	steps  []step
}

const ms = time.Millisecond

func scripts() []script {
	gcra := ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 3}
	bucket := gcra
	bucket.Algorithm = ratelimit.TokenBucket
	burstSteps := []step{
		take(0, 1, true, 2, 0, 100*ms, 100*ms),
		take(0, 1, true, 1, 0, 200*ms, 100*ms),
		take(0, 1, true, 0, 0, 300*ms, 100*ms),
		take(0, 1, false, 0, 100*ms, 300*ms, 100*ms),
		take(100*ms, 1, true, 0, 0, 300*ms, 100*ms),
		peek(250*ms, 1, true, 1, 0, 150*ms, 50*ms),
		take(250*ms, 2, false, 1, 50*ms, 150*ms, 50*ms),
		take(time.Second, 3, true, 0, 0, 300*ms, 100*ms),
	}
	fixed := ratelimit.Limit{Rate: 3, Period: time.Second, Algorithm: ratelimit.FixedWindow}
	sliding := ratelimit.Limit{Rate: 4, Period: time.Second, Algorithm: ratelimit.SlidingWindow}
	slog := ratelimit.Limit{Rate: 3, Period: time.Second, Algorithm: ratelimit.SlidingLog}
	perSec := ratelimit.Limit{Rate: 2, Period: time.Second}
	perHour := ratelimit.Limit{Rate: 3, Period: time.Hour, Name: "hourly"}
	return []script{
		{"GCRA/burst-then-rate", []ratelimit.Limit{gcra}, burstSteps},
		{"TokenBucket/same-decisions-as-GCRA", []ratelimit.Limit{bucket}, burstSteps},
		{"FixedWindow/resets-at-boundary", []ratelimit.Limit{fixed}, []step{
			take(0, 2, true, 1, 0, time.Second, time.Second),
			take(500*ms, 2, false, 1, 500*ms, 500*ms, 500*ms),
			take(500*ms, 1, true, 0, 0, 500*ms, 500*ms),
			take(999*ms, 1, false, 0, 1*ms, 1*ms, 1*ms),
			take(time.Second, 3, true, 0, 0, time.Second, time.Second),
			peek(1200*ms, 1, false, 0, 800*ms, 800*ms, 800*ms),
		}},
		{"SlidingWindow/previous-window-weighs", []ratelimit.Limit{sliding}, []step{
			take(0, 4, true, 0, 0, 2*time.Second, 1250*ms),
			take(500*ms, 1, false, 0, 750*ms, 1500*ms, 750*ms),
			take(1249*ms, 1, false, 0, 1*ms, 751*ms, 1*ms),
			take(1250*ms, 1, true, 0, 0, 1750*ms, 250*ms),
			take(1500*ms, 1, true, 0, 0, 1500*ms, 250*ms),
			take(1500*ms, 1, false, 0, 250*ms, 1500*ms, 250*ms),
			take(3500*ms, 1, true, 3, 0, 1500*ms, 1500*ms),
		}},
		{"SlidingLog/exact-window", []ratelimit.Limit{slog}, []step{
			take(0, 1, true, 2, 0, time.Second, time.Second),
			take(200*ms, 1, true, 1, 0, time.Second, 800*ms),
			take(400*ms, 1, true, 0, 0, time.Second, 600*ms),
			take(600*ms, 1, false, 0, 400*ms, 800*ms, 400*ms),
			take(time.Second, 2, false, 1, 200*ms, 400*ms, 200*ms),
			take(time.Second, 1, true, 0, 0, time.Second, 200*ms),
			peek(1200*ms, 1, true, 1, 0, 800*ms, 200*ms),
		}},
		{"Multi/denial-consumes-nothing", []ratelimit.Limit{perSec, perHour}, []step{
			on(take(0, 1, true, 1, 0, 500*ms, 500*ms), 0),
			on(take(0, 1, true, 0, 0, time.Second, 500*ms), 0),
			on(take(0, 1, false, 0, 500*ms, time.Second, 500*ms), 0),
			on(take(time.Second, 1, true, 0, 0, 3599*time.Second, 1199*time.Second), 1),
			on(take(2*time.Second, 1, false, 0, 1198*time.Second, 3598*time.Second, 1198*time.Second), 1),
		}},
		{"GCRA/cancel-returns-tokens", []ratelimit.Limit{{Rate: 1, Period: time.Second, Burst: 2}}, []step{
			reserve(0, 2, true, 0, 2*time.Second, time.Second),
			take(0, 1, false, 0, time.Second, 2*time.Second, time.Second),
			cancel(0),
			take(0, 1, true, 1, 0, time.Second, time.Second),
		}},
		{"FixedWindow/cancel-in-same-window", []ratelimit.Limit{{Rate: 2, Period: time.Second, Algorithm: ratelimit.FixedWindow}}, []step{
			reserve(0, 2, true, 0, time.Second, time.Second),
			cancel(500 * ms),
			take(600*ms, 2, true, 0, 0, 400*ms, 400*ms),
		}},
		{"SlidingWindow/cancel-reaches-previous-window", []ratelimit.Limit{sliding}, []step{
			reserve(900*ms, 4, true, 0, 1100*ms, 350*ms),
			cancel(1100 * ms),
			take(1100*ms, 4, true, 0, 0, 1900*ms, 1150*ms),
		}},
		{"SlidingLog/cancel-removes-entries", []ratelimit.Limit{slog}, []step{
			reserve(0, 3, true, 0, time.Second, time.Second),
			cancel(500 * ms),
			take(500*ms, 3, true, 0, 0, time.Second, time.Second),
		}},
		{"SetLimits/keeps-state", []ratelimit.Limit{perSec}, []step{
			take(0, 2, true, 0, 0, time.Second, 500*ms),
			set(0, ratelimit.PerSecond(4)),
			take(0, 1, false, 0, 250*ms, time.Second, 250*ms),
			take(250*ms, 1, true, 0, 0, time.Second, 250*ms),
		}},
		{"SetLimits/new-algorithm-starts-afresh", []ratelimit.Limit{perSec}, []step{
			take(0, 2, true, 0, 0, time.Second, 500*ms),
			set(0, ratelimit.Limit{Rate: 2, Period: time.Second, Algorithm: ratelimit.FixedWindow}),
			take(0, 2, true, 0, 0, time.Second, time.Second),
		}},
		{"ClockBack/never-admits-more", []ratelimit.Limit{fixed}, []step{
			take(time.Second, 3, true, 0, 0, time.Second, time.Second),
			take(900*ms, 1, false, 0, time.Second, time.Second, time.Second),
		}},
	}
}

// keyFor returns a key unique to the test, so stores may share state.
func keyFor(t *testing.T, suffix string) string {
	return fmt.Sprintf("conf:%s:%d:%s", strings.ReplaceAll(t.Name(), " ", "_"), time.Now().UnixNano(), suffix)
}

// RunScripts runs the scripted sequences with known answers.
func RunScripts(t *testing.T, newStore NewStore) {
	for _, sc := range scripts() {
		t.Run(sc.name, func(t *testing.T) {
			ctx := context.Background()
			lim, err := ratelimit.New(ratelimit.Config{Limits: sc.limits, Store: newStore(t)})
			if err != nil {
				t.Fatal(err)
			}
			key := keyFor(t, "k")
			other := keyFor(t, "other")
			limits := sc.limits
			var last *ratelimit.Reservation
			for i, s := range sc.steps {
				at := t0.Add(s.at)
				var res ratelimit.Result
				switch s.op {
				case "set":
					if err := lim.SetLimits(s.limits...); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					limits = s.limits
					continue
				case "cancel":
					if err := last.CancelAt(ctx, at); err != nil {
						t.Fatalf("step %d: cancel: %v", i, err)
					}
					continue
				case "take":
					res, err = lim.AllowAt(ctx, key, at, s.cost)
				case "peek":
					res, err = lim.PeekAt(ctx, key, at, s.cost)
				case "reserve":
					last, err = lim.ReserveAt(ctx, key, at, s.cost)
					if err == nil {
						res = last.Result()
					}
				}
				if err != nil {
					t.Fatalf("step %d (%s at +%v): %v", i, s.op, s.at, err)
				}
				want := ratelimit.Result{
					Allowed: s.allowed, Limit: limits[s.limit], Remaining: s.remain,
					RetryAfter: s.retry, ResetAfter: s.reset, RefillAfter: s.refill, At: at,
				}
				if !sameResult(res, want) {
					t.Fatalf("step %d (%s %d at +%v):\n got %s\nwant %s", i, s.op, s.cost, s.at, show(res), show(want))
				}
			}
			// Another key is untouched by everything above.
			res, err := lim.PeekAt(ctx, other, t0, 1)
			if err != nil || !res.Allowed || res.Remaining != res.Limit.Capacity() || res.ResetAfter != 0 || res.RefillAfter != 0 {
				t.Fatalf("untouched key: %s, %v", show(res), err)
			}
		})
	}
}

func sameResult(a, b ratelimit.Result) bool {
	return a.Allowed == b.Allowed && a.Limit == b.Limit && a.Remaining == b.Remaining &&
		a.RetryAfter == b.RetryAfter && a.ResetAfter == b.ResetAfter && a.RefillAfter == b.RefillAfter &&
		a.At.Equal(b.At) && a.Degraded == b.Degraded
}

func show(r ratelimit.Result) string {
	return fmt.Sprintf("{allowed=%v remaining=%d retry=%v reset=%v refill=%v limit=%+v at=%d degraded=%v}",
		r.Allowed, r.Remaining, r.RetryAfter, r.ResetAfter, r.RefillAfter, r.Limit, r.At.UnixMicro(), r.Degraded)
}

// RunRandom drives the store and the in-memory reference through the same
// random sequences (steps per algorithm) and requires identical results.
func RunRandom(t *testing.T, newStore NewStore, steps int) {
	algos := []ratelimit.Algorithm{ratelimit.GCRA, ratelimit.TokenBucket, ratelimit.FixedWindow,
		ratelimit.SlidingWindow, ratelimit.SlidingLog}
	for _, algo := range algos {
		t.Run(algo.String(), func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			rng := rand.New(rand.NewPCG(seed, uint64(algo)))
			t.Logf("seed %d", seed)
			limits := randomLimits(rng, algo)
			ctx := context.Background()
			ref, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := ratelimit.New(ratelimit.Config{Limits: limits, Store: newStore(t)})
			if err != nil {
				t.Fatal(err)
			}
			want, err := ratelimit.New(ratelimit.Config{Limits: limits, Store: ref})
			if err != nil {
				t.Fatal(err)
			}
			keys := []string{keyFor(t, "a"), keyFor(t, "b")}
			var gotRes, wantRes []*ratelimit.Reservation
			at := t0.Add(time.Duration(rng.Int64N(int64(time.Second))) / time.Microsecond * time.Microsecond)
			capacity := limits[0].Capacity()
			for _, l := range limits {
				capacity = min(capacity, l.Capacity())
			}
			for i := range steps {
				at = at.Add(time.Duration(rng.Int64N(int64(limits[0].Period/3)+1)) / time.Microsecond * time.Microsecond)
				k := i % len(keys)
				if rng.IntN(3) == 0 {
					k = rng.IntN(len(keys))
				}
				key, cost := keys[k], 1+rng.IntN(capacity)
				var g, w ratelimit.Result
				var gerr, werr error
				switch r := rng.IntN(24); {
				case r < 12:
					g, gerr = got.AllowAt(ctx, key, at, cost)
					w, werr = want.AllowAt(ctx, key, at, cost)
				case r < 16:
					g, gerr = got.PeekAt(ctx, key, at, cost)
					w, werr = want.PeekAt(ctx, key, at, cost)
				case r < 19:
					n := 1 + rng.IntN(2*capacity)
					g, gerr = got.AllowAtMostAt(ctx, key, at, n)
					w, werr = want.AllowAtMostAt(ctx, key, at, n)
					if g.Granted != w.Granted {
						t.Fatalf("step %d: granted %d of %d, want %d", i, g.Granted, n, w.Granted)
					}
				case r == 19:
					gerr, werr = got.Reset(ctx, key), want.Reset(ctx, key)
				case r < 22 || len(gotRes) == 0:
					gr, e1 := got.ReserveAt(ctx, key, at, cost)
					wr, e2 := want.ReserveAt(ctx, key, at, cost)
					gerr, werr = e1, e2
					if e1 == nil && e2 == nil {
						g, w = gr.Result(), wr.Result()
						gotRes, wantRes = append(gotRes, gr), append(wantRes, wr)
					}
				default:
					j := rng.IntN(len(gotRes))
					gerr = gotRes[j].CancelAt(ctx, at)
					werr = wantRes[j].CancelAt(ctx, at)
				}
				if gerr != nil || werr != nil {
					t.Fatalf("step %d: errors %v / %v", i, gerr, werr)
				}
				if !sameResult(g, w) {
					t.Fatalf("step %d at +%v key %d cost %d:\n got %s\nwant %s", i, at.Sub(t0), k, cost, show(g), show(w))
				}
			}
		})
	}
}

func randomLimits(rng *rand.Rand, algo ratelimit.Algorithm) []ratelimit.Limit {
	periods := []time.Duration{10 * ms, 100 * ms, time.Second, 7 * time.Second, time.Minute}
	n := 1 + rng.IntN(2)
	limits := make([]ratelimit.Limit, n)
	for i := range limits {
		l := ratelimit.Limit{
			Rate:      1 + rng.IntN(12),
			Period:    periods[rng.IntN(len(periods))] * time.Duration(i+1),
			Algorithm: algo,
		}
		if !algo.Windowed() && rng.IntN(2) == 0 {
			l.Burst = 1 + rng.IntN(15)
		}
		limits[i] = l
	}
	return limits
}

// RunConcurrent hammers one key from 64 goroutines at one instant and
// requires exactly the capacity to be admitted, for every algorithm.
func RunConcurrent(t *testing.T, newStore NewStore) {
	for _, l := range []ratelimit.Limit{
		{Rate: 50, Period: time.Hour},
		{Rate: 50, Period: time.Hour, Algorithm: ratelimit.TokenBucket},
		{Rate: 50, Period: time.Hour, Algorithm: ratelimit.FixedWindow},
		{Rate: 50, Period: time.Hour, Algorithm: ratelimit.SlidingWindow},
		{Rate: 50, Period: time.Hour, Algorithm: ratelimit.SlidingLog},
	} {
		t.Run(l.Algorithm.String(), func(t *testing.T) {
			lim, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{l}, Store: newStore(t)})
			if err != nil {
				t.Fatal(err)
			}
			key := keyFor(t, "hot")
			var admitted, failed atomic.Int64
			var wg sync.WaitGroup
			for range 64 {
				wg.Go(func() {
					for range 4 {
						res, err := lim.AllowAt(context.Background(), key, t0, 1)
						switch {
						case err != nil:
							failed.Add(1)
						case res.Allowed:
							admitted.Add(1)
						}
					}
				})
			}
			wg.Wait()
			if failed.Load() != 0 || admitted.Load() != int64(l.Rate) {
				t.Fatalf("admitted %d of 256 (want exactly %d), %d errors", admitted.Load(), l.Rate, failed.Load())
			}
		})
	}
}
