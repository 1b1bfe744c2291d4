package conformance

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/ratelimit"
)

// The RateLimit-Policy and RateLimit fields of
// draft-ietf-httpapi-ratelimit-headers are RFC 9651 Lists of Strings with
// integer parameters (q, w on a policy; r, t on the current state). They
// are parsed here with httpsfv, an independent RFC 9651 parser, and every
// number is checked against an exact GCRA and against a client that
// believes what the fields say.

// rlPolicy is one item of RateLimit-Policy.
type rlPolicy struct {
	name string
	q, w int64
}

// rlAnswer is what a client reads from one response.
type rlAnswer struct {
	status     int
	policies   []rlPolicy
	r, t       int64 // of the item of RateLimit
	retryAfter int64 // -1 when absent
}

var delaySeconds = regexp.MustCompile(`^[0-9]+$`) // RFC 9110 §10.2.3

func parseRateLimit(t *testing.T, rec *httptest.ResponseRecorder) rlAnswer {
	t.Helper()
	a := rlAnswer{status: rec.Code, retryAfter: -1}
	policy, err := httpsfv.UnmarshalList(rec.Header().Values("RateLimit-Policy"))
	require.NoError(t, err, "RateLimit-Policy %q is not an RFC 9651 List", rec.Header().Values("RateLimit-Policy"))
	require.NotEmpty(t, policy)
	names := map[string]bool{}
	for _, m := range policy {
		item, ok := m.(httpsfv.Item)
		require.True(t, ok, "RateLimit-Policy members are Items")
		name, ok := item.Value.(string)
		require.True(t, ok, "a policy's name is a String, got %T", item.Value)
		p := rlPolicy{name: name, q: intParam(t, item, "q", true), w: intParam(t, item, "w", false)}
		if p.w == -1 {
			p.w = 0
		}
		require.Positive(t, p.q, "q")
		names[name] = true
		a.policies = append(a.policies, p)
	}
	state, err := httpsfv.UnmarshalList(rec.Header().Values("RateLimit"))
	require.NoError(t, err, "RateLimit %q is not an RFC 9651 List", rec.Header().Values("RateLimit"))
	require.Len(t, state, 1, "one RateLimit item: the limit that decided")
	item, ok := state[0].(httpsfv.Item)
	require.True(t, ok)
	name, ok := item.Value.(string)
	require.True(t, ok, "RateLimit's item is a String, got %T", item.Value)
	assert.True(t, names[name], "RateLimit names %q, which RateLimit-Policy does not list", name)
	a.r, a.t = intParam(t, item, "r", true), intParam(t, item, "t", false)
	if ra := rec.Header().Values("Retry-After"); len(ra) > 0 {
		require.Len(t, ra, 1)
		require.Regexp(t, delaySeconds, ra[0], "Retry-After is delay-seconds")
		a.retryAfter, err = strconv.ParseInt(ra[0], 10, 64)
		require.NoError(t, err)
	}
	return a
}

// intParam returns a non-negative Integer parameter, or -1 when it is
// absent and not required.
func intParam(t *testing.T, item httpsfv.Item, key string, required bool) int64 {
	t.Helper()
	v, ok := item.Params.Get(key)
	if !ok {
		require.False(t, required, "parameter %s is required", key)
		return -1
	}
	n, ok := v.(int64)
	require.True(t, ok, "parameter %s is an Integer, got %T", key, v)
	require.GreaterOrEqual(t, n, int64(0), key)
	return n
}

// gcra is an exact GCRA (the virtual-scheduling form of ITU-T I.371): an
// event is admitted when the theoretical arrival time it would leave is at
// most burst intervals ahead of now.
type gcra struct {
	interval time.Duration
	burst    int
	tat      time.Time
}

