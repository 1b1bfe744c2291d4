package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/examples/service/internal/servicetest"
	"github.com/bedrock-go/bedrock/examples/service/internal/web"
)

// outageBound is how long an answer may take while PostgreSQL is
// unreachable: a connection refused is reported in milliseconds, and the
// bound leaves a busy machine room. Before the fix, orders took 4-7 s and
// answered "contention".
const outageBound = 5 * time.Second

// TestPostgresOutageAnswers503 cuts the service's connection to PostgreSQL
// (a proxy closes its port and drops every connection) and checks that
// orders, listings and uncached reads answer 503 with Retry-After and a
// sentence saying the service is unavailable, quickly, never a 500.
func TestPostgresOutageAnswers503(t *testing.T) {
	_, dbURL := servicetest.Database(t)
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	proxy := servicetest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	pool, err := connectPostgres(context.Background(), u.String(), time.Second)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := startServiceOn(t, pool, nil, nil)

	s.signup(adminEmail, "Admin")
	s.grant(adminEmail, "admin")
	admin := s.login(adminEmail).Access
	s.signup("ada@shop.test", "Ada")
	ada := s.login("ada@shop.test").Access
	p := s.createProduct(admin, "cup", 100, 10)
	unread := s.createProduct(admin, "bowl", 100, 10) // never read: not in the cache

	proxy.Cut()

	for _, c := range []struct {
		name, method, path string
		body               any
		headers            []string
	}{
		{"order", "POST", "/v1/orders", map[string]any{"items": []any{map[string]any{"product_id": p["id"], "quantity": 1}}},
			append(bearer(ada), "Idempotency-Key", "outage-1")},
		{"product list", "GET", "/v1/products", nil, nil},
		{"order list", "GET", "/v1/orders", nil, bearer(ada)},
		{"uncached read", "GET", fmt.Sprintf("/v1/products/%v", unread["id"]), nil, nil},
		{"me", "GET", "/v1/me", nil, bearer(ada)},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r := s.do(c.method, c.path, c.body, c.headers...)
			took := time.Since(start)
			assert.Equal(t, http.StatusServiceUnavailable, r.StatusCode, "%s", r.body)
			assert.Equal(t, web.RetryAfterUnavailable, r.Header.Get("Retry-After"))
			assert.Contains(t, r.json(t)["detail"], "unavailable")
			assert.NotContains(t, r.json(t)["detail"], "contention")
			assert.Less(t, took, outageBound)
			t.Logf("%s answered %d in %v", c.name, r.StatusCode, took)
		})
	}
	r := s.do("GET", "/readyz", nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.StatusCode)
}
