package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/examples/service/internal/config"
	"github.com/bedrock-go/bedrock/examples/service/internal/payment"
	"github.com/bedrock-go/bedrock/examples/service/internal/servicetest"
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

// runEnv returns the environment of main's path against a fresh database
// and a Redis key prefix of its own (both dropped when the test ends).
func runEnv(t *testing.T) map[string]string {
	t.Helper()
	_, dbURL := servicetest.Database(t)
	_, prefix := servicetest.Redis(t)
	return map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": servicetest.RedisURL(), "REDIS_PREFIX": prefix, "HTTP_ADDR": "127.0.0.1:0",
		// No load balancer to wait for: TestGracefulShutdownDrains sets one.
		"SHUTDOWN_DRAIN": "0s"}
}

// startRun runs main's path with env (from runEnv) and returns the base
// URL and a function that stops it and checks the exit. A nil log
// discards the records.
func startRun(t *testing.T, env map[string]string, log *slog.Logger) (string, func()) {
	t.Helper()
	r := startRunning(t, env, log)
	return r.base, r.stop
}

// running is main's path running in the test.
type running struct {
	base  string     // the public listener's URL
	admin string     // the admin listener's URL, with ADMIN_ADDR
	done  chan error // receives run's result
	stop  func()     // cancels run and checks its graceful exit
	stopC func()     // cancels run only
}

// startRunning runs main's path as startRun does, and returns the admin
// listener's URL too when env sets ADMIN_ADDR.
func startRunning(t *testing.T, env map[string]string, log *slog.Logger) *running {
	t.Helper()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 2)
	r := &running{done: make(chan error, 1), stopC: cancel}
	go func() { r.done <- run(ctx, envMap(env), log, addr) }()
	r.stop = func() {
		cancel()
		select {
		case err := <-r.done:
			assert.NoError(t, err, "a graceful stop is not an error")
		case <-time.After(30 * time.Second):
			t.Fatal("run did not stop")
		}
	}
	for _, u := range []*string{&r.base, &r.admin} {
		if u == &r.admin && env["ADMIN_ADDR"] == "" {
			break
		}
		select {
		case a := <-addr:
			*u = "http://" + a
		case err := <-r.done:
			cancel()
			t.Fatalf("run ended before listening: %v", err)
		case <-time.After(30 * time.Second):
			cancel()
			t.Fatal("run did not start listening")
		}
	}
	return r
}

// TestRunPublishesToNATS checks that with NATS_URL set, order events also
// reach NATS JetStream.
func TestRunPublishesToNATS(t *testing.T) {
	nc, natsURL := servicetest.NATS(t)
	env := runEnv(t)
	env["NATS_URL"] = natsURL
	base, stop := startRun(t, env, nil)
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
	require.NoError(t, command(context.Background(), []string{"grant-role", "root@shop.test", "admin"}, envMap(env), io.Discard))
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
	env := runEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, envMap(env), slog.New(slog.NewTextHandler(io.Discard, nil)), addr) }()
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

// logBuffer collects the records of a logger, safe for the server's
// goroutines to write while the test reads.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// call sends a JSON request to the service started by startRun and returns
// the status and the decoded answer (nil when it has no JSON body).
func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	status, _, m := callWith(t, method, url, token, body)
	return status, m
}

// callWith sends a request as call does, with headers (name, value pairs),
// and returns the Idempotent-Replayed header too.
func callWith(t *testing.T, method, url, token, body string, headers ...string) (int, string, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), m
}

