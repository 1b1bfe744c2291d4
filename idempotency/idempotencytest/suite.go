package idempotencytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/internal/testenv/testclock"
)

// Harness tells the suite how to make a store and how to let time pass.
type Harness struct {
	// NewStore returns an empty store for one test.
	NewStore func(t *testing.T) idempotency.Store
	// Sleep lets d pass on the store's clock: a fake clock's advance for an
	// in-memory store, a real sleep for a server-side clock.
	Sleep func(d time.Duration)
	// TTL is the short lock and retention period the expiry tests use; the
	// suite sleeps 2*TTL to see it expire. 30ms when zero.
	TTL time.Duration
}

// Clock is a fake clock for in-memory stores: Now returns its time, which
// moves only with Advance (or Set). It is safe for concurrent use. It is the
// one clock of Bedrock's suites.
type Clock = testclock.Clock

// NewClock returns a clock that reads start.
func NewClock(start time.Time) *Clock { return testclock.New(start) }

// Run runs the whole suite: the store's contract, then the middleware's
// behaviour on top of the store.
func Run(t *testing.T, h Harness) {
	if h.TTL == 0 {
		h.TTL = 30 * time.Millisecond
	}
	t.Run("Store", func(t *testing.T) { runStore(t, h) })
	t.Run("Middleware", func(t *testing.T) { runMiddleware(t, h) })
}

func fp(s string) idempotency.Fingerprint {
	var f idempotency.Fingerprint
	copy(f[:], s)
	return f
}

func runStore(t *testing.T, h Harness) {
	ctx := context.Background()
	resp := &idempotency.Response{
		Status: 201,
		Header: http.Header{"Content-Type": {"application/json"}, "Location": {"/orders/7"}},
		Body:   []byte(`{"id":7}` + "\x00\xff"),
	}

	t.Run("BeginLocksAFreeKeyAndReportsItInProgress", func(t *testing.T) {
		s := h.NewStore(t)
		first, err := s.Begin(ctx, "k", fp("a"), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, idempotency.Acquired, first.State)
		assert.NotEmpty(t, first.Token)
		second, err := s.Begin(ctx, "k", fp("b"), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, idempotency.InProgress, second.State)
		assert.Equal(t, fp("a"), second.Fingerprint, "the holder's fingerprint is reported")
	})

	t.Run("CompleteStoresTheResponseExactly", func(t *testing.T) {
		s := h.NewStore(t)
		l, err := s.Begin(ctx, "k", fp("a"), time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, "k", l.Token, resp, time.Minute))
		got, err := s.Begin(ctx, "k", fp("a"), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, idempotency.Completed, got.State)
		assert.Equal(t, fp("a"), got.Fingerprint)
		require.NotNil(t, got.Response)
		assert.Equal(t, resp.Status, got.Response.Status)
		assert.Equal(t, resp.Header, got.Response.Header)
		assert.Equal(t, resp.Body, got.Response.Body)
	})

	t.Run("ReleaseFreesTheKey", func(t *testing.T) {
		s := h.NewStore(t)
		l, err := s.Begin(ctx, "k", fp("a"), time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.Release(ctx, "k", l.Token))
		again, err := s.Begin(ctx, "k", fp("b"), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, idempotency.Acquired, again.State)
	})

	t.Run("AForeignTokenChangesNothing", func(t *testing.T) {
		s := h.NewStore(t)
		_, err := s.Begin(ctx, "k", fp("a"), time.Minute)
		require.NoError(t, err)
		assert.ErrorIs(t, s.Complete(ctx, "k", "not-the-token", resp, time.Minute), idempotency.ErrLockLost)
		assert.ErrorIs(t, s.Release(ctx, "k", "not-the-token"), idempotency.ErrLockLost)
		assert.ErrorIs(t, s.Release(ctx, "absent", "x"), idempotency.ErrLockLost)
		still, err := s.Begin(ctx, "k", fp("a"), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, idempotency.InProgress, still.State)
	})

	t.Run("AnExpiredLockCanBeTakenAndTheOldHolderCannotComplete", func(t *testing.T) {
		s := h.NewStore(t)
		old, err := s.Begin(ctx, "k", fp("a"), h.TTL)
		require.NoError(t, err)
		h.Sleep(2 * h.TTL)
		taken, err := s.Begin(ctx, "k", fp("a"), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, idempotency.Acquired, taken.State)
		assert.ErrorIs(t, s.Complete(ctx, "k", old.Token, resp, time.Minute), idempotency.ErrLockLost)
		require.NoError(t, s.Complete(ctx, "k", taken.Token, resp, time.Minute))
	})

	t.Run("ACompletedRecordExpiresAfterRetention", func(t *testing.T) {
		s := h.NewStore(t)
		l, err := s.Begin(ctx, "k", fp("a"), time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, "k", l.Token, resp, h.TTL))
		h.Sleep(2 * h.TTL)
		again, err := s.Begin(ctx, "k", fp("a"), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, idempotency.Acquired, again.State)
	})

	t.Run("ConcurrentBeginsAcquireExactlyOnce", func(t *testing.T) {
		s := h.NewStore(t)
		var acquired atomic.Int32
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				l, err := s.Begin(ctx, "k", fp("a"), time.Minute)
				if assert.NoError(t, err) && l.State == idempotency.Acquired {
					acquired.Add(1)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int32(1), acquired.Load())
	})
}

