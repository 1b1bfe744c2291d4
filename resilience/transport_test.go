package resilience_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/resilience"
)

type trackedBody struct {
	io.Reader
	closed *atomic.Int64
}

func (b trackedBody) Close() error { b.closed.Add(1); return nil }

// scripted is a base transport answering the given statuses in turn (the
// last one repeats), recording each request body.
type scripted struct {
	statuses []int
	header   http.Header
	netErr   error
	calls    int
	bodies   []string
	closed   atomic.Int64
}

func (s *scripted) RoundTrip(r *http.Request) (*http.Response, error) {
	code := s.statuses[min(s.calls, len(s.statuses)-1)]
	s.calls++
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		_ = r.Body.Close()
		s.bodies = append(s.bodies, string(b))
	}
	if s.netErr != nil {
		return nil, s.netErr
	}
	return &http.Response{
		StatusCode: code, Header: s.header.Clone(), Request: r,
		Body: trackedBody{strings.NewReader(http.StatusText(code)), &s.closed},
	}, nil
}

func newTransport(t testing.TB, base http.RoundTripper, cfg resilience.TransportConfig, policies ...resilience.Policy) *http.Client {
	t.Helper()
	p, err := resilience.NewPipeline[*http.Response](policies...)
	require.NoError(t, err)
	cfg.Base, cfg.Pipeline = base, p
	tr, err := resilience.NewTransport(cfg)
	require.NoError(t, err)
	return &http.Client{Transport: tr}
}

func TestNewTransport_RejectsInvalidConfig(t *testing.T) {
	_, err := resilience.NewTransport(resilience.TransportConfig{})
	assert.ErrorIs(t, err, resilience.ErrInvalidConfig, "a pipeline is required")
}

func TestTransport_RetriesFailedStatusesAndClosesDiscardedBodies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &scripted{statuses: []int{503, 500, 200}}
		client := newTransport(t, base, resilience.TransportConfig{}, newRetry(t, resilience.RetryConfig{InitialDelay: time.Millisecond}))
		resp, err := client.Get("http://dep.example/")
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, int64(2), base.closed.Load(), "both failed responses closed")
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, 3, base.calls)
	})
}

func TestTransport_GivingUpReturnsLastResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &scripted{statuses: []int{502}}
		client := newTransport(t, base, resilience.TransportConfig{}, newRetry(t, resilience.RetryConfig{MaxAttempts: 3, InitialDelay: time.Millisecond}))
		resp, err := client.Get("http://dep.example/")
		require.NoError(t, err)
		assert.Equal(t, 502, resp.StatusCode)
		assert.Equal(t, 3, base.calls)
		assert.Equal(t, int64(2), base.closed.Load(), "the last response is the caller's to close")
		require.NoError(t, resp.Body.Close())
	})
}

func TestTransport_HonoursRetryAfter(t *testing.T) {
	cases := []struct {
		name       string
		retryAfter string
		wantCalls  int
		wantWait   time.Duration
	}{
		{"seconds", "2", 2, 2 * time.Second},
		{"http date", "Sat, 01 Jan 2000 00:00:05 GMT", 2, 5 * time.Second},
		{"beyond the cap: the 429 is returned at once", "120", 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := &scripted{statuses: []int{429, 200}, header: http.Header{"Retry-After": {tc.retryAfter}}}
				client := newTransport(t, base, resilience.TransportConfig{}, newRetry(t, resilience.RetryConfig{InitialDelay: time.Millisecond}))
				start := time.Now()
				resp, err := client.Get("http://dep.example/")
				require.NoError(t, err)
				defer resp.Body.Close()
				assert.Equal(t, tc.wantCalls, base.calls)
				assert.Equal(t, tc.wantWait, time.Since(start))
			})
		})
	}
}

func TestTransport_NonIdempotentRequests(t *testing.T) {
	cases := []struct {
		name      string
		method    string
		key       string
		optIn     bool
		noGetBody bool
		wantCalls int
	}{
		{"GET retried", http.MethodGet, "", false, false, 3},
		{"PUT retried", http.MethodPut, "", false, false, 3},
		{"POST not retried", http.MethodPost, "", false, false, 1},
		{"PATCH not retried", http.MethodPatch, "", false, false, 1},
		{"POST with Idempotency-Key retried", http.MethodPost, "k-1", false, false, 3},
		{"POST retried on opt-in", http.MethodPost, "", true, false, 3},
		{"unreplayable body not retried", http.MethodPut, "", false, true, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := &scripted{statuses: []int{503}}
				client := newTransport(t, base, resilience.TransportConfig{RetryNonIdempotent: tc.optIn},
					newRetry(t, resilience.RetryConfig{MaxAttempts: 3, InitialDelay: time.Millisecond}))
				req, err := http.NewRequestWithContext(t.Context(), tc.method, "http://dep.example/", strings.NewReader("payload"))
				require.NoError(t, err)
				if tc.key != "" {
					req.Header.Set("Idempotency-Key", tc.key)
				}
				if tc.noGetBody {
					req.GetBody = nil
				}
				resp, err := client.Do(req)
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
				assert.Equal(t, tc.wantCalls, base.calls)
				for _, b := range base.bodies {
					assert.Equal(t, "payload", b, "every attempt sends the whole body")
				}
			})
		})
	}
}

