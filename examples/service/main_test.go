package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

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

	resp, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(metrics), "http_server_request_duration", "requests are measured")
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