// TestRunIgnoresAdminEmails checks that a self-service signup never yields
// a role but customer, whatever the environment says: the email of an
// account is never verified, so whoever signs up first with an address
// listed in ADMIN_EMAILS would own it. The server says why it ignores the
// variable.
func TestRunIgnoresAdminEmails(t *testing.T) {
	logs := &logBuffer{}
	env := runEnv(t)
	env["ADMIN_EMAILS"] = "boss@shop.test"
	base, stop := startRun(t, env, logs.logger())
	defer stop()

	code, m := call(t, "POST", base+"/v1/auth/signup", "", `{"email":"BOSS@shop.test","password":"correct horse battery","name":"Not the boss"}`)
	require.Equal(t, http.StatusCreated, code, "%v", m)
	code, m = call(t, "POST", base+"/v1/auth/login", "", `{"email":"boss@shop.test","password":"correct horse battery"}`)
	require.Equal(t, http.StatusOK, code, "%v", m)
	tok := m["access_token"].(string)
	code, m = call(t, "GET", base+"/v1/me", tok, "")
	require.Equal(t, http.StatusOK, code, "%v", m)
	assert.Equal(t, "customer", m["role"])
	code, _ = call(t, "POST", base+"/v1/products", tok, `{"name":"free","price_cents":0,"stock":1}`)
	assert.Equal(t, http.StatusForbidden, code)

	assert.Contains(t, logs.String(), "ADMIN_EMAILS is set but ignored")
}

// TestRoleCommands runs grant-role and revoke-role as the operator does,
// against the database of a running service, and checks what the API then
// allows.
func TestRoleCommands(t *testing.T) {
	env := runEnv(t)
	base, stop := startRun(t, env, nil)
	defer stop()
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := command(context.Background(), args, envMap(env), &out)
		return out.String(), err
	}
	// A refresh reads the role anew, as a login does; logins are rate
	// limited, refreshes are not.
	var refresh string
	roleNow := func(t *testing.T) (role string, productStatus int) {
		t.Helper()
		code, m := call(t, "POST", base+"/v1/auth/refresh", "", `{"refresh_token":"`+refresh+`"}`)
		require.Equal(t, http.StatusOK, code, "%v", m)
		refresh = m["refresh_token"].(string)
		tok := m["access_token"].(string)
		_, me := call(t, "GET", base+"/v1/me", tok, "")
		code, _ = call(t, "POST", base+"/v1/products", tok, `{"name":"mug","price_cents":100,"stock":1}`)
		return me["role"].(string), code
	}
	oneLine := func(t *testing.T, err error, want string) {
		t.Helper()
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "\n", "one line")
		assert.Contains(t, err.Error(), want)
	}

	_, err := cmd("grant-role", "ops@shop.test", "admin")
	oneLine(t, err, `no account has the email "ops@shop.test"`)
	_, err = cmd("revoke-role", "ops@shop.test", "admin")
	oneLine(t, err, `no account has the email "ops@shop.test"`)

	code, m := call(t, "POST", base+"/v1/auth/signup", "", `{"email":"ops@shop.test","password":"correct horse battery","name":"Ops"}`)
	require.Equal(t, http.StatusCreated, code, "%v", m)
	code, m = call(t, "POST", base+"/v1/auth/login", "", `{"email":"ops@shop.test","password":"correct horse battery"}`)
	require.Equal(t, http.StatusOK, code, "%v", m)
	refresh = m["refresh_token"].(string)
	role, status := roleNow(t)
	require.Equal(t, "customer", role)
	require.Equal(t, http.StatusForbidden, status)

	for _, tt := range []struct {
		name string
		args []string
		err  string // one line, when the command must fail
		out  string
		role string // the account's role afterwards
	}{
		{"unknown role", []string{"grant-role", "ops@shop.test", "root"}, `unknown role "root"`, "", "customer"},
		{"revoking customer", []string{"revoke-role", "ops@shop.test", "customer"}, "cannot be revoked", "", "customer"},
		{"too few arguments", []string{"grant-role", "ops@shop.test"}, "takes EMAIL ROLE", "", "customer"},
		{"unknown command", []string{"make-admin", "ops@shop.test"}, `unknown command "make-admin"`, "", "customer"},
		{"revoke what it lacks", []string{"revoke-role", "ops@shop.test", "admin"}, "", "ops@shop.test does not have the admin role (its role is customer); nothing changed", "customer"},
		{"grant customer to a customer", []string{"grant-role", "ops@shop.test", "customer"}, "", "already has the customer role", "customer"},
		{"grant admin, email in any case", []string{"grant-role", "OPS@shop.test", "admin"}, "", "granted admin to ops@shop.test (its role was customer)", "admin"},
		{"grant admin again", []string{"grant-role", "ops@shop.test", "admin"}, "", "ops@shop.test already has the admin role (its role is admin); nothing changed", "admin"},
		{"admin includes customer", []string{"grant-role", "ops@shop.test", "customer"}, "", "already has the customer role (its role is admin)", "admin"},
		{"revoke admin", []string{"revoke-role", "ops@shop.test", "admin"}, "", "revoked admin from ops@shop.test (its role is now customer)", "customer"},
		{"revoke admin again", []string{"revoke-role", "ops@shop.test", "admin"}, "", "does not have the admin role", "customer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := cmd(tt.args...)
			if tt.err != "" {
				oneLine(t, err, tt.err)
			} else {
				require.NoError(t, err)
				assert.Contains(t, out, tt.out)
			}
			role, status := roleNow(t)
			assert.Equal(t, tt.role, role)
			want := map[string]int{"customer": http.StatusForbidden, "admin": http.StatusCreated}[tt.role]
			assert.Equal(t, want, status, "what the new token may do")
		})
	}

	out, err := cmd("help")
	require.NoError(t, err)
	assert.Contains(t, out, "grant-role EMAIL ROLE")
}

