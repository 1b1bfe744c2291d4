package ratelimit_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/ratelimit"
)

func TestSFParser_FollowsRFC9651(t *testing.T) {
	valid := []string{
		`"default";q=10;w=60`,
		`"a";q=1;w=2, "b";q=3`,
		`"a";r=0;t=6`,
		`1`, `-999999999999999`, `999999999999999`, `1.5`, `-0.125`, `123456789012.123`,
		`?1`, `?0`, `:aGVsbG8=:`, `tok/en:x`, `*`, `(a "b" 1);p`, `()`, `@1659578233`, `%"f%c3%bc"`,
		`"esc\"aped\\"`, `a;b;c=?0`, `  a , b	,c`,
	}
	invalid := []string{
		`"a";q=1,`, `1234567890123456`, `-1234567890123456`, `1234567890123.5`, `1.`, `1.1234`,
		`"unterminated`, `"bad\escape"`, "\"tab\tin string\"", `"é"`, `a;Q=1`, `a;1=1`, `a,,b`,
		`"a" "b"`, `(a b`, `(a,b)`, `?2`, `:a*b:`, `@1.5`, `%"%C3%BC"`, `%"%ff"`, `,a`, `a;q=`,
	}
	for _, s := range valid {
		_, err := parseSFList(s)
		assert.NoError(t, err, "%s", s)
	}
	for _, s := range invalid {
		_, err := parseSFList(s)
		assert.ErrorIs(t, err, errSF, "%s", s)
	}
	it, err := parseSFList(`"x";q=10;w=60;bedrock-burst=20, y;r=?1`)
	require.NoError(t, err)
	require.Len(t, it, 2)
	assert.Equal(t, "x", it[0].value)
	q, _ := it[0].param("q")
	burst, _ := it[0].param("bedrock-burst")
	assert.Equal(t, []any{int64(10), int64(20)}, []any{q, burst})
	assert.Equal(t, sfToken("y"), it[1].value)
}

// policyItem is one item of RateLimit-Policy, as a client reads it.
type policyItem struct {
	name  string
	q, w  int64
	burst int64 // the bedrock-burst parameter; 0 when absent
}

// serviceLimit is the RateLimit field, as a client reads it.
type serviceLimit struct {
	name string
	r, t int64
}

// readFields checks the rate-limit fields of a response against RFC 9651
// and draft-ietf-httpapi-ratelimit-headers, and returns what a client reads
// from them. retryAfter is -1 when the field is absent.
func readFields(h http.Header) (policy []policyItem, limit *serviceLimit, retryAfter int64, err error) {
	nonNegInt := func(it sfItem, key string, required bool) (int64, error) {
		v, ok := it.param(key)
		if !ok {
			if required {
				return 0, fmt.Errorf("parameter %s missing", key)
			}
			return 0, nil
		}
		n, isInt := v.(int64)
		if !isInt || n < 0 {
			return 0, fmt.Errorf("parameter %s=%v is not a non-negative Integer", key, v)
		}
		return n, nil
	}
	retryAfter = -1
	if vs := h.Values("RateLimit-Policy"); len(vs) > 0 {
		items, err := parseSFList(strings.Join(vs, ", "))
		if err != nil {
			return nil, nil, 0, err
		}
		if len(items) == 0 {
			return nil, nil, 0, errors.New("empty RateLimit-Policy")
		}
		seen := map[string]bool{}
		for _, it := range items {
			name, ok := it.value.(string)
			if !ok || seen[name] {
				return nil, nil, 0, fmt.Errorf("policy %v: not a String, or repeated", it.value)
			}
			seen[name] = true
			p := policyItem{name: name}
			if p.q, err = nonNegInt(it, "q", true); err != nil {
				return nil, nil, 0, err
			}
			if p.w, err = nonNegInt(it, "w", false); err != nil {
				return nil, nil, 0, err
			}
			if _, ok := it.param("w"); ok && p.w == 0 {
				return nil, nil, 0, errors.New("w must not be zero")
			}
			if p.burst, err = nonNegInt(it, "bedrock-burst", false); err != nil {
				return nil, nil, 0, err
			}
			policy = append(policy, p)
		}
	}
	if vs := h.Values("RateLimit"); len(vs) > 0 {
		items, err := parseSFList(strings.Join(vs, ", "))
		if err != nil {
			return nil, nil, 0, err
		}
		if len(items) != 1 {
			return nil, nil, 0, fmt.Errorf("RateLimit has %d items, want 1", len(items))
		}
		name, ok := items[0].value.(string)
		if !ok {
			return nil, nil, 0, fmt.Errorf("RateLimit names %v, not a String", items[0].value)
		}
		limit = &serviceLimit{name: name}
		if limit.r, err = nonNegInt(items[0], "r", true); err != nil {
			return nil, nil, 0, err
		}
		if limit.t, err = nonNegInt(items[0], "t", false); err != nil {
			return nil, nil, 0, err
		}
		if policy != nil && !hasPolicy(policy, name) {
			return nil, nil, 0, fmt.Errorf("RateLimit names %q, which RateLimit-Policy lacks", name)
		}
	}
	for _, name := range []string{"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		vs := h.Values(name)
		if len(vs) == 0 {
			continue
		}
		// delay-seconds (RFC 9110 10.2.3) and the legacy fields are 1*DIGIT.
		if len(vs) != 1 || vs[0] == "" || strings.Trim(vs[0], "0123456789") != "" {
			return nil, nil, 0, fmt.Errorf("%s: %q is not 1*DIGIT", name, vs)
		}
		if name == "Retry-After" {
			it, err := parseSFItem(vs[0])
			if err != nil {
				return nil, nil, 0, err
			}
			retryAfter = it.value.(int64)
		}
	}
	return policy, limit, retryAfter, nil
}

