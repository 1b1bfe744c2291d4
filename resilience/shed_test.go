package resilience_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/resilience"
)

func TestNewShedder_RejectsInvalidConfig(t *testing.T) {
	l := newAdaptive(t, resilience.AdaptiveLimiterConfig{})
	for name, tc := range map[string]struct {
		l   *resilience.AdaptiveLimiter
		cfg resilience.ShedderConfig
	}{
		"nil limiter":         {nil, resilience.ShedderConfig{}},
		"negative RetryAfter": {l, resilience.ShedderConfig{RetryAfter: -time.Second}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := resilience.NewShedder(tc.l, tc.cfg)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
		})
	}
}

func byPath(r *http.Request) resilience.Priority {
	switch r.URL.Path {
	case "/healthz", "/login":
		return resilience.PriorityCritical
	case "/items":
		return resilience.PrioritySheddable
	}
	return resilience.PriorityNormal
}

// TestShedder_RefusesSheddableFirstAndKeepsCriticalFlowing fills the one
// slot and the queue, then shows that critical requests still get through
// while sheddable and normal ones are refused with a 503 problem.
func TestShedder_RefusesSheddableFirstAndKeepsCriticalFlowing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptive(t, resilience.AdaptiveLimiterConfig{InitialLimit: 1, MaxLimit: 1, MaxQueue: 1, MaxWait: -1})
		s, err := resilience.NewShedder(l, resilience.ShedderConfig{Priority: byPath, RetryAfter: 1500 * time.Millisecond})
		require.NoError(t, err)
		release := make(chan struct{})
		h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				<-release
			}
			w.WriteHeader(http.StatusOK)
		}))
		var mu sync.Mutex
		codes := map[string]int{}
		serve := func(path string) {
			go func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				mu.Lock()
				codes[path] = rec.Code
				mu.Unlock()
			}()
			synctest.Wait()
		}
		serve("/slow")    // holds the slot
		serve("/items")   // queued
		serve("/orders")  // the queue (1) is full: evicts /items
		serve("/login")   // critical: may queue up to twice the limit
		serve("/orders2") // full of its equals and betters: refused
		close(release)
		synctest.Wait()
		assert.Equal(t, map[string]int{"/slow": 200, "/items": 503, "/orders": 200, "/login": 200, "/orders2": 503}, codes)

		// The refusal itself.
		hold := make(chan struct{})
		blocked := s.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hold }))
		go blocked.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/slow", nil))
		go blocked.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/queued", nil))
		synctest.Wait()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/items", nil))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "2", rec.Header().Get("Retry-After"))
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		var doc map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
		assert.Equal(t, float64(503), doc["status"])
		assert.Equal(t, "Service Unavailable", doc["title"])
		assert.NotEmpty(t, doc["detail"])
		close(hold)
		synctest.Wait()
	})
}

func TestShedder_ARequestPastItsDeadlineCountsAsDropped(t *testing.T) {
	c := &manualClock{}
	var dropped bool
	l := newAdaptive(t, resilience.AdaptiveLimiterConfig{InitialLimit: 10, Now: c.Now, Hooks: resilience.AdaptiveLimiterHooks{
		OnLimitChange: func(ch resilience.LimitChange) { dropped = ch.Dropped },
	}})
	s, err := resilience.NewShedder(l, resilience.ShedderConfig{})
	require.NoError(t, err)
	h := s.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { c.Advance(10 * time.Millisecond) }))
	for range 10 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	}
	require.Equal(t, 10, l.Limit(), "the first window sets the baseline")
	c.Advance(time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for range 10 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
	}
	assert.True(t, dropped)
	assert.Equal(t, 9, l.Limit())
}

func TestShedder_AdmittedRequestDoesNotAllocateInTheShedder(t *testing.T) {
	l := newAdaptive(t, resilience.AdaptiveLimiterConfig{})
	s, err := resilience.NewShedder(l, resilience.ShedderConfig{Priority: byPath})
	require.NoError(t, err)
	h := s.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/items", nil)
	w := httptest.NewRecorder()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, r) }))
}

func TestShedder_ReleasesTheSlotWhenTheHandlerPanics(t *testing.T) {
	l := newAdaptive(t, resilience.AdaptiveLimiterConfig{})
	s, err := resilience.NewShedder(l, resilience.ShedderConfig{})
	require.NoError(t, err)
	h := s.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bug") }))
	assert.Panics(t, func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil)) })
	assert.Zero(t, l.InFlight())
}
