package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/bedrock-go/bedrock/httpapi"
)

func ExampleProblem_Write() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.Problem{
			Type:       "https://shop.example/problems/out-of-stock",
			Title:      "Out of stock",
			Status:     http.StatusConflict,
			Detail:     "A product does not have enough stock for this order.",
			Extensions: map[string]any{"product_id": 42, "available": 1},
		}.Write(w)
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/orders", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Print(w.Body.String())
	// Output:
	// 409 application/problem+json
	// {"available":1,"detail":"A product does not have enough stock for this order.","product_id":42,"status":409,"title":"Out of stock","type":"https://shop.example/problems/out-of-stock"}
}

func ExampleConditional() {
	policy, err := httpapi.NewCachePolicy(httpapi.CachePolicyConfig{MaxAge: time.Minute, StaleIfError: time.Hour})
	if err != nil {
		panic(err)
	}
	version := int64(3) // from the row, as txn's Versioned keeps it
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		policy.Apply(w.Header(), r)
		if httpapi.Conditional(w, r, httpapi.Validators{ETag: httpapi.ETagFromVersion(version)}) {
			return // 304, or a 412 or 400 problem
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":1,"name":"Lamp"}`))
	})

	for _, inm := range []string{"", `"v3"`, `"v2"`} {
		r := httptest.NewRequest(http.MethodGet, "/v1/products/1", nil)
		if inm != "" {
			r.Header.Set("If-None-Match", inm)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("ETag"), w.Header().Get("Cache-Control"), w.Body.Len())
	}
	// Output:
	// 200 "v3" public, max-age=60, stale-if-error=3600 22
	// 304 "v3" public, max-age=60, stale-if-error=3600 0
	// 200 "v3" public, max-age=60, stale-if-error=3600 22
}

func ExampleVersionFromIfMatch() {
	// A versioned update: the version the client saw goes to the database
	// (txn's Versioned.Update), which refuses it if another write came first.
	for _, field := range []string{`"v3"`, `*`, `W/"v3"`, ``, `v3`} {
		v, anyVersion, err := httpapi.VersionFromIfMatch(field)
		fmt.Println(v, anyVersion, err)
	}
	// Output:
	// 3 false <nil>
	// 0 true <nil>
	// 0 false httpapi: precondition failed: If-Match names no strong entity tag of a version
	// 0 false httpapi: precondition required
	// 0 false httpapi: malformed precondition: If-Match: entity tag must start with '"' or 'W/"'
}

func ExampleVersioning() {
	versions, err := httpapi.NewVersioning(httpapi.VersioningConfig{Versions: []string{"v1", "v2"}})
	if err != nil {
		panic(err)
	}
	h := versions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := httpapi.VersionFrom(r.Context())
		fmt.Fprint(w, v)
	}))
	for _, tc := range []struct{ path, header string }{
		{"/v2/products", ""},
		{"/products", "v2"},
		{"/products", ""},
		{"/v3/products", ""},
	} {
		r := httptest.NewRequest(http.MethodGet, tc.path, nil)
		if tc.header != "" {
			r.Header.Set("API-Version", tc.header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			fmt.Println(tc.path, w.Code, w.Header().Get("Content-Type"))
			continue
		}
		fmt.Println(tc.path, w.Body.String())
	}
	// Output:
	// /v2/products v2
	// /products v2
	// /products v1
	// /v3/products 400 application/problem+json
}

func ExampleDeprecation() {
	v0, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{
		Name:            "v0",
		Deprecated:      time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Sunset:          time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		GoneAfterSunset: true,
		Policy:          "https://shop.example/docs/deprecations",
		Successor:       "/v1/products",
		Now:             func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /v0/products", v0.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v0/products", nil))
	fmt.Println("Deprecation:", w.Header().Get("Deprecation"))
	fmt.Println("Sunset:", w.Header().Get("Sunset"))
	for _, l := range w.Header().Values("Link") {
		fmt.Println("Link:", l)
	}
	// Output:
	// Deprecation: @1767225600
	// Sunset: Fri, 01 Jan 2027 00:00:00 GMT
	// Link: <https://shop.example/docs/deprecations>; rel="deprecation"
	// Link: </v1/products>; rel="successor-version"
}

func ExampleConditionalWrites() {
	writes, err := httpapi.NewConditionalWrites(httpapi.ConditionalWritesConfig{})
	if err != nil {
		panic(err)
	}
	h := writes.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	for _, ifMatch := range []string{"", `"v3"`} {
		r := httptest.NewRequest(http.MethodPut, "/v1/products/1", nil)
		if ifMatch != "" {
			r.Header.Set("If-Match", ifMatch)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// 428
	// 204
}

func ExampleCachePolicy_Apply() {
	policy, err := httpapi.NewCachePolicy(httpapi.CachePolicyConfig{
		MaxAge: 5 * time.Minute, StaleWhileRevalidate: time.Minute, StaleIfError: 24 * time.Hour,
		Vary: []string{"Accept-Language"},
	})
	if err != nil {
		panic(err)
	}
	for _, auth := range []string{"", "Bearer abc"} {
		r := httptest.NewRequest(http.MethodGet, "/v1/products", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		h := http.Header{"Vary": {"Accept-Encoding"}}
		policy.Apply(h, r)
		fmt.Printf("%s | Vary: %s\n", h.Get("Cache-Control"), h.Get("Vary"))
	}
	// Output:
	// public, max-age=300, stale-while-revalidate=60, stale-if-error=86400 | Vary: Accept-Encoding, Accept-Language
	// private, no-store | Vary: Accept-Encoding
}
