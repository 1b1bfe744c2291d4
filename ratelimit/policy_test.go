package ratelimit_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/ratelimit"
)

func TestPolicy_AdvertisesSustainedRateAndBurst(t *testing.T) {
	cases := []struct {
		name  string
		limit ratelimit.Limit
		want  string
	}{
		// Was q=20;w=60: a client pacing at 20/min is refused after two minutes.
		{"burst above rate", ratelimit.Limit{Rate: 10, Period: time.Minute, Burst: 20}, `"default";q=10;w=60;bedrock-burst=20`},
		{"token bucket", ratelimit.Limit{Rate: 10, Period: time.Minute, Burst: 20, Algorithm: ratelimit.TokenBucket}, `"default";q=10;w=60;bedrock-burst=20`},
		{"burst below rate", ratelimit.Limit{Rate: 100, Period: time.Minute, Burst: 5}, `"default";q=100;w=60;bedrock-burst=5`},
		{"burst equal to rate", ratelimit.PerMinute(10), `"default";q=10;w=60`},
		// 60 s / 7 is rounded up to 8.571429 s, so 7 events take 60.000003 s.
		{"interval rounded up", ratelimit.PerMinute(7), `"default";q=7;w=61`},
		{"fixed window", ratelimit.Limit{Rate: 10, Period: time.Minute, Algorithm: ratelimit.FixedWindow}, `"default";q=10;w=60`},
		{"sliding log", ratelimit.Limit{Rate: 10, Period: time.Minute, Algorithm: ratelimit.SlidingLog}, `"default";q=10;w=60`},
		// Was w=60: the previous window's count weighs as if spread evenly.
		{"sliding window", ratelimit.Limit{Rate: 10, Period: time.Minute, Algorithm: ratelimit.SlidingWindow}, `"default";q=10;w=120`},
		{"sub-second period", ratelimit.Limit{Rate: 3, Period: 1500 * time.Millisecond, Algorithm: ratelimit.FixedWindow}, `"default";q=3;w=2`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, _, err := clockedMiddleware(t, ratelimit.MiddlewareConfig{}, c.limit)
			require.NoError(t, err)
			assert.Equal(t, c.want, get(h).Header().Get("RateLimit-Policy"))
		})
	}
}