func hasPolicy(policy []policyItem, name string) bool {
	for _, p := range policy {
		if p.name == name {
			return true
		}
	}
	return false
}

// clockedMiddleware returns middleware over a Memory store whose clock is
// the returned variable (µs), for tests that drive time explicitly.
func clockedMiddleware(t testing.TB, cfg ratelimit.MiddlewareConfig, limits ...ratelimit.Limit) (http.Handler, *atomic.Int64, error) {
	t.Helper()
	now := new(atomic.Int64)
	now.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro())
	mem, err := ratelimit.NewMemory(ratelimit.MemoryConfig{Now: func() time.Time { return time.UnixMicro(now.Load()) }})
	require.NoError(t, err)
	l, err := ratelimit.New(ratelimit.Config{Limits: limits, Store: mem})
	if err != nil {
		return nil, nil, err
	}
	if cfg.Key == nil {
		cfg.Key = func(*http.Request) (string, error) { return "client", nil }
	}
	mw, err := ratelimit.NewMiddleware(l, cfg)
	require.NoError(t, err)
	return mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })), now, nil
}

func get(h http.Handler) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	return rec
}

var algorithms = []ratelimit.Algorithm{ratelimit.GCRA, ratelimit.TokenBucket, ratelimit.FixedWindow,
	ratelimit.SlidingWindow, ratelimit.SlidingLog}

// TestFields_AreStructuredFields holds the fields of limits at the edges of
// what Validate accepts to RFC 9651: counts beyond its 15-digit Integers
// are written as the largest Integer (which understates, never overstates,
// what a client may do).
func TestFields_AreStructuredFields(t *testing.T) {
	const sfMax = 999_999_999_999_999
	type tc struct {
		name  string
		limit ratelimit.Limit
	}
	cases := []tc{
		{"huge burst", ratelimit.Limit{Rate: 1, Period: time.Microsecond, Burst: 1 << 51}},
		{"huge rate", ratelimit.Limit{Rate: 1 << 30, Period: 1 << 30 * time.Microsecond, Burst: 1 << 50}},
		{"long period", ratelimit.Limit{Rate: 1, Period: 1 << 50 * time.Microsecond, Algorithm: ratelimit.SlidingWindow}},
		{"sub-second", ratelimit.Limit{Rate: 7, Period: 1500 * time.Microsecond, Name: "a-b_c.d:e"}},
		{"longest period", ratelimit.Limit{Rate: 1_000_000, Period: time.Duration(1<<63-1) / time.Microsecond * time.Microsecond, Burst: 1}},
	}
	for _, algo := range algorithms {
		cases = append(cases, tc{"algo " + algo.String(), ratelimit.Limit{Rate: 3, Period: time.Second, Algorithm: algo}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, _, err := clockedMiddleware(t, ratelimit.MiddlewareConfig{LegacyHeaders: true}, c.limit)
			require.NoError(t, err)
			for i := range 5 {
				rec := get(h)
				policy, limit, _, err := readFields(rec.Header())
				require.NoError(t, err, "response %d: %v", i, rec.Header())
				require.NotNil(t, limit)
				require.Len(t, policy, 1)
				assert.LessOrEqual(t, policy[0].q, int64(sfMax))
			}
		})
	}
}

// FuzzFields: whatever the limits, costs and timing, every field the
// middleware writes is a valid structured field a client can read, and a
// denial's t equals its Retry-After.
func FuzzFields(f *testing.F) {
	f.Add(10, int64(time.Minute), 20, uint8(0), 1, int64(time.Second), "n")
	f.Add(1, int64(time.Microsecond), 1<<51, uint8(1), 3, int64(1), "")
	f.Add(3, int64(1500*time.Microsecond), 0, uint8(2), 1, int64(700*time.Microsecond), "a.b")
	f.Add(1000, int64(time.Hour), 0, uint8(3), 999, int64(time.Minute), "log")
	f.Add(5, int64(time.Second), 0, uint8(4), 2, int64(-time.Second), "fixed")
	f.Add(10, int64(time.Minute), 3, uint8(0), 1, int64(0), "denied")
	f.Fuzz(func(t *testing.T, rate int, period int64, burst int, algo uint8, cost int, step int64, name string) {
		limit := ratelimit.Limit{Rate: rate, Period: time.Duration(period), Burst: burst, Algorithm: ratelimit.Algorithm(algo), Name: name}
		if limit.Validate() != nil || (limit.Algorithm == ratelimit.SlidingLog && rate > 1000) {
			return
		}
		h, now, err := clockedMiddleware(t, ratelimit.MiddlewareConfig{
			LegacyHeaders: true,
			Cost:          func(*http.Request) int { return max(cost, 1) },
		}, limit, ratelimit.PerHour(1_000_000))
		if err != nil {
			return
		}
		for range 6 {
			rec := get(h)
			_, rl, retry, err := readFields(rec.Header())
			if err != nil {
				t.Fatalf("%+v: %v", limit, err)
			}
			// On a denial, t and Retry-After name the same moment: the
			// draft wants Retry-After no earlier than t, and t no earlier
			// than Retry-After is what makes t worth reading.
			if rec.Code == http.StatusTooManyRequests && rl != nil && rl.t != retry {
				t.Fatalf("%+v: t=%d but Retry-After %d", limit, rl.t, retry)
			}
			now.Add(step % int64(time.Hour) / 1000)
		}
	})
}

