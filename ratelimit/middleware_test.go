package ratelimit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/ratelimit"
)

func byHeader(*testing.T) ratelimit.KeyFunc { return ratelimit.KeyByHeader("X-Client") }

func serve(t *testing.T, mw *ratelimit.Middleware, client string) *httptest.ResponseRecorder {
	t.Helper()
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if client != "" {
		req.Header.Set("X-Client", client)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestMiddleware_HeadersAndProblemOn429(t *testing.T) {
	l := newLimiter(t, ratelimit.Limit{Rate: 2, Period: time.Minute, Name: "per-minute"}, ratelimit.Limit{Rate: 100, Period: time.Hour})
	mw, err := ratelimit.NewMiddleware(l, ratelimit.MiddlewareConfig{Key: byHeader(t)})
	require.NoError(t, err)

	policy := `"per-minute";q=2;w=60, "limit1";q=100;w=3600`
	rec := serve(t, mw, "a")
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, policy, rec.Header().Get("RateLimit-Policy"))
	assert.Equal(t, `"per-minute";r=1;t=30`, rec.Header().Get("RateLimit"))
	assert.Empty(t, rec.Header().Get("Retry-After"))
	assert.Empty(t, rec.Header().Get("X-RateLimit-Limit"), "legacy headers are opt-in")

	serve(t, mw, "a")
	rec = serve(t, mw, "a")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Equal(t, policy, rec.Header().Get("RateLimit-Policy"))
	assert.Equal(t, `"per-minute";r=0;t=30`, rec.Header().Get("RateLimit"), "t agrees with Retry-After")
	assert.Equal(t, "30", rec.Header().Get("Retry-After"), "exact: the next event is due in 30s")
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, 429.0, body["status"])
	assert.Equal(t, "Too Many Requests", body["title"])

	assert.Equal(t, http.StatusNoContent, serve(t, mw, "b").Code, "keys are separate")
}

func TestMiddleware_RetryAfterRoundsUp(t *testing.T) {
	l := newLimiter(t, ratelimit.Limit{Rate: 2, Period: 3 * time.Second, Burst: 1}) // 1.5s per event
	mw, err := ratelimit.NewMiddleware(l, ratelimit.MiddlewareConfig{Key: byHeader(t), LegacyHeaders: true})
	require.NoError(t, err)
	rec := serve(t, mw, "a")
	assert.Equal(t, "1", rec.Header().Get("X-RateLimit-Limit"))
	assert.Equal(t, "0", rec.Header().Get("X-RateLimit-Remaining"))
	assert.Equal(t, "2", rec.Header().Get("X-RateLimit-Reset"), "1.5s rounds up")
	rec = serve(t, mw, "a")
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "2", rec.Header().Get("Retry-After"), "1.5s rounds up, never down")
}

func TestMiddleware_Errors(t *testing.T) {
	l := newLimiter(t, ratelimit.PerMinute(2))
	_, err := ratelimit.NewMiddleware(l, ratelimit.MiddlewareConfig{})
	assert.ErrorIs(t, err, ratelimit.ErrInvalidConfig, "a key function is required")

	mw, err := ratelimit.NewMiddleware(l, ratelimit.MiddlewareConfig{Key: byHeader(t)})
	require.NoError(t, err)
	rec := serve(t, mw, "")
	assert.Equal(t, http.StatusBadRequest, rec.Code, "no key: the request lacks the header the limit is keyed by")
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Empty(t, rec.Header().Get("WWW-Authenticate"), "a rate limit is no authentication")

	rec = serve(t, mw, strings.Repeat("x", ratelimit.MaxKeyLen+1))
	assert.Equal(t, http.StatusBadRequest, rec.Code, "a client's oversized key")

	zero, err := ratelimit.NewMiddleware(l, ratelimit.MiddlewareConfig{Key: byHeader(t), Cost: func(*http.Request) int { return 0 }})
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, serve(t, zero, "a").Code, "a bad cost is a bug")

	expensive, err := ratelimit.NewMiddleware(l, ratelimit.MiddlewareConfig{Key: byHeader(t), Cost: func(*http.Request) int { return 3 }})
	require.NoError(t, err)
	rec = serve(t, expensive, "a")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Empty(t, rec.Header().Get("Retry-After"), "retrying never helps")

	down, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerMinute(1)}, Store: failingStore{assert.AnError}})
	require.NoError(t, err)
	mw, err = ratelimit.NewMiddleware(down, ratelimit.MiddlewareConfig{Key: byHeader(t)})
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, serve(t, mw, "a").Code)
}

// degradedStore answers as a store does while its backend is down: admit
// (fail open) or a local fallback's denial.
type degradedStore struct{ deny bool }

func (s degradedStore) Do(context.Context, ratelimit.Request) (ratelimit.Result, error) {
	if s.deny {
		return ratelimit.Result{RetryAfter: 1500 * time.Millisecond, Degraded: true}, nil
	}
	return ratelimit.Result{Allowed: true, Degraded: true}, nil
}

