package idempotency_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bedrock-go/bedrock/idempotency"
)

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(`{"id":"ord_123","status":"created"}`))
})

func benchRequest(key string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(`{"sku":"tea","qty":2}`))
	r.Header.Set(idempotency.KeyHeader, key)
	return r
}

// BenchmarkMiddleware measures the middleware's overhead with the in-memory
// store: a replay of a stored response, a first request (lock, run, store),
// and the bare handler for reference.
func BenchmarkMiddleware(b *testing.B) {
	b.Run("replay", func(b *testing.B) {
		mw, _ := idempotency.NewMiddleware(idempotency.NewMemoryStore(nil), idempotency.Config{})
		h := mw.Handler(okHandler)
		h.ServeHTTP(httptest.NewRecorder(), benchRequest("k"))
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(httptest.NewRecorder(), benchRequest("k"))
		}
	})
	b.Run("first", func(b *testing.B) {
		mw, _ := idempotency.NewMiddleware(idempotency.NewMemoryStore(nil), idempotency.Config{})
		h := mw.Handler(okHandler)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			h.ServeHTTP(httptest.NewRecorder(), benchRequest(fmt.Sprint(i)))
		}
	})
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			okHandler.ServeHTTP(httptest.NewRecorder(), benchRequest("k"))
		}
	})
}

func BenchmarkParseKey(b *testing.B) {
	v := []string{"8e03978e-40d5-43e8-bc93-6894a57f9324"}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = idempotency.ParseKey(v)
	}
}