// TestFields_ResetIsWhenMoreQuotaComes pins the meaning of t, for every
// algorithm: the seconds until the limit admits more than r (the draft's
// effective window, within which the client can use no more than r), and
// on a denial exactly Retry-After, so that neither field points earlier
// than the other.
func TestFields_ResetIsWhenMoreQuotaComes(t *testing.T) {
	type step struct {
		at     time.Duration // since the first request
		status int
		field  string // RateLimit
		retry  string // Retry-After
	}
	ok := func(at time.Duration, field string) step { return step{at, http.StatusNoContent, field, ""} }
	limited := func(at time.Duration, field, retry string) step {
		return step{at, http.StatusTooManyRequests, field, retry}
	}
	burst := func(n int, field func(i int) string) []step {
		var s []step
		for i := range n {
			s = append(s, ok(0, field(i)))
		}
		return s
	}
	perMinute := func(algo ratelimit.Algorithm) ratelimit.Limit {
		return ratelimit.Limit{Rate: 10, Period: time.Minute, Algorithm: algo}
	}
	bucketSteps := append(burst(10, func(i int) string { return fmt.Sprintf(`"default";r=%d;t=6`, 9-i) }),
		limited(0, `"default";r=0;t=6`, "6"), // was t=60: the time until the bucket is full
		limited(time.Second, `"default";r=0;t=5`, "5"),
		ok(6*time.Second, `"default";r=0;t=6`),
		ok(15*time.Second, `"default";r=0;t=3`),
	)
	cases := []struct {
		limit ratelimit.Limit
		steps []step
	}{
		{perMinute(ratelimit.GCRA), bucketSteps},
		{perMinute(ratelimit.TokenBucket), bucketSteps},
		{perMinute(ratelimit.FixedWindow), append(burst(10, func(i int) string { return fmt.Sprintf(`"default";r=%d;t=60`, 9-i) }),
			limited(15*time.Second, `"default";r=0;t=45`, "45"),
			ok(time.Minute, `"default";r=9;t=60`),
		)},
		{perMinute(ratelimit.SlidingLog), []step{
			ok(0, `"default";r=9;t=60`),
			ok(20*time.Second, `"default";r=8;t=40`), // was t=60: until the last one expires
			ok(50*time.Second, `"default";r=7;t=10`),
			ok(50*time.Second, `"default";r=6;t=10`),
			ok(50*time.Second, `"default";r=5;t=10`),
			ok(50*time.Second, `"default";r=4;t=10`),
			ok(50*time.Second, `"default";r=3;t=10`),
			ok(50*time.Second, `"default";r=2;t=10`),
			ok(50*time.Second, `"default";r=1;t=10`),
			ok(50*time.Second, `"default";r=0;t=10`),
			limited(55*time.Second, `"default";r=0;t=5`, "5"), // was t=55
			ok(time.Minute, `"default";r=0;t=20`),
		}},
		{perMinute(ratelimit.SlidingWindow), append(burst(10, func(i int) string {
			// r grows once the requests' weight, carried into the next
			// window, has fallen by one: 120s for the first (it must leave
			// both windows), then sooner as there are more of them.
			return fmt.Sprintf(`"default";r=%d;t=%d`, 9-i, []int{120, 90, 80, 75, 72, 70, 69, 68, 67, 66}[i])
		}),
			limited(0, `"default";r=0;t=66`, "66"), // was t=120: until both windows are empty
			ok(66*time.Second, `"default";r=0;t=6`),
		)},
	}
	for _, c := range cases {
		t.Run(c.limit.Algorithm.String(), func(t *testing.T) {
			h, now, err := clockedMiddleware(t, ratelimit.MiddlewareConfig{}, c.limit)
			require.NoError(t, err)
			start := now.Load()
			for i, s := range c.steps {
				now.Store(start + s.at.Microseconds())
				rec := get(h)
				assert.Equal(t, s.status, rec.Code, "step %d", i)
				assert.Equal(t, s.field, rec.Header().Get("RateLimit"), "step %d at %v", i, s.at)
				assert.Equal(t, s.retry, rec.Header().Get("Retry-After"), "step %d", i)
			}
		})
	}
}
