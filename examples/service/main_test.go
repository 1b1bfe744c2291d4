package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
)

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestRunWithoutPostgres checks the start-up error a newcomer sees first.
func TestRunWithoutPostgres(t *testing.T) {
	err := run(context.Background(), envMap(map[string]string{
		"DATABASE_URL": "postgres://postgres@127.0.0.1:1/shop?sslmode=disable&connect_timeout=2",
	}), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	require.Error(t, err)
	msg := err.Error()
	assert.NotContains(t, msg, "\n", "one line")
	assert.Contains(t, msg, "PostgreSQL at 127.0.0.1:1 is unreachable")
	assert.Contains(t, msg, "DATABASE_URL")
}

// startRun runs main's path against a fresh schema with env added, and
// returns the base URL and a function that stops it and checks the exit.
func startRun(t *testing.T, extra map[string]string) (string, func()) {
	t.Helper()
	pool := testenv.Postgres(t)
	_, _ = testenv.Redis(t)
	var schema string
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT current_schema()`).Scan(&schema))
	dbURL, err := url.Parse(testenv.PostgresURL())
	require.NoError(t, err)
	q := dbURL.Query()
	q.Set("search_path", schema)
	dbURL.RawQuery = q.Encode()
	env := map[string]string{"DATABASE_URL": dbURL.String(), "REDIS_URL": testenv.RedisURL(), "HTTP_ADDR": "127.0.0.1:0"}
	for k, v := range extra {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, envMap(env), slog.New(slog.NewTextHandler(io.Discard, nil)), addr) }()
	select {
	case a := <-addr:
		return "http://" + a, func() {
			cancel()
			select {
			case err := <-done:
				assert.NoError(t, err, "a graceful stop is not an error")
			case <-time.After(30 * time.Second):
				t.Fatal("run did not stop")
			}
		}
	case err := <-done:
		cancel()
		t.Fatalf("run ended before listening: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("run did not start listening")
	}
	return "", nil
}

// TestRunPublishesToNATS checks that with NATS_URL set, order events also
// reach NATS JetStream.
func TestRunPublishesToNATS(t *testing.T) {
	nc, natsURL := testenv.NATS(t)
	base, stop := startRun(t, map[string]string{"NATS_URL": natsURL, "ADMIN_EMAILS": "root@shop.test"})
	defer stop()

	post := func(path, token string, body string, headers ...string) map[string]any {
		t.Helper()
		req, err := http.NewRequest("POST", base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		require.Less(t, resp.StatusCode, 300, "%s: %v", path, m)
		return m
	}
	user := post("/v1/auth/signup", "", `{"email":"root@shop.test","password":"correct horse battery","name":"Root"}`)["id"]
	tok := post("/v1/auth/login", "", `{"email":"root@shop.test","password":"correct horse battery"}`)["access_token"].(string)
	p := post("/v1/products", tok, `{"name":"cup","price_cents":100,"stock":3}`)

	js, err := jetstream.New(nc)
	require.NoError(t, err)
	// The whole stream is read, so that no timing between the relay and
	// this consumer matters; the user id, unique to this run, finds ours.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, "SHOP_EVENTS", jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"shop.events.order.placed"}, DeliverPolicy: jetstream.DeliverAllPolicy})
	require.NoError(t, err)
	o := post("/v1/orders", tok, fmt.Sprintf(`{"items":[{"product_id":%v,"quantity":2}]}`, p["id"]), "Idempotency-Key", "nats-1")

	for {
		msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
		require.NoError(t, err, "order.placed did not reach NATS")
		var e struct {
			OrderID float64 `json:"order_id"`
			UserID  string  `json:"user_id"`
		}
		require.NoError(t, json.Unmarshal(msg.Data(), &e))
		if e.UserID == user {
			assert.Equal(t, o["id"], e.OrderID)
			return
		}
	}
}

// TestRunServesAndStops runs main's own path: configuration from the
// environment, connections, migrations, serving, and a graceful stop when
// the context ends (as on SIGTERM).
func TestRunServesAndStops(t *testing.T) {
	pool := testenv.Postgres(t)
	_, _ = testenv.Redis(t) // skips or fails like the other tests when Redis is down
	var schema string
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT current_schema()`).Scan(&schema))
	dbURL, err := url.Parse(testenv.PostgresURL())
	require.NoError(t, err)
	q := dbURL.Query()
	q.Set("search_path", schema)
	dbURL.RawQuery = q.Encode()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, envMap(map[string]string{
			"DATABASE_URL": dbURL.String(),
			"REDIS_URL":    testenv.RedisURL(),
			"HTTP_ADDR":    "127.0.0.1:0",
		}), slog.New(slog.NewTextHandler(io.Discard, nil)), addr)
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("run ended before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not start listening")
	}
	for _, path := range []string{"/readyz", "/livez", "/v1/products", "/.well-known/jwks.json"} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Less(t, resp.StatusCode, 300, path)
	}
	resp, err := http.Post(base+"/v1/auth/login", "application/json", strings.NewReader(`{"email":"x@y.test","password":"whatever pw"}`))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// An authenticated request keeps its route in the metrics: auth's
	// middleware passes on a copy of the request, and the route the mux
	// sets on it must still reach observe's middleware outside.
	call := func(method, path, token, body string) []byte {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, data)
		return data
	}
	call("POST", "/v1/auth/signup", "", `{"email":"run@shop.test","password":"correct horse battery","name":"Run"}`)
	var tok struct {
		Access string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(call("POST", "/v1/auth/login", "", `{"email":"run@shop.test","password":"correct horse battery"}`), &tok))
	call("GET", "/v1/me", tok.Access, "")

	resp, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(metrics), "http_server_request_duration", "requests are measured")
	assert.Regexp(t, `http_server_request_duration_seconds_count\{[^}]*http_route="GET /v1/me"`, string(metrics),
		"an authenticated request is measured under its route")
	assert.Contains(t, string(metrics), "bedrock_resilience_breaker_state", "the payment breaker is observed")
	assert.NotEmpty(t, resp.Header.Get("X-Request-Id"))

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "a graceful stop is not an error")
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop")
	}
}