// take decides one event at now and reports what a limiter must answer:
// the remaining events, the time until full capacity, and on a denial the
// time until one event fits.
func (g *gcra) take(now time.Time) (ok bool, remaining int, reset, retry time.Duration) {
	tat := g.tat
	if tat.Before(now) {
		tat = now
	}
	limit := time.Duration(g.burst) * g.interval
	next := tat.Add(g.interval)
	if next.Sub(now) > limit {
		return false, int((limit - tat.Sub(now)) / g.interval), tat.Sub(now), next.Sub(now) - limit
	}
	g.tat = next
	return true, int((limit - next.Sub(now)) / g.interval), next.Sub(now), 0
}

func ceilSeconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

// rlServer is the middleware of a limiter with one limit, on a clock the
// test moves.
type rlServer struct {
	handler http.Handler
	now     time.Time
}

func newRLServer(t *testing.T, l ratelimit.Limit) *rlServer {
	t.Helper()
	s := &rlServer{now: time.Unix(1_700_000_000, 0)}
	mem, err := ratelimit.NewMemory(ratelimit.MemoryConfig{Now: func() time.Time { return s.now }})
	require.NoError(t, err)
	lim, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{l}, Store: mem})
	require.NoError(t, err)
	mw, err := ratelimit.NewMiddleware(lim, ratelimit.MiddlewareConfig{Key: ratelimit.KeyByHeader("X-Client")})
	require.NoError(t, err)
	s.handler = mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	return s
}

func (s *rlServer) do(t *testing.T) rlAnswer {
	t.Helper()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Client", "c1")
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return parseRateLimit(t, rec)
}

var rlLimits = []struct {
	name  string
	limit ratelimit.Limit
}{
	{"10/min", ratelimit.PerMinute(10)},
	{"10/min burst 20", ratelimit.Limit{Rate: 10, Period: time.Minute, Burst: 20}},
	{"5/s burst 1", ratelimit.Limit{Rate: 5, Period: time.Second, Burst: 1}},
	{"3 per 10s burst 7", ratelimit.Limit{Rate: 3, Period: 10 * time.Second, Burst: 7}},
}

// TestRateLimit_ExactAgainstGCRA sends an irregular sequence and compares
// every answer with the reference: the decision, r, Retry-After rounded up,
// and on a denial t equal to Retry-After (item 21.6).
func TestRateLimit_ExactAgainstGCRA(t *testing.T) {
	gaps := []time.Duration{0, 0, 0, 100 * time.Millisecond, 1500 * time.Millisecond, 0, 7 * time.Second, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 250 * time.Millisecond, 30 * time.Second, 0, 0}
	for _, c := range rlLimits {
		t.Run(c.name, func(t *testing.T) {
			s := newRLServer(t, c.limit)
			ref := &gcra{interval: c.limit.Period / time.Duration(c.limit.Rate), burst: c.limit.Capacity()}
			for i, gap := range gaps {
				s.now = s.now.Add(gap)
				got := s.do(t)
				ok, remaining, _, retry := ref.take(s.now)
				step := fmt.Sprintf("request %d", i)
				if ok {
					assert.Equal(t, http.StatusOK, got.status, step)
					assert.Equal(t, int64(-1), got.retryAfter, "%s: no Retry-After on success", step)
				} else {
					assert.Equal(t, http.StatusTooManyRequests, got.status, step)
					assert.Equal(t, max(ceilSeconds(retry), 1), got.retryAfter, "%s: Retry-After", step)
					// The draft: with Retry-After on a refusal, t SHOULD name
					// the same point in time. t >= Retry-After alone would
					// pass the disagreement of item 21.6 (Retry-After: 6 with
					// t=60 at 10/min), where a client reading t waits ten
					// times too long.
					assert.Equal(t, got.retryAfter, got.t, "%s: t and Retry-After name different times (item 21.6)", step)
				}
				assert.Equal(t, int64(remaining), got.r, "%s: r", step)
			}
		})
	}
}