func TestMiddleware_DegradedDecisionCarriesNoRateLimitFields(t *testing.T) {
	for _, deny := range []bool{false, true} {
		l, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerMinute(1)}, Store: degradedStore{deny}})
		require.NoError(t, err)
		mw, err := ratelimit.NewMiddleware(l, ratelimit.MiddlewareConfig{Key: byHeader(t)})
		require.NoError(t, err)
		rec := serve(t, mw, "a")
		assert.Empty(t, rec.Header().Get("RateLimit"))
		assert.Empty(t, rec.Header().Get("RateLimit-Policy"))
		if deny {
			assert.Equal(t, http.StatusTooManyRequests, rec.Code)
			assert.Equal(t, "2", rec.Header().Get("Retry-After"), "a denial still says when to retry")
		} else {
			assert.Equal(t, http.StatusNoContent, rec.Code)
			assert.Empty(t, rec.Header().Get("Retry-After"))
		}
	}
}

func TestMiddleware_CustomResponses(t *testing.T) {
	l := newLimiter(t, ratelimit.PerMinute(1))
	mw, err := ratelimit.NewMiddleware(l, ratelimit.MiddlewareConfig{
		Key: byHeader(t),
		Limited: func(w http.ResponseWriter, _ *http.Request, res ratelimit.Result) {
			w.WriteHeader(http.StatusServiceUnavailable)
		},
		Error: func(w http.ResponseWriter, _ *http.Request, err error) { w.WriteHeader(http.StatusTeapot) },
	})
	require.NoError(t, err)
	serve(t, mw, "a")
	rec := serve(t, mw, "a")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "60", rec.Header().Get("Retry-After"), "headers are set before the custom writer")
	assert.Equal(t, http.StatusTeapot, serve(t, mw, "").Code)
}

// headerWriter is a ResponseWriter that reuses its header map, as servers
// do between requests on one connection.
type headerWriter struct{ h http.Header }

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *headerWriter) WriteHeader(int)             {}

func TestMiddleware_HeadersCostOneAllocation(t *testing.T) {
	l := newLimiter(t, ratelimit.Limit{Rate: 1_000_000, Period: time.Second})
	mw, err := ratelimit.NewMiddleware(l, ratelimit.MiddlewareConfig{
		Key:           func(*http.Request) (string, error) { return "k", nil },
		LegacyHeaders: true,
	})
	require.NoError(t, err)
	h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	w := &headerWriter{h: make(http.Header, 8)}
	allocs := testing.AllocsPerRun(1000, func() {
		clear(w.h)
		h.ServeHTTP(w, req)
	})
	assert.LessOrEqual(t, allocs, 1.0)
	assert.Equal(t, `"default";q=1000000;w=1`, w.h.Get("RateLimit-Policy"))
}

// The 429 document speaks to a client: whole seconds, rounded up as
// Retry-After is, never a Go duration such as 19.998887s.
func TestMiddleware_ProblemSaysWholeSeconds(t *testing.T) {
	cases := []struct {
		after time.Duration // between the two requests
		want  string
	}{
		{1113 * time.Microsecond, "Rate limit exceeded; retry after 20 seconds."},
		{19*time.Second + 500*time.Millisecond, "Rate limit exceeded; retry after 1 second."},
	}
	for _, c := range cases {
		h, now, err := clockedMiddleware(t, ratelimit.MiddlewareConfig{}, ratelimit.Limit{Rate: 3, Period: time.Minute, Burst: 1})
		require.NoError(t, err)
		require.Equal(t, http.StatusNoContent, get(h).Code)
		now.Add(c.after.Microseconds())
		rec := get(h)
		require.Equal(t, http.StatusTooManyRequests, rec.Code)
		var body map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		assert.Equal(t, c.want, body["detail"])
		assert.Contains(t, c.want, " "+rec.Header().Get("Retry-After")+" second", "the detail and Retry-After agree")
	}
}

// Allow decides as Handler does and writes nothing: a denial is a Result,
// a request it cannot decide is an error the caller can branch on.
func TestMiddleware_AllowDecidesWithoutServing(t *testing.T) {
	l := newLimiter(t, ratelimit.PerMinute(2))
	cost := 1
	mw, err := ratelimit.NewMiddleware(l, ratelimit.MiddlewareConfig{Key: byHeader(t), Cost: func(*http.Request) int { return cost }})
	require.NoError(t, err)
	req := func(client string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if client != "" {
			r.Header.Set("X-Client", client)
		}
		return r
	}

	for i, want := range []bool{true, true, false} {
		res, err := mw.Allow(req("a"))
		require.NoError(t, err)
		assert.Equal(t, want, res.Allowed, "request %d", i)
	}
	rec := serve(t, mw, "a")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code, "Allow and Handler count against the same limit")

	_, err = mw.Allow(req(""))
	assert.ErrorIs(t, err, ratelimit.ErrNoKey)
	cost = 3
	_, err = mw.Allow(req("b"))
	assert.ErrorIs(t, err, ratelimit.ErrCostExceedsBurst)
	cost = 0
	_, err = mw.Allow(req("b"))
	assert.ErrorIs(t, err, ratelimit.ErrInvalidCost)

	_, err = ratelimit.NewMiddleware(nil, ratelimit.MiddlewareConfig{Key: byHeader(t)})
	assert.ErrorIs(t, err, ratelimit.ErrInvalidConfig)
}
