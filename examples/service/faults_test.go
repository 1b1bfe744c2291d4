package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/examples/service/internal/events"
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
	pool, err := connectPostgres(context.Background(), u.String(), time.Second, nil)
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

// shop signs up an admin on the service that main's path runs at base
// (with env), and returns its access token and a new product's id.
func shop(t *testing.T, base string, env map[string]string, stock int) (token string, product any) {
	t.Helper()
	code, m := call(t, "POST", base+"/v1/auth/signup", "", `{"email":"root@shop.test","password":"correct horse battery","name":"Root"}`)
	require.Equal(t, http.StatusCreated, code, "%v", m)
	require.NoError(t, command(context.Background(), []string{"grant-role", "root@shop.test", "admin"}, envMap(env), io.Discard))
	code, m = call(t, "POST", base+"/v1/auth/login", "", `{"email":"root@shop.test","password":"correct horse battery"}`)
	require.Equal(t, http.StatusOK, code, "%v", m)
	token = m["access_token"].(string)
	code, m = call(t, "POST", base+"/v1/products", token, fmt.Sprintf(`{"name":"cup","price_cents":100,"stock":%d}`, stock))
	require.Equal(t, http.StatusCreated, code, "%v", m)
	return token, m["id"]
}

// scrape returns the public /metrics page.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(data)
}