// TestRateLimit_ClientFollowingTheFields plays three clients that believe
// the fields: one paces itself at the advertised sustained rate (the
// smallest q/w) and must never be refused (item 21.7); one spends r at once
// and must be refused exactly after it; one that is refused waits
// Retry-After, or t, and must then be admitted, while one second less than
// Retry-After is still too early (it is rounded up, never down).
func TestRateLimit_ClientFollowingTheFields(t *testing.T) {
	for _, c := range rlLimits {
		t.Run(c.name+"/pacing at q over w (item 21.7)", func(t *testing.T) {
			s := newRLServer(t, c.limit)
			first := s.do(t)
			// The sustained rate the client reads: the smallest q/w of the
			// policies, as an interval between requests, rounded up to the
			// nanosecond.
			var interval time.Duration
			for _, p := range first.policies {
				if p.w == 0 {
					continue
				}
				iv := (time.Duration(p.w)*time.Second + time.Duration(p.q) - 1) / time.Duration(p.q)
				interval = max(interval, iv)
			}
			require.Positive(t, interval, "no policy with a window")
			// Ten windows of the slowest advertised rate.
			n := 10 * int(c.limit.Period/interval+1)
			for i := range n {
				s.now = s.now.Add(interval)
				got := s.do(t)
				if !assert.Equal(t, http.StatusOK, got.status, "request %d of a client pacing at %v per request (policy %+v)", i, interval, first.policies) {
					return
				}
			}
		})
		t.Run(c.name+"/spending r", func(t *testing.T) {
			s := newRLServer(t, c.limit)
			got := s.do(t)
			for i := range got.r {
				require.Equal(t, http.StatusOK, s.do(t).status, "request %d of the r=%d announced", i, got.r)
			}
			assert.Equal(t, http.StatusTooManyRequests, s.do(t).status, "one more than r")
		})
		t.Run(c.name+"/waiting Retry-After", func(t *testing.T) {
			s := newRLServer(t, c.limit)
			var denied rlAnswer
			for denied.status != http.StatusTooManyRequests {
				denied = s.do(t)
			}
			start := s.now
			s.now = start.Add(time.Duration(denied.retryAfter-1) * time.Second)
			if denied.retryAfter > 1 {
				assert.Equal(t, http.StatusTooManyRequests, s.do(t).status, "one second before Retry-After=%d", denied.retryAfter)
			}
			s.now = start.Add(time.Duration(denied.retryAfter) * time.Second)
			assert.Equal(t, http.StatusOK, s.do(t).status, "after Retry-After=%d", denied.retryAfter)
		})
		t.Run(c.name+"/waiting t (item 21.6)", func(t *testing.T) {
			s := newRLServer(t, c.limit)
			var denied rlAnswer
			for denied.status != http.StatusTooManyRequests {
				denied = s.do(t)
			}
			s.now = s.now.Add(time.Duration(denied.t) * time.Second)
			assert.Equal(t, http.StatusOK, s.do(t).status, "after t=%d of a 429 (item 21.6)", denied.t)
		})
		t.Run(c.name+"/t of a success is when r grows", func(t *testing.T) {
			// The draft: r is the quota left now, and t the seconds within
			// which the client can use no more than r: waiting t brings
			// more quota (item 21.6), and waiting less than t brings none.
			// Each probe replays four requests on a fresh limiter, then
			// sends one more after the wait; that request takes one unit,
			// so its r is one less than what was available.
			probe := func(wait time.Duration) (before, after rlAnswer) {
				s := newRLServer(t, c.limit)
				for range 4 {
					before = s.do(t)
				}
				s.now = s.now.Add(wait)
				return before, s.do(t)
			}
			got, _ := probe(0)
			require.Positive(t, got.t)
			if got.t > 1 {
				_, early := probe(time.Duration(got.t-1) * time.Second)
				assert.True(t, early.status == http.StatusTooManyRequests || early.r < got.r,
					"one second before t=%d no quota has come back (r was %d, now %d after one more request)", got.t, got.r, early.r)
			}
			_, late := probe(time.Duration(got.t) * time.Second)
			require.Equal(t, http.StatusOK, late.status)
			assert.GreaterOrEqual(t, late.r, got.r, "after waiting t=%d more quota came back than the request took (r was %d)", got.t, got.r)
		})
	}
}