func TestTransport_NetworkErrorsAndBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &scripted{statuses: []int{0}, netErr: errBoom}
		breaker := newBreaker(t, resilience.BreakerConfig{WindowSize: 2, MinimumCalls: 2})
		client := newTransport(t, base, resilience.TransportConfig{},
			newRetry(t, resilience.RetryConfig{MaxAttempts: 5, InitialDelay: time.Millisecond}), breaker)
		_, err := client.Get("http://dep.example/")
		assert.ErrorIs(t, err, resilience.ErrOpen, "two network errors open the breaker; the retry stops there")
		assert.Equal(t, 2, base.calls)
	})
}

func TestTransport_BreakerCountsServerErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &scripted{statuses: []int{500}}
		breaker := newBreaker(t, resilience.BreakerConfig{WindowSize: 3, MinimumCalls: 3})
		client := newTransport(t, base, resilience.TransportConfig{}, breaker)
		for range 3 {
			resp, err := client.Get("http://dep.example/")
			require.NoError(t, err)
			assert.Equal(t, 500, resp.StatusCode)
			require.NoError(t, resp.Body.Close())
		}
		assert.Equal(t, resilience.StateOpen, breaker.State())
		_, err := client.Get("http://dep.example/")
		assert.ErrorIs(t, err, resilience.ErrOpen)
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{" 120 ", 2 * time.Minute, false},
		{"Thu, 01 Jan 2026 00:00:30 GMT", 30 * time.Second, false},
		{"Wed, 31 Dec 2025 23:00:00 GMT", 0, false},
		{"99999999999999999999999", 365 * 24 * time.Hour, false},
		{"-5", 0, true},
		{"1.5", 0, true},
		{"12abc", 0, true},
		{"soon", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := resilience.ParseRetryAfter(tc.in, now)
			if tc.wantErr {
				assert.ErrorIs(t, err, resilience.ErrBadRetryAfter)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "Thu, 01 Jan 2026 00:00:30 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "-1", "9999999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := resilience.ParseRetryAfter(s, now)
		if err != nil {
			if d != 0 {
				t.Fatalf("error %v with duration %v", err, d)
			}
			return
		}
		if d < 0 || d > 365*24*time.Hour {
			t.Fatalf("%q: duration %v out of range", s, d)
		}
	})
}

// hedgedBase answers the first request after a second, ignoring
// cancellation as a slow server would, and later ones at once.
type hedgedBase struct {
	firstStatus int
	calls       atomic.Int64
	closed      atomic.Int64
}

func (h *hedgedBase) RoundTrip(r *http.Request) (*http.Response, error) {
	code := 200
	if h.calls.Add(1) == 1 {
		time.Sleep(time.Second)
		code = h.firstStatus
	}
	return &http.Response{StatusCode: code, Header: http.Header{}, Request: r,
		Body: trackedBody{strings.NewReader("ok"), &h.closed}}, nil
}

func TestTransport_HedgeClosesLosingResponses(t *testing.T) {
	for _, loser := range []int{200, 503} {
		t.Run(http.StatusText(loser), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := &hedgedBase{firstStatus: loser}
				h, err := resilience.NewHedge(resilience.HedgeConfig{Delay: 50 * time.Millisecond})
				require.NoError(t, err)
				client := newTransport(t, base, resilience.TransportConfig{}, h)
				start := time.Now()
				resp, err := client.Get("http://dep.example/")
				require.NoError(t, err)
				assert.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, 50*time.Millisecond, time.Since(start), "the hedge answered")
				time.Sleep(time.Second) // the slow loser answers too
				synctest.Wait()
				assert.Equal(t, int64(2), base.calls.Load())
				assert.Equal(t, int64(1), base.closed.Load(), "the loser's body is closed, the winner's is the caller's")
				require.NoError(t, resp.Body.Close())
			})
		})
	}
}
