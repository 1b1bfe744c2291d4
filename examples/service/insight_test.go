package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/observe"

	"github.com/bedrock-go/bedrock/examples/service/internal/config"
	"github.com/bedrock-go/bedrock/examples/service/internal/servicetest"
)

// records returns the lines of logs whose message is msg.
func records(logs *logBuffer, msg string) []string {
	var out []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `msg="`+msg+`"`) {
			out = append(out, l)
		}
	}
	return out
}

// TestRunTracesQueriesAndCommands runs main's path against the real
// PostgreSQL and Redis with a tiny slow-query threshold and plan capture
// on, makes requests, and reads /metrics: every query is measured in
// db.client.operation.duration under its operation, table and statement
// fingerprint, every Redis command under its name, the migrations are
// not, and the slow-query log and the plan name the statement without the
// values it was run with (issue 27).
func TestRunTracesQueriesAndCommands(t *testing.T) {
	env := runEnv(t)
	env["SLOW_QUERY_THRESHOLD"] = "1ns" // every query is slow
	env["SLOW_QUERY_EXPLAIN"] = "true"
	env["SLOW_REDIS_THRESHOLD"] = "1ns"
	logs := &logBuffer{}
	base, stop := startRun(t, env, logs.logger())
	defer stop()

	const email, pw = "insight.secret@shop.test", "correct horse battery"
	code, _ := call(t, "POST", base+"/v1/auth/signup", "", `{"email":"`+email+`","password":"`+pw+`","name":"Insight"}`)
	require.Equal(t, http.StatusCreated, code)
	code, body := call(t, "POST", base+"/v1/auth/login", "", `{"email":"`+email+`","password":"`+pw+`"}`)
	require.Equal(t, http.StatusOK, code)
	tok, _ := body["access_token"].(string)
	code, _ = call(t, "GET", base+"/v1/me", tok, "")
	require.Equal(t, http.StatusOK, code)
	code, _ = call(t, "GET", base+"/v1/products", "", "")
	require.Equal(t, http.StatusOK, code)

	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	data, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	metrics := string(data)
	for _, want := range []string{
		// Labels come sorted: fingerprint, table, operation, system.
		`db_client_operation_duration_seconds_count\{bedrock_db_query_fingerprint="SELECT [^"]* FROM users WHERE email = \$1",db_collection_name="users",db_operation_name="SELECT",db_system_name="postgresql",[^}]*\} [1-9]`,
		`db_client_operation_duration_seconds_count\{bedrock_db_query_fingerprint="INSERT INTO users \([^"]*\) VALUES \(\.\.\.\)[^"]*",db_collection_name="users",db_operation_name="INSERT",db_system_name="postgresql",[^}]*\} 1\n`,
		`db_client_operation_duration_seconds_count\{bedrock_db_query_fingerprint="SELECT [^}]* FROM products [^}]*",db_collection_name="products",db_operation_name="SELECT",db_system_name="postgresql",[^}]*\} [1-9]`,
		`db_client_operation_duration_seconds_bucket\{bedrock_db_query_fingerprint="SELECT [^"]* FROM users WHERE email = \$1",[^}]*le="0.005"[^}]*\} `,
		// The login limits are scripts in Redis.
		`db_client_operation_duration_seconds_count\{db_operation_name="EVAL(SHA)?",db_system_name="redis",[^}]*\} [1-9]`,
		`bedrock_db_client_rows_affected_count\{bedrock_db_query_fingerprint="INSERT INTO users `,
	} {
		assert.Regexp(t, regexp.MustCompile(want), metrics)
	}
	assert.NotContains(t, metrics, email, "no parameter value in the metrics")
	assert.NotContains(t, metrics, "CREATE TABLE", "the migrations are not traced: their scripts would be label values")
	assert.NotContains(t, metrics, "pg_advisory_xact_lock", "the migration lock is not traced")

	slow := records(logs, "slow query")
	require.NotEmpty(t, slow)
	var users bool
	for _, l := range slow {
		users = users || strings.Contains(l, `statement="SELECT id::text, email, name, role, created_at, password_hash FROM users WHERE email = $1"`)
		assert.NotContains(t, l, email, "a slow query is logged without its parameters")
		assert.NotContains(t, l, "parameters=")
		assert.NotContains(t, l, "CREATE TABLE", "the migrations are not traced")
	}
	assert.True(t, users, "the login's lookup is logged as slow with its statement:\n%s", strings.Join(slow, "\n"))
	assert.NotEmpty(t, records(logs, "slow redis command"), "Redis commands are traced with their threshold")

	// The first slow statement's plan is captured in the background.
	deadline := time.Now().Add(10 * time.Second)
	for len(records(logs, "query plan")) == 0 && len(records(logs, "query plan not captured")) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	plans := records(logs, "query plan")
	require.NotEmpty(t, plans, "a slow statement's plan is captured with SLOW_QUERY_EXPLAIN=true:\n%s", strings.Join(records(logs, "query plan not captured"), "\n"))
	assert.Contains(t, plans[0], `Plan`)
	assert.NotContains(t, plans[0], email, "a plan keeps no parameter value")
}

// TestBlockingReadsAreNotSlow checks that a command that waits by design
// (the event consumer's XREADGROUP with BLOCK, a second each time it finds
// nothing) is measured but never logged as slow, while other commands are.
func TestBlockingReadsAreNotSlow(t *testing.T) {
	rdb, prefix := servicetest.Redis(t)
	tel, err := observe.Setup(context.Background(), observe.Config{ServiceName: "test", Metrics: observe.ExporterPrometheus})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	logs := &logBuffer{}
	hook, err := commandTracer(config.Config{SlowRedisThreshold: time.Nanosecond}, tel, logs.logger())
	require.NoError(t, err)
	rdb.AddHook(hook)

	ctx := context.Background()
	stream := prefix + "stream"
	require.NoError(t, rdb.XGroupCreateMkStream(ctx, stream, "g", "$").Err())
	err = rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{stream, ">"},
		Block: 20 * time.Millisecond}).Err()
	require.ErrorIs(t, err, redis.Nil, "nothing to read: the read waited its 20ms")
	require.NoError(t, rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"k", "v"}}).Err())
	require.NoError(t, rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{stream, ">"},
		Block: -1}).Err(), "without BLOCK the read does not wait")

	slow := strings.Join(records(logs, "slow redis command"), "\n")
	assert.Contains(t, slow, "db.operation.name=XADD")
	assert.Equal(t, 1, strings.Count(slow, "db.operation.name=XREADGROUP"), "only the read without BLOCK is logged as slow:\n%s", slow)

	resp := httpGet(t, tel.MetricsHandler())
	assert.Regexp(t, `db_client_operation_duration_seconds_count\{db_operation_name="XREADGROUP",db_system_name="redis",[^}]*\} 2`, resp,
		"both reads are measured")
}

// httpGet returns the body h answers a GET with.
func httpGet(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String()
}