// TestRoleCommandWithoutPostgres checks the operator's one-line error when
// the database is unreachable.
func TestRoleCommandWithoutPostgres(t *testing.T) {
	err := command(context.Background(), []string{"grant-role", "a@b.test", "admin"}, envMap(map[string]string{
		"DATABASE_URL": "postgres://postgres@127.0.0.1:1/shop?sslmode=disable&connect_timeout=2",
	}), io.Discard)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\n")
	assert.Contains(t, err.Error(), "PostgreSQL at 127.0.0.1:1 is unreachable")
}

// TestProductionRefusesToStartWithoutRedis holds the embedded Redis to
// development: with ENV=production and no Redis answering, the service does
// not start, and says why.
func TestProductionRefusesToStartWithoutRedis(t *testing.T) {
	env := runEnv(t)
	env["ENV"] = "production"
	env["REDIS_URL"] = "redis://127.0.0.1:1/0"
	env["JWT_KEYS_FILE"] = "unused.json" // the start stops at Redis, before reading it
	env["CURSOR_SECRET"] = strings.Repeat("s", 32)
	err := run(context.Background(), envMap(env), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redis at 127.0.0.1:1 is unreachable")
	assert.Contains(t, err.Error(), "ENV=production never falls back to the embedded development Redis")
	assert.NotContains(t, err.Error(), "\n", "one line")
}

// TestDevelopmentFallsBackToEmbeddedRedis keeps the zero-setup first run:
// in development, with REDIS_URL unset and no local Redis, the service runs
// on an embedded Redis and warns that it does.
func TestDevelopmentFallsBackToEmbeddedRedis(t *testing.T) {
	var logs logBuffer
	for _, tt := range []struct {
		name     string
		env      map[string]string
		embedded bool
	}{
		{"development, REDIS_URL unset", map[string]string{}, true},
		{"development, REDIS_URL set", map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0"}, false},
		{"production, REDIS_URL unset", map[string]string{"ENV": "production", "JWT_KEYS_FILE": "k.json",
			"CURSOR_SECRET": strings.Repeat("s", 32)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(envMap(tt.env))
			require.NoError(t, err)
			cfg.RedisURL = "redis://127.0.0.1:1/0" // where no Redis answers
			rdb, closeRedis, err := connectRedis(context.Background(), cfg, logs.logger())
			if !tt.embedded {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			defer closeRedis()
			require.NoError(t, rdb.Set(context.Background(), "k", "v", 0).Err())
			assert.Contains(t, logs.String(), "embedded in-memory Redis")
		})
	}
}

// TestRunChargesThroughTheAllowList points PAYMENT_URL at a payment service
// outside the process: the client reaches it only when the allow-list
// names its host and its (loopback) address, and the start refuses a
// PAYMENT_URL the allow-list does not cover.
func TestRunChargesThroughTheAllowList(t *testing.T) {
	provider, err := payment.StartFake()
	require.NoError(t, err)
	defer provider.Close()
	u, err := url.Parse(provider.URL())
	require.NoError(t, err)

	t.Run("refused at start", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			env  map[string]string
			want string
		}{
			{"host not listed", map[string]string{"PAYMENT_URL": provider.URL(), "PAYMENT_ALLOWED_HOSTS": "pay.example.com"},
				"is outside PAYMENT_ALLOWED_HOSTS"},
			{"loopback listed without its CIDR", map[string]string{"PAYMENT_URL": provider.URL(), "PAYMENT_ALLOWED_HOSTS": u.Hostname()},
				"the address is loopback"},
			{"metadata endpoint", map[string]string{"PAYMENT_URL": "http://169.254.169.254/", "PAYMENT_ALLOWED_HOSTS": "pay.example.com"},
				"is outside PAYMENT_ALLOWED_HOSTS"},
			{"metadata endpoint listed", map[string]string{"PAYMENT_URL": "http://169.254.169.254/", "PAYMENT_ALLOWED_HOSTS": "169.254.169.254"},
				"the address is link-local"},
			{"no allow-list", map[string]string{"PAYMENT_URL": "https://pay.example.com"}, "PAYMENT_URL needs PAYMENT_ALLOWED_HOSTS"},
			{"not http", map[string]string{"PAYMENT_URL": "file:///etc/passwd", "PAYMENT_ALLOWED_HOSTS": "x"}, "PAYMENT_URL must be an http or https URL"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				env := runEnv(t)
				for k, v := range tt.env {
					env[k] = v
				}
				err := run(context.Background(), envMap(env), (&logBuffer{}).logger(), nil)
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.want)
			})
		}
	})

	t.Run("allowed", func(t *testing.T) {
		env := runEnv(t)
		env["PAYMENT_URL"], env["PAYMENT_ALLOWED_HOSTS"], env["PAYMENT_ALLOWED_CIDRS"] = provider.URL(), u.Hostname(), u.Hostname()
		base, stop := startRun(t, env, nil)
		defer stop()
		_, _ = call(t, "POST", base+"/v1/auth/signup", "", `{"email":"root@shop.test","password":"correct horse battery","name":"Root"}`)
		require.NoError(t, command(context.Background(), []string{"grant-role", "root@shop.test", "admin"}, envMap(env), io.Discard))
		_, login := call(t, "POST", base+"/v1/auth/login", "", `{"email":"root@shop.test","password":"correct horse battery"}`)
		tok := login["access_token"].(string)
		status, p := call(t, "POST", base+"/v1/products", tok, `{"name":"cup","price_cents":100,"stock":3}`)
		require.Equal(t, http.StatusCreated, status, "%v", p)
		req, err := http.NewRequest("POST", base+"/v1/orders", strings.NewReader(fmt.Sprintf(`{"items":[{"product_id":%v,"quantity":1}]}`, p["id"])))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "order-1")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var order map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&order))
		resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode, "%v", order)
		assert.Equal(t, "paid", order["status"], "charged by the provider outside the process")
		status, _ = call(t, "POST", base+"/v1/admin/faults", tok, `{"mode":"error"}`)
		assert.Equal(t, http.StatusNotFound, status, "no in-process fake runs")
	})
}

// TestMalformedRedisURLErrorHidesThePassword: a REDIS_URL that does not
// parse stops the start with an error that says what is wrong, not the
// URL with its password (Go's URL errors quote the URL whole).
func TestMalformedRedisURLErrorHidesThePassword(t *testing.T) {
	var logs logBuffer
	for _, url := range []string{
		"redis://u:s3cret@127.0.0.1:badport/0",
		"redis://u:s3cret@127.0.0.1:7000,redis://v:s3cret@127.0.0.1:badport",
	} {
		t.Run(url, func(t *testing.T) {
			cfg, err := config.Load(envMap(map[string]string{}))
			require.NoError(t, err)
			cfg.RedisURL = url
			_, _, err = connectRedis(context.Background(), cfg, logs.logger())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "badport", "the error says what is wrong")
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}