// server is a handler that counts its runs and answers as told.
type server struct {
	runs   atomic.Int32
	status atomic.Int32 // 0 means 201
	gate   chan struct{}
	panics atomic.Bool
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.runs.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	if s.panics.Load() {
		panic("handler failed")
	}
	body, _ := io.ReadAll(r.Body)
	status := int(s.status.Load())
	if status == 0 {
		status = http.StatusCreated
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", fmt.Sprintf("/orders/%d", n))
	w.Header().Set("X-Not-Stored", "1")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"run":%d,"echo":%q}`, n, body)
}

type call struct {
	method, path, key, principal, body string
}

func do(t *testing.T, h http.Handler, c call) *httptest.ResponseRecorder {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	if c.path == "" {
		c.path = "/orders"
	}
	r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	if c.key != "" {
		r.Header.Set(idempotency.KeyHeader, c.key)
	}
	if c.principal != "" {
		r.Header.Set("X-User", c.principal)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func (h Harness) middleware(t *testing.T, cfg idempotency.Config, next http.Handler) http.Handler {
	t.Helper()
	cfg.Principal = func(r *http.Request) string { return r.Header.Get("X-User") }
	mw, err := idempotency.NewMiddleware(h.NewStore(t), cfg)
	require.NoError(t, err)
	return mw.Handler(next)
}

func runMiddleware(t *testing.T, h Harness) {
	t.Run("ARepeatIsReplayedByteForByteWithoutRunningTheHandler", func(t *testing.T) {
		srv := &server{}
		mw := h.middleware(t, idempotency.Config{}, srv)
		first := do(t, mw, call{key: "k1", body: `{"sku":"a"}`})
		second := do(t, mw, call{key: "k1", body: `{"sku":"a"}`})
		assert.Equal(t, int32(1), srv.runs.Load())
		assert.Equal(t, http.StatusCreated, second.Code)
		assert.Equal(t, first.Body.Bytes(), second.Body.Bytes())
		assert.Equal(t, first.Header().Get("Location"), second.Header().Get("Location"))
		assert.Equal(t, "true", second.Header().Get(idempotency.ReplayedHeader))
		assert.Empty(t, first.Header().Get(idempotency.ReplayedHeader))
		assert.Empty(t, second.Header().Get("X-Not-Stored"), "only selected headers are replayed")
	})

	t.Run("ConcurrentDuplicatesRunTheHandlerOnce", func(t *testing.T) {
		srv := &server{gate: make(chan struct{})}
		mw := h.middleware(t, idempotency.Config{}, srv)
		codes := make(chan int, 100)
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() { codes <- do(t, mw, call{key: "dup", body: "x"}).Code })
		}
		// Let the first run finish only after most duplicates have arrived.
		time.Sleep(5 * time.Millisecond)
		close(srv.gate)
		wg.Wait()
		close(codes)
		counts := map[int]int{}
		for c := range codes {
			counts[c]++
		}
		assert.Equal(t, int32(1), srv.runs.Load(), "the handler runs exactly once")
		assert.Equal(t, 100, counts[http.StatusCreated]+counts[http.StatusConflict], "answers: %v", counts)
		assert.GreaterOrEqual(t, counts[http.StatusCreated], 1)
	})

	t.Run("TheSameKeyForAnotherRequestIs422", func(t *testing.T) {
		srv := &server{}
		mw := h.middleware(t, idempotency.Config{}, srv)
		require.Equal(t, http.StatusCreated, do(t, mw, call{key: "k", body: "a"}).Code)
		for name, c := range map[string]call{
			"body":   {key: "k", body: "b"},
			"path":   {key: "k", body: "a", path: "/refunds"},
			"method": {key: "k", body: "a", method: http.MethodPatch},
		} {
			w := do(t, mw, c)
			assert.Equal(t, http.StatusUnprocessableEntity, w.Code, name)
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"), name)
		}
		assert.Equal(t, int32(1), srv.runs.Load())
	})

	t.Run("A5xxIsNotStored", func(t *testing.T) {
		srv := &server{}
		srv.status.Store(http.StatusServiceUnavailable)
		mw := h.middleware(t, idempotency.Config{}, srv)
		assert.Equal(t, http.StatusServiceUnavailable, do(t, mw, call{key: "k", body: "a"}).Code)
		srv.status.Store(0)
		w := do(t, mw, call{key: "k", body: "a"})
		assert.Equal(t, http.StatusCreated, w.Code)
		assert.Empty(t, w.Header().Get(idempotency.ReplayedHeader))
		assert.Equal(t, int32(2), srv.runs.Load())
	})

	t.Run("APanicReleasesTheKey", func(t *testing.T) {
		srv := &server{}
		srv.panics.Store(true)
		mw := h.middleware(t, idempotency.Config{}, srv)
		assert.Panics(t, func() { do(t, mw, call{key: "k", body: "a"}) })
		srv.panics.Store(false)
		assert.Equal(t, http.StatusCreated, do(t, mw, call{key: "k", body: "a"}).Code)
		assert.Equal(t, int32(2), srv.runs.Load())
	})

	t.Run("A4xxIsStoredUnlessConfiguredOtherwise", func(t *testing.T) {
		for _, skip := range []bool{false, true} {
			srv := &server{}
			srv.status.Store(http.StatusBadRequest)
			mw := h.middleware(t, idempotency.Config{SkipClientErrors: skip}, srv)
			do(t, mw, call{key: "k", body: "a"})
			second := do(t, mw, call{key: "k", body: "a"})
			assert.Equal(t, http.StatusBadRequest, second.Code)
			if skip {
				assert.Equal(t, int32(2), srv.runs.Load(), "SkipClientErrors: the handler runs again")
			} else {
				assert.Equal(t, int32(1), srv.runs.Load(), "stored 4xx is replayed")
				assert.Equal(t, "true", second.Header().Get(idempotency.ReplayedHeader))
			}
		}
	})

	t.Run("KeysAreScopedByPrincipal", func(t *testing.T) {
		srv := &server{}
		mw := h.middleware(t, idempotency.Config{}, srv)
		alice := do(t, mw, call{key: "k", body: "a", principal: "alice"})
		bob := do(t, mw, call{key: "k", body: "a", principal: "bob"})
		assert.Equal(t, int32(2), srv.runs.Load(), "bob never gets alice's response")
		assert.NotEqual(t, alice.Body.String(), bob.Body.String())
		again := do(t, mw, call{key: "k", body: "a", principal: "alice"})
		assert.Equal(t, alice.Body.String(), again.Body.String())
	})

	t.Run("RecordsExpireAfterRetention", func(t *testing.T) {
		srv := &server{}
		mw := h.middleware(t, idempotency.Config{Retention: h.TTL}, srv)
		do(t, mw, call{key: "k", body: "a"})
		h.Sleep(2 * h.TTL)
		w := do(t, mw, call{key: "k", body: "a"})
		assert.Empty(t, w.Header().Get(idempotency.ReplayedHeader))
		assert.Equal(t, int32(2), srv.runs.Load())
	})

	t.Run("BodySizeLimits", func(t *testing.T) {
		srv := &server{}
		mw := h.middleware(t, idempotency.Config{MaxRequestBytes: 8, MaxResponseBytes: 20}, srv)
		assert.Equal(t, http.StatusRequestEntityTooLarge, do(t, mw, call{key: "big", body: "123456789"}).Code)
		assert.Equal(t, int32(0), srv.runs.Load())

		first := do(t, mw, call{key: "k", body: "12345678"}) // its echo exceeds 20 bytes
		assert.Equal(t, http.StatusCreated, first.Code, "the first client gets the whole response")
		assert.Contains(t, first.Body.String(), "12345678")
		second := do(t, mw, call{key: "k", body: "12345678"})
		assert.Equal(t, http.StatusGone, second.Code, "an unstored response is never re-run")
		assert.Equal(t, int32(1), srv.runs.Load())
	})

	t.Run("KeyPresenceAndSyntax", func(t *testing.T) {
		srv := &server{}
		required := h.middleware(t, idempotency.Config{Required: true}, srv)
		optional := h.middleware(t, idempotency.Config{}, srv)
		assert.Equal(t, http.StatusBadRequest, do(t, required, call{body: "a"}).Code)
		assert.Equal(t, http.StatusCreated, do(t, optional, call{body: "a"}).Code, "no key: unprotected pass-through")
		assert.Equal(t, http.StatusBadRequest, do(t, optional, call{key: strings.Repeat("x", 256), body: "a"}).Code)
		assert.Equal(t, http.StatusCreated, do(t, optional, call{method: http.MethodGet, key: "k"}).Code, "GET is not covered")
		assert.Equal(t, http.StatusCreated, do(t, optional, call{method: http.MethodGet, key: "k"}).Code)
		assert.Equal(t, int32(3), srv.runs.Load())
	})
}

// Unreachable checks how the middleware degrades over a store whose server
// is really down: 503 when failing closed, the handler unprotected when
// failing open.
func Unreachable(t *testing.T, store idempotency.Store) {
	for _, open := range []bool{false, true} {
		t.Run(fmt.Sprintf("FailOpen=%v", open), func(t *testing.T) {
			var storeErrs atomic.Int32
			srv := &server{}
			mw, err := idempotency.NewMiddleware(store, idempotency.Config{
				FailOpen: open,
				Hooks:    idempotency.Hooks{OnStoreError: func(*http.Request, error) { storeErrs.Add(1) }},
			})
			require.NoError(t, err)
			w := do(t, mw.Handler(srv), call{key: "k", body: "a"})
			assert.Equal(t, int32(1), storeErrs.Load())
			if open {
				assert.Equal(t, http.StatusCreated, w.Code)
				assert.Equal(t, int32(1), srv.runs.Load())
			} else {
				assert.Equal(t, http.StatusServiceUnavailable, w.Code)
				assert.Equal(t, int32(0), srv.runs.Load())
				assert.True(t, bytes.Contains(w.Body.Bytes(), []byte("idempotency-unavailable")))
			}
		})
	}
	_, err := store.Begin(context.Background(), "k", fp("a"), time.Second)
	assert.Error(t, err)
	assert.False(t, errors.Is(err, idempotency.ErrLockLost))
}