// TestNATSOutageDelaysOnlyItsOwnEvents sends events to Redis and, as a
// second destination, to NATS through a proxy that the test cuts: the
// Redis side keeps flowing at once (its own outbox table and relay), the
// NATS side waits in its own table, /readyz reports NATS down without
// failing, and the relay's failures are logged.
func TestNATSOutageDelaysOnlyItsOwnEvents(t *testing.T) {
	_, natsURL := servicetest.NATS(t)
	u, err := url.Parse(natsURL)
	require.NoError(t, err)
	proxy := servicetest.NewProxy(t, u.Host)
	pool, dbURL := servicetest.Database(t)
	_, prefix := servicetest.Redis(t)
	env := map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": servicetest.RedisURL(), "REDIS_PREFIX": prefix,
		"HTTP_ADDR": "127.0.0.1:0", "SHUTDOWN_DRAIN": "0s", "NATS_URL": "nats://" + proxy.Addr()}
	logs := &logBuffer{}
	base, stop := startRun(t, env, logs.logger())
	defer stop()
	token, product := shop(t, base, env, 10)

	proxy.Cut()
	// Readiness reports the NATS connection down, and stays ready: the
	// outbox holds NATS's events until it is back.
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, m := call(t, "GET", base+"/readyz", "", "")
		require.Equal(t, http.StatusOK, code, "NATS is not critical: %v", m)
		checks, _ := m["checks"].(map[string]any)
		nats, _ := checks["nats"].(map[string]any)
		require.NotNil(t, nats, "NATS is checked: %v", m)
		if nats["status"] != "ok" {
			break
		}
		require.True(t, time.Now().Before(deadline), "/readyz never saw NATS down")
	}
	t.Logf("/readyz reported NATS down %v after the cut", 20*time.Second-time.Until(deadline))

	start := time.Now()
	code, _, m := callWith(t, "POST", base+"/v1/orders", token, fmt.Sprintf(`{"items":[{"product_id":%v,"quantity":2}]}`, product),
		"Idempotency-Key", "nats-down-1")
	require.Equal(t, http.StatusCreated, code, "%v", m)
	// The Redis side: published, consumed and counted, without waiting
	// for NATS.
	for {
		_, p := call(t, "GET", fmt.Sprintf("%s/v1/products/%v", base, product), token, "")
		if p["units_sold"] == float64(2) {
			break
		}
		require.Less(t, time.Since(start), outageBound, "the Redis side waited for NATS")
	}
	t.Logf("with NATS down, an order's event was counted through Redis %v after its 201", time.Since(start))
	for { // Redis's copy settled: published rows are deleted
		var pending int
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox_events`).Scan(&pending))
		if pending == 0 {
			break
		}
		require.Less(t, time.Since(start), outageBound, "Redis's copy of the event is never settled")
	}

	// The NATS side: still pending in its own table, until NATS is back.
	var natsState int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT state FROM outbox_events_nats`).Scan(&natsState))
	assert.Equal(t, 0, natsState, "NATS's copy waits for NATS")
	assert.Contains(t, logs.String(), "nats disconnected", "the outage is logged")
	// The NATS relay's failed publication is logged, after its timeout.
	for !strings.Contains(logs.String(), `msg="outbox publish failed, will retry" relay=nats`) {
		require.Less(t, time.Since(start), 4*events.PublishTimeout, "the relay's failure was never logged: %s", logs.String())
		time.Sleep(50 * time.Millisecond) // polling the log, not waiting for an event to happen
	}
	assert.Regexp(t, `bedrock_nats_disconnects[a-z_]*\{[^}]*\} [1-9]`, scrape(t, base), "the outage is counted")
	assert.Regexp(t, `bedrock_outbox_failed[a-z_]*\{[^}]*bedrock_outbox_relay="nats"[^}]*\} [1-9]`, scrape(t, base), "the relay's failure is counted")

	// NATS back: the connection is restored (never given up) and NATS's
	// copy goes out.
	restored := time.Now()
	proxy.Restore()
	for {
		var left int
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox_events_nats`).Scan(&left))
		if left == 0 {
			break
		}
		require.Less(t, time.Since(restored), 30*time.Second, "NATS's copy never went out after NATS came back")
		time.Sleep(50 * time.Millisecond) // polling the table
	}
	t.Logf("NATS's copy went out %v after NATS came back", time.Since(restored))
	assert.Contains(t, logs.String(), "nats reconnected")
}

// TestAdminListenerServesProfiles checks that the profiles are served on
// ADMIN_ADDR only, never on the public listener, that the admin listener
// stops with the service, and that the Go runtime's metrics are exported.
func TestAdminListenerServesProfiles(t *testing.T) {
	env := runEnv(t)
	env["ADMIN_ADDR"] = "127.0.0.1:0"
	r := startRunning(t, env, nil)
	defer r.stopC()

	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/goroutine?debug=1"} {
		resp, err := http.Get(r.base + path)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, "public %s", path)
		resp, err = http.Get(r.admin + path)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "admin %s", path)
	}
	assert.Regexp(t, `(?m)^go_goroutine_count(_[a-z]+)?(\{[^}]*\})? [1-9]`, scrape(t, r.base), "runtime metrics are exported")

	r.stop()
	_, err := http.Get(r.admin + "/debug/pprof/")
	assert.Error(t, err, "the admin listener stops with the service")
}

// TestPprofOffByDefault checks that without ADMIN_ADDR nothing serves
// profiles.
func TestPprofOffByDefault(t *testing.T) {
	base, stop := startRun(t, runEnv(t), nil)
	defer stop()
	resp, err := http.Get(base + "/debug/pprof/")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestGracefulShutdownDrains stops the service as SIGTERM does and checks
// the order of a rolling restart: /readyz turns 503 at once while the
// listener still serves requests for the drain, then the service stops.
func TestGracefulShutdownDrains(t *testing.T) {
	env := runEnv(t)
	// Long enough for the test's few requests on a busy machine; the
	// test waits for it once.
	env["SHUTDOWN_DRAIN"] = "6s"
	r := startRunning(t, env, nil)
	defer r.stopC()
	code, _ := call(t, "GET", r.base+"/readyz", "", "")
	require.Equal(t, http.StatusOK, code)

	stopped := time.Now()
	r.stopC() // what SIGTERM does to run's context
	for {
		code, m := call(t, "GET", r.base+"/readyz", "", "")
		if code == http.StatusServiceUnavailable {
			assert.Equal(t, "draining", m["readiness"], "%v", m)
			break
		}
		require.Equal(t, http.StatusOK, code)
		require.Less(t, time.Since(stopped), 5*time.Second, "/readyz did not turn 503")
	}
	code, m := call(t, "GET", r.base+"/v1/products", "", "")
	assert.Equal(t, http.StatusOK, code, "a request during the drain is served: %v", m)
	select {
	case err := <-r.done:
		t.Fatalf("run ended before its drain: %v", err)
	default:
	}
	t.Logf("503 and a request served %v after the stop", time.Since(stopped))

	select {
	case err := <-r.done:
		assert.NoError(t, err, "a graceful stop is not an error")
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop")
	}
	assert.GreaterOrEqual(t, time.Since(stopped), 6*time.Second, "the drain was waited")
	_, err := http.Get(r.base + "/livez")
	assert.Error(t, err, "the listener is closed after the drain")
}

// TestConsumerBacklogIsMeasured checks that the Redis consumer group's
// backlog is exported as a gauge.
func TestConsumerBacklogIsMeasured(t *testing.T) {
	env := runEnv(t)
	base, stop := startRun(t, env, nil)
	defer stop()
	token, product := shop(t, base, env, 10)
	code, _, m := callWith(t, "POST", base+"/v1/orders", token, fmt.Sprintf(`{"items":[{"product_id":%v,"quantity":1}]}`, product),
		"Idempotency-Key", "lag-1")
	require.Equal(t, http.StatusCreated, code, "%v", m)
	page := scrape(t, base)
	assert.Regexp(t, `shop_events_consumer_backlog[a-z_]*\{[^}]*state="pending"`, page)
	assert.Regexp(t, `shop_events_consumer_backlog[a-z_]*\{[^}]*state="lag"`, page)
}

// TestExhaustedPoolAnswers503 holds the pool's only connection and checks
// that an order waits DB_BEGIN_TIMEOUT for one, then answers 503 with
// Retry-After, instead of queueing for as long as the client waits.
func TestExhaustedPoolAnswers503(t *testing.T) {
	_, dbURL := servicetest.Database(t)
	pcfg, err := pgxpool.ParseConfig(dbURL)
	require.NoError(t, err)
	pcfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := startServiceOn(t, pool, map[string]string{"DB_BEGIN_TIMEOUT": "300ms"}, nil)
	s.signup(adminEmail, "Admin")
	s.grant(adminEmail, "admin")
	p := s.createProduct(s.login(adminEmail).Access, "cup", 100, 10)
	s.signup("ada@shop.test", "Ada")
	ada := s.login("ada@shop.test").Access

	held, err := pool.Acquire(context.Background())
	require.NoError(t, err)
	defer held.Release()
	// A client that gives up, so that a service waiting for the connection
	// fails the test instead of hanging it.
	req, err := http.NewRequest("POST", s.base+"/v1/orders",
		strings.NewReader(fmt.Sprintf(`{"items":[{"product_id":%v,"quantity":1}]}`, p["id"])))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ada)
	req.Header.Set("Idempotency-Key", "busy-1")
	start := time.Now()
	r, err := (&http.Client{Timeout: 2 * outageBound}).Do(req)
	require.NoError(t, err, "the order waited for a connection as long as the client did")
	_ = r.Body.Close()
	took := time.Since(start)
	assert.Equal(t, http.StatusServiceUnavailable, r.StatusCode)
	assert.Equal(t, web.RetryAfterUnavailable, r.Header.Get("Retry-After"))
	assert.GreaterOrEqual(t, took, 300*time.Millisecond, "it waited DB_BEGIN_TIMEOUT for a connection")
	assert.Less(t, took, outageBound)
	t.Logf("an order on an exhausted pool answered %d in %v", r.StatusCode, took)
}
