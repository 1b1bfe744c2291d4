package idempotency_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bedrock-go/bedrock/idempotency"
)

func Example() {
	created := 0
	createOrder := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		created++
		w.Header().Set("Location", fmt.Sprintf("/orders/%d", created))
		w.WriteHeader(http.StatusCreated)
	})

	mw, err := idempotency.NewMiddleware(idempotency.NewMemoryStore(nil), idempotency.Config{
		// Scope keys by the authenticated caller.
		Principal: func(r *http.Request) string { return r.Header.Get("X-User") },
	})
	if err != nil {
		panic(err)
	}
	h := mw.Handler(createOrder)

	for range 2 { // the client retries after a timeout
		r := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(`{"sku":"tea"}`))
		r.Header.Set("Idempotency-Key", "5f2b1c9e")
		r.Header.Set("X-User", "alice")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("Location"), "replayed:", w.Header().Get("Idempotent-Replayed") == "true")
	}
	fmt.Println("orders created:", created)
	// Output:
	// 201 /orders/1 replayed: false
	// 201 /orders/1 replayed: true
	// orders created: 1
}
