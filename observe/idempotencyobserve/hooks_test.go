package idempotencyobserve_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/idempotencyobserve"
)

var errBoom = errors.New("boom")

// failingBeginStore is an idempotency.Store whose backend refuses Begin.
type failingBeginStore struct{ *idempotency.MemoryStore }

func (failingBeginStore) Begin(context.Context, string, idempotency.Fingerprint, time.Duration) (idempotency.Lookup, error) {
	return idempotency.Lookup{}, errBoom
}

func TestHooks_RecordOutcomesAndErrors(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "idempotencyobserve")
	hooks, err := idempotencyobserve.Hooks(m.MP)
	require.NoError(t, err)

	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	entered, release := make(chan struct{}), make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow": // holds the key while a duplicate arrives
			close(entered)
			<-release
		case "/overrun": // runs past the lock's TTL
			mu.Lock()
			now = now.Add(time.Hour)
			mu.Unlock()
		}
		w.WriteHeader(http.StatusCreated)
	})
	mw, err := idempotency.NewMiddleware(idempotency.NewMemoryStore(clock), idempotency.Config{Hooks: hooks})
	require.NoError(t, err)
	h := mw.Handler(handler)
	send := func(h http.Handler, path, key, body string) int {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		r.Header.Set(idempotency.KeyHeader, key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}

	require.Equal(t, http.StatusCreated, send(h, "/orders", "k1", `{"a":1}`))
	require.Equal(t, http.StatusCreated, send(h, "/orders", "k1", `{"a":1}`)) // replayed
	require.Equal(t, http.StatusCreated, send(h, "/orders", "k1", `{"a":1}`)) // replayed
	require.Equal(t, http.StatusUnprocessableEntity, send(h, "/orders", "k1", `{"a":2}`))
	done := make(chan int)
	go func() { done <- send(h, "/slow", "k2", `{}`) }()
	<-entered
	require.Equal(t, http.StatusConflict, send(h, "/slow", "k2", `{}`))
	close(release)
	require.Equal(t, http.StatusCreated, <-done)
	send(h, "/overrun", "k3", `{}`)

	broken, err := idempotency.NewMiddleware(failingBeginStore{idempotency.NewMemoryStore(nil)}, idempotency.Config{Hooks: hooks})
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, send(broken.Handler(handler), "/orders", "k4", `{}`))

	assert.Equal(t, map[string]int64{
		"bedrock.idempotency.outcome=replayed": 2,
		"bedrock.idempotency.outcome=mismatch": 1,
		"bedrock.idempotency.outcome=conflict": 1,
	}, m.Counter(t, "bedrock.idempotency.requests", "{request}"))
	assert.Equal(t, map[string]int64{
		"bedrock.idempotency.error=lock_lost,error.type=_OTHER": 1,
		"bedrock.idempotency.error=store,error.type=_OTHER":     1,
	}, m.Counter(t, "bedrock.idempotency.errors", "{error}"))
}

func BenchmarkHooks_OnReplay(b *testing.B) {
	hooks, err := idempotencyobserve.Hooks(otelhooktest.NewRecorder(b, "idempotencyobserve").MP)
	require.NoError(b, err)
	r := httptest.NewRequest(http.MethodPost, "/orders", nil)
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnReplay(r)
	}
}