// TestPolicy_ClientFollowingItIsNeverRefused plays clients that read
// RateLimit-Policy from the first response and then follow it exactly,
// each in its own way, for several minutes of explicit time through the
// real middleware. Every request must be admitted.
//
// Without the bedrock-burst parameter an item means "at most q requests in
// any w seconds", and the clients are a pacer (one request every w/q
// seconds), a greedy one (q at once, again as soon as the oldest leaves the
// window: the draft's "consume all the quota and then wait") and a random
// one. With it, the item is a bucket of bedrock-burst requests refilled at
// q per w, and the clients are the pacer, a greedy bucket (the whole burst,
// then one request per refill) and a random one; when the burst is at least
// q the window clients must also pass.
func TestPolicy_ClientFollowingItIsNeverRefused(t *testing.T) {
	limits := []ratelimit.Limit{
		{Rate: 10, Period: time.Minute, Burst: 20},
		{Rate: 10, Period: time.Minute, Burst: 20, Algorithm: ratelimit.TokenBucket},
		{Rate: 100, Period: time.Minute, Burst: 5},
		{Rate: 100, Period: time.Minute, Burst: 5, Algorithm: ratelimit.TokenBucket},
		ratelimit.PerMinute(10),
		ratelimit.PerMinute(7),
		ratelimit.PerSecond(3),
		{Rate: 5, Period: 1500 * time.Millisecond, Burst: 8},
		{Rate: 10, Period: time.Minute, Algorithm: ratelimit.FixedWindow},
		{Rate: 3, Period: 1500 * time.Millisecond, Algorithm: ratelimit.FixedWindow},
		{Rate: 10, Period: time.Minute, Algorithm: ratelimit.SlidingLog},
		{Rate: 7, Period: 2500 * time.Millisecond, Algorithm: ratelimit.SlidingLog},
		{Rate: 10, Period: time.Minute, Algorithm: ratelimit.SlidingWindow},
		{Rate: 6, Period: 1500 * time.Millisecond, Algorithm: ratelimit.SlidingWindow},
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	periods := []time.Duration{time.Second, 1500 * time.Millisecond, 2500 * time.Millisecond, 7 * time.Second, time.Minute}
	fixed := len(limits)
	for _, algo := range algorithms {
		for range 4 {
			l := ratelimit.Limit{Rate: 1 + rng.IntN(30), Period: periods[rng.IntN(len(periods))], Algorithm: algo}
			if !algo.Windowed() {
				l.Burst = rng.IntN(40)
			}
			limits = append(limits, l)
		}
	}
	for i, l := range limits {
		name := fmt.Sprintf("%v-%d-per-%v-burst-%d", l.Algorithm, l.Rate, l.Period, l.Burst)
		t.Run(name, func(t *testing.T) {
			h, _, err := clockedMiddleware(t, ratelimit.MiddlewareConfig{}, l)
			require.NoError(t, err)
			policy, _, _, err := readFields(get(h).Header())
			require.NoError(t, err)
			require.Len(t, policy, 1)
			p := policy[0]
			require.Positive(t, p.q)
			require.Positive(t, p.w)

			var clients []client
			if p.burst == 0 || p.burst >= p.q {
				clients = append(clients, &windowClient{q: p.q, w: p.w * 1e6, greedy: true},
					&windowClient{q: p.q, w: p.w * 1e6, rng: rand.New(rand.NewPCG(seed, 1))})
			}
			if p.burst > 0 {
				clients = append(clients, newBucketClient(p, nil),
					newBucketClient(p, rand.New(rand.NewPCG(seed, 2))))
			}
			clients = append(clients, &pacer{every: (p.w*1e6 + p.q - 1) / p.q})

			for _, c := range clients {
				// A fresh key per client, on a clock of its own.
				h, now, err := clockedMiddleware(t, ratelimit.MiddlewareConfig{}, l)
				require.NoError(t, err)
				start := now.Load()
				// Several minutes, and at least six windows; the random
				// limits, there for variety, run for ten windows.
				end := max(5*time.Minute.Microseconds(), 6*p.w*1e6)
				if i >= fixed {
					end = 10 * p.w * 1e6
				}
				sent := int64(0)
				for at := c.next(0); at <= end; at = c.next(at) {
					now.Store(start + at)
					for range c.send(at) {
						sent++
						rec := get(h)
						require.Equal(t, http.StatusNoContent, rec.Code,
							"%s: request %d at +%v refused, policy %q, RateLimit %q",
							c, sent, time.Duration(at)*time.Microsecond,
							rec.Header().Get("RateLimit-Policy"), rec.Header().Get("RateLimit"))
					}
				}
				// The client used the policy, not a fraction of it.
				assert.GreaterOrEqual(t, sent, end/(p.w*1e6)*p.q/3, "%s sent only %d", c, sent)
			}
		})
	}
}

// client is a strategy that follows an advertised policy. Times are µs
// since its first request.
type client interface {
	next(after int64) int64 // the next time it wants to send, after after (0 first)
	send(at int64) int      // how many requests it sends at that time
	String() string
}

// pacer sends one request every `every` µs.
type pacer struct {
	every   int64
	started bool
}

func (c *pacer) next(after int64) int64 {
	if !c.started {
		c.started = true
		return 0
	}
	return after + c.every
}
func (c *pacer) send(int64) int { return 1 }
func (c *pacer) String() string {
	return fmt.Sprintf("pacer every %v", time.Duration(c.every)*time.Microsecond)
}

// windowClient never has more than q requests in any w µs: a request at
// time x counts in every window (y-w, y] that holds x.
type windowClient struct {
	q, w    int64
	greedy  bool
	rng     *rand.Rand
	sent    []int64
	started bool
}

func (c *windowClient) allowed(at int64) int64 {
	n := int64(0)
	for i := len(c.sent) - 1; i >= 0 && c.sent[i] > at-c.w; i-- { // sent is in time order
		n++
	}
	return c.q - n
}

func (c *windowClient) next(after int64) int64 {
	if !c.started {
		c.started = true
		return 0
	}
	if c.greedy {
		// The oldest request in the window leaves it at oldest+w.
		oldest := c.sent[len(c.sent)-int(c.q)]
		return max(after+1, oldest+c.w)
	}
	return after + 1 + c.rng.Int64N(c.w/c.q*2)
}

func (c *windowClient) send(at int64) int {
	n := c.allowed(at)
	if !c.greedy && n > 0 {
		n = 1 + c.rng.Int64N(n)
	}
	for range n {
		c.sent = append(c.sent, at)
	}
	return int(n)
}

func (c *windowClient) String() string {
	if c.greedy {
		return fmt.Sprintf("greedy window client (%d per %v)", c.q, time.Duration(c.w)*time.Microsecond)
	}
	return fmt.Sprintf("random window client (%d per %v)", c.q, time.Duration(c.w)*time.Microsecond)
}

// bucketClient models the policy as a bucket of burst requests refilled at
// q per w, exactly: tokens are counted in units of 1/w µs, so that q of
// them accrue per µs and a request costs w of them.
type bucketClient struct {
	q, w, burst int64
	tokens      int64 // × w
	last        int64
	rng         *rand.Rand
	started     bool
}

func newBucketClient(p policyItem, rng *rand.Rand) *bucketClient {
	w := p.w * 1e6
	return &bucketClient{q: p.q, w: w, burst: p.burst, tokens: p.burst * w, rng: rng}
}

func (c *bucketClient) refill(at int64) {
	c.tokens = min(c.tokens+(at-c.last)*c.q, c.burst*c.w)
	c.last = at
}

func (c *bucketClient) next(after int64) int64 {
	if !c.started {
		c.started = true
		return 0
	}
	if c.rng != nil {
		return after + 1 + c.rng.Int64N(c.w/c.q*2)
	}
	// Greedy: as soon as one more whole token has accrued.
	c.refill(after)
	missing := c.w - c.tokens%c.w
	return after + (missing+c.q-1)/c.q
}

func (c *bucketClient) send(at int64) int {
	c.refill(at)
	n := c.tokens / c.w
	if c.rng != nil && n > 0 {
		n = 1 + c.rng.Int64N(n)
	}
	c.tokens -= n * c.w
	return int(n)
}

func (c *bucketClient) String() string {
	kind := "greedy"
	if c.rng != nil {
		kind = "random"
	}
	return fmt.Sprintf("%s bucket client (%d per %v, burst %d)", kind, c.q, time.Duration(c.w)*time.Microsecond, c.burst)
}
