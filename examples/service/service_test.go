package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/password"
	"github.com/bedrock-go/bedrock/auth/token"
	"github.com/bedrock-go/bedrock/observe"
	"github.com/bedrock-go/bedrock/ratelimit"

	"github.com/bedrock-go/bedrock/examples/service/internal/access"
	"github.com/bedrock-go/bedrock/examples/service/internal/app"
	"github.com/bedrock-go/bedrock/examples/service/internal/config"
	"github.com/bedrock-go/bedrock/examples/service/internal/orders"
	"github.com/bedrock-go/bedrock/examples/service/internal/servicetest"
	"github.com/bedrock-go/bedrock/examples/service/internal/users"
)

const adminEmail = "admin@shop.test"

// service is the running service under test, on a random port, against the
// real PostgreSQL (a fresh schema) and Redis (a unique key prefix).
type service struct {
	t    *testing.T
	pool *pgxpool.Pool
	base string
	app  *app.App
	logs *logBuffer // the service's records at Warn and above

	rdb    *redis.Client // the service's Redis, and the prefix of every key it writes
	prefix string
}

func startService(t *testing.T) *service {
	t.Helper()
	return startServiceWith(t, nil)
}

// startServiceWith starts the service with the test's options changed by
// edit, when not nil.
func startServiceWith(t *testing.T, edit func(*app.Options)) *service {
	t.Helper()
	return startServiceEnv(t, nil, edit)
}

// startServiceEnv starts the service with the variables of env added to
// the test's environment and its options changed by edit, when not nil.
func startServiceEnv(t *testing.T, env map[string]string, edit func(*app.Options)) *service {
	t.Helper()
	pool, _ := servicetest.Database(t)
	return startServiceOn(t, pool, env, edit)
}

// startServiceOn is startServiceEnv on a pool of the test's own (one
// through a servicetest.Proxy, say).
func startServiceOn(t *testing.T, pool *pgxpool.Pool, env map[string]string, edit func(*app.Options)) *service {
	t.Helper()
	rdb, prefix := servicetest.Redis(t) // honours context deadlines, as main's client does
	return startInstance(t, pool, rdb, prefix, env, edit)
}

// startInstance starts one instance of the service on pool and on rdb's
// keys under prefix: two instances started on the same ones are two
// replicas of one deployment.
func startInstance(t *testing.T, pool *pgxpool.Pool, rdb *redis.Client, prefix string, env map[string]string, edit func(*app.Options)) *service {
	t.Helper()
	cfg, err := config.Load(func(name string) string {
		if v, ok := env[name]; ok {
			return v
		}
		// The tests that send bursts test something else than the load
		// shedder, which TestLoadShedding tests and a test turns on with
		// SHED_ENABLED=true.
		return map[string]string{"CORS_ORIGINS": "https://app.shop.test", "SHED_ENABLED": "false"}[name]
	})
	require.NoError(t, err)
	// The test's requests come through loopback, as from a proxy: a test
	// names its client with X-Forwarded-For.
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, logs), &slog.HandlerOptions{Level: slog.LevelWarn}))
	options := app.Options{
		RedisPrefix: prefix,
		// Cheap hashes keep the test fast; production uses DefaultParams.
		PasswordParams: password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		// Every test signs up from the same address; TestSignupLimits
		// checks the limit.
		SignupPerIP: ratelimit.PerMinute(1000),
		// The limits the tests count on are Redis's: on a busy machine a
		// round trip can pass the 100ms budget, and the per-process
		// fallback (with counts of its own) would decide instead.
		LimitBudget: 10 * time.Second,
	}
	if edit != nil {
		edit(&options)
	}
	a, err := app.New(context.Background(), cfg, pool, rdb, log, options)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, a.Close()) })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &service{t: t, pool: pool, base: srv.URL, app: a, logs: logs, rdb: rdb, prefix: prefix}
}

// testWriter sends the service's warnings and errors to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

type response struct {
	*http.Response
	body []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// do sends a request; headers are name, value pairs.
func (s *service) do(method, path string, body any, headers ...string) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(s.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	require.NoError(s.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return response{Response: resp, body: data}
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

type tokens struct {
	Access, Refresh string
}

func (s *service) signup(email, name string) string {
	s.t.Helper()
	r := s.do("POST", "/v1/auth/signup", map[string]string{"email": email, "password": "correct horse battery", "name": name})
	require.Equal(s.t, http.StatusCreated, r.StatusCode, "%s", r.body)
	return r.json(s.t)["id"].(string)
}

// grant gives the account a role as the operator's grant-role command does.
func (s *service) grant(email, role string) {
	s.t.Helper()
	require.NoError(s.t, grantRole(context.Background(), users.NewStore(s.pool), io.Discard, email, role))
}

func (s *service) login(email string) tokens {
	s.t.Helper()
	r := s.do("POST", "/v1/auth/login", map[string]string{"email": email, "password": "correct horse battery"})
	require.Equal(s.t, http.StatusOK, r.StatusCode, "%s", r.body)
	m := r.json(s.t)
	require.Equal(s.t, "Bearer", m["token_type"])
	require.Equal(s.t, float64(600), m["expires_in"])
	return tokens{Access: m["access_token"].(string), Refresh: m["refresh_token"].(string)}
}

func (s *service) createProduct(admin string, name string, price, stock int) map[string]any {
	s.t.Helper()
	r := s.do("POST", "/v1/products", map[string]any{"name": name, "description": "d", "price_cents": price, "stock": stock}, bearer(admin)...)
	require.Equal(s.t, http.StatusCreated, r.StatusCode, "%s", r.body)
	return r.json(s.t)
}

func pointers(t *testing.T, r response) []string {
	t.Helper()
	var p struct {
		Errors []struct {
			Pointer string `json:"pointer"`
			Code    string `json:"code"`
		} `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(r.body, &p))
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Pointer+" "+e.Code)
	}
	return out
}

func TestService(t *testing.T) {
	s := startService(t)

	t.Run("health and security headers", func(t *testing.T) {
		r := s.do("GET", "/livez", nil)
		assert.Equal(t, http.StatusNoContent, r.StatusCode)
		r = s.do("GET", "/readyz", nil)
		assert.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		checks, _ := r.json(t)["checks"].(map[string]any)
		assert.Contains(t, checks, "postgresql")
		assert.Contains(t, checks, "redis")
		assert.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
		assert.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))
		assert.NotEmpty(t, r.Header.Get("Content-Security-Policy"))

		r = s.do("OPTIONS", "/v1/products", nil, "Origin", "https://app.shop.test", "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization, content-type")
		assert.Equal(t, "https://app.shop.test", r.Header.Get("Access-Control-Allow-Origin"))
		r = s.do("GET", "/v1/products", nil, "Origin", "https://evil.test")
		assert.Empty(t, r.Header.Get("Access-Control-Allow-Origin"))

		big := `{"email":"a@b.test","password":"` + strings.Repeat("x", 2<<20) + `","name":"n"}`
		r = s.do("POST", "/v1/auth/signup", big)
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode)
		assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))

		s.app.Drain()
		r = s.do("GET", "/readyz", nil)
		assert.Equal(t, http.StatusServiceUnavailable, r.StatusCode)
		r = s.do("GET", "/livez", nil)
		assert.Equal(t, http.StatusNoContent, r.StatusCode, "liveness stays up while draining")
	})

	adminID := s.signup(adminEmail, "Admin")
	s.grant(adminEmail, "admin")
	aliceID := s.signup("alice@shop.test", "Alice")
	s.signup("bob@shop.test", "Bob")

	t.Run("signup", func(t *testing.T) {
		r := s.do("POST", "/v1/auth/signup", map[string]string{"email": "ALICE@shop.test", "password": "another long one", "name": "A"})
		assert.Equal(t, http.StatusConflict, r.StatusCode, "emails are case-insensitive")
		assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
		assert.Equal(t, "Email already registered", r.json(t)["title"])

		r = s.do("POST", "/v1/auth/signup", map[string]string{"email": "not-an-email", "password": "short", "name": ""})
		assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
		assert.ElementsMatch(t, []string{"/email invalid_email", "/name required", "/password too_short"}, pointers(t, r))

		r = s.do("POST", "/v1/auth/signup", map[string]string{"email": "carol@shop.test", "password": "short", "name": "Carol"})
		assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
		assert.Equal(t, []string{"/password too_short"}, pointers(t, r))

		r = s.do("POST", "/v1/auth/signup", `{"email":"carol@shop.test","password":"long enough pw","name":"C","role":"admin"}`)
		assert.Equal(t, http.StatusBadRequest, r.StatusCode, "unknown members are refused, not ignored: %s", r.body)
	})

	t.Run("login", func(t *testing.T) {
		wrong := s.do("POST", "/v1/auth/login", map[string]string{"email": "alice@shop.test", "password": "wrong password"})
		unknown := s.do("POST", "/v1/auth/login", map[string]string{"email": "nobody@shop.test", "password": "wrong password"})
		assert.Equal(t, http.StatusUnauthorized, wrong.StatusCode)
		assert.Equal(t, http.StatusUnauthorized, unknown.StatusCode)
		assert.Equal(t, string(wrong.body), string(unknown.body), "the answer must not reveal whether the email exists")
	})

	t.Run("login rate limit per email", func(t *testing.T) {
		s.signup("mallory@shop.test", "Mallory")
		var last response
		for range 11 {
			last = s.do("POST", "/v1/auth/login", map[string]string{"email": "Mallory@shop.test", "password": "guess guess"})
			if last.StatusCode != http.StatusUnauthorized {
				break
			}
			assert.NotEmpty(t, last.Header.Get("RateLimit-Policy"))
		}
		assert.Equal(t, http.StatusTooManyRequests, last.StatusCode, "%s", last.body)
		assert.NotEmpty(t, last.Header.Get("Retry-After"))
		r := s.do("POST", "/v1/auth/login", map[string]string{"email": "mallory@shop.test", "password": "correct horse battery"})
		assert.Equal(t, http.StatusTooManyRequests, r.StatusCode, "the limit holds for the right password too")
		r = s.do("POST", "/v1/auth/login", map[string]string{"email": "alice@shop.test", "password": "wrong password"})
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode, "other accounts are unaffected")
	})

	admin := s.login(adminEmail)
	alice := s.login("alice@shop.test")
	bob := s.login("bob@shop.test")

	// Every 401 names the realm the service configured, whichever guard
	// answers it: the Middleware for a refused token, RequireAuthenticated
	// and authz's requirements for a missing one. They used to say "shop",
	// "api" and nothing.
	t.Run("one realm", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			headers      []string
			challenge    string
		}{
			{"GET", "/v1/me", nil, `Bearer realm="shop"`},
			{"GET", "/v1/me", bearer("not.a.token"), `Bearer realm="shop", error="invalid_token"`},
			{"POST", "/v1/auth/logout", nil, `Bearer realm="shop"`},
			{"GET", "/v1/orders", nil, `Bearer realm="shop"`},
			{"GET", "/v1/apikeys", nil, `Bearer realm="shop"`},
			{"GET", "/v1/orders", bearer("not.a.token"), `Bearer realm="shop", error="invalid_token"`},
		} {
			r := s.do(tc.method, tc.path, nil, tc.headers...)
			assert.Equal(t, http.StatusUnauthorized, r.StatusCode, "%s %s", tc.method, tc.path)
			assert.Equal(t, tc.challenge, r.Header.Get("WWW-Authenticate"), "%s %s %v", tc.method, tc.path, tc.headers)
		}
	})

	t.Run("me and jwks", func(t *testing.T) {
		r := s.do("GET", "/v1/me", nil)
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
		assert.NotEmpty(t, r.Header.Get("WWW-Authenticate"))
		r = s.do("GET", "/v1/me", nil, bearer("not.a.token")...)
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode)

		r = s.do("GET", "/v1/me", nil, bearer(admin.Access)...)
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		m := r.json(t)
		assert.Equal(t, adminID, m["id"])
		assert.Equal(t, "admin", m["role"])
		assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))

		r = s.do("GET", "/.well-known/jwks.json", nil)
		require.Equal(t, http.StatusOK, r.StatusCode)
		keys, err := token.ParseJWKS(r.body)
		require.NoError(t, err)
		ring, err := token.NewKeyRing(nil, keys...)
		require.NoError(t, err)
		v, err := token.NewVerifier(token.VerifierConfig{Keys: ring, Issuer: access.TokenIssuer, Audience: access.TokenAudience})
		require.NoError(t, err)
		c, err := v.Verify(context.Background(), alice.Access)
		require.NoError(t, err)
		assert.Equal(t, aliceID, c.Subject)
	})

	t.Run("refresh reuse revokes the family", func(t *testing.T) {
		first := s.login("alice@shop.test")
		r := s.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": first.Refresh})
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		second := r.json(t)["refresh_token"].(string)
		assert.NotEqual(t, first.Refresh, second)

		r = s.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": first.Refresh})
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode, "a used token is refused")
		r = s.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": second})
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode, "reuse revoked the newest token of the family too")

		r = s.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": alice.Refresh})
		require.Equal(t, http.StatusOK, r.StatusCode, "another login's family is untouched")
		alice.Refresh = r.json(t)["refresh_token"].(string)
	})

	t.Run("logout", func(t *testing.T) {
		tk := s.login("bob@shop.test")
		r := s.do("POST", "/v1/auth/logout", nil)
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
		r = s.do("POST", "/v1/auth/logout", nil, bearer(tk.Access)...)
		assert.Equal(t, http.StatusNoContent, r.StatusCode)
		r = s.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tk.Refresh})
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
	})

	t.Run("api keys", func(t *testing.T) {
		r := s.do("POST", "/v1/apikeys", map[string]any{"name": "ci", "scopes": []string{"products:write"}}, bearer(alice.Access)...)
		assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, "a key cannot exceed its owner's permissions")
		assert.Equal(t, []string{"/scopes/0 not_allowed"}, pointers(t, r))

		r = s.do("POST", "/v1/apikeys", map[string]any{"name": "reporting", "scopes": []string{"orders:read"}}, bearer(alice.Access)...)
		require.Equal(t, http.StatusCreated, r.StatusCode, "%s", r.body)
		m := r.json(t)
		key, id := m["key"].(string), m["id"].(string)
		require.True(t, strings.HasPrefix(key, access.APIKeyPrefix+"_"))

		r = s.do("GET", "/v1/orders", nil, "X-API-Key", key)
		assert.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		r = s.do("GET", "/v1/me", nil, bearer(key)...)
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		assert.Equal(t, aliceID, r.json(t)["id"])
		r = s.do("POST", "/v1/orders", map[string]any{"items": []any{}}, "X-API-Key", key, "Idempotency-Key", "k")
		assert.Equal(t, http.StatusForbidden, r.StatusCode, "the key has no orders:write scope")
		r = s.do("POST", "/v1/apikeys", map[string]any{"name": "x", "scopes": []string{"orders:read"}}, "X-API-Key", key)
		assert.Equal(t, http.StatusForbidden, r.StatusCode, "a key cannot mint keys")

		r = s.do("GET", "/v1/apikeys", nil, bearer(alice.Access)...)
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.NotContains(t, string(r.body), key, "the secret is shown once")
		assert.Contains(t, string(r.body), id)

		r = s.do("DELETE", "/v1/apikeys/"+id, nil, bearer(bob.Access)...)
		assert.Equal(t, http.StatusNotFound, r.StatusCode, "someone else's key")
		r = s.do("DELETE", "/v1/apikeys/"+id, nil, bearer(alice.Access)...)
		assert.Equal(t, http.StatusNoContent, r.StatusCode)
		r = s.do("GET", "/v1/orders", nil, "X-API-Key", key)
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode, "a revoked key is refused")
	})

	t.Run("products", func(t *testing.T) {
		body := map[string]any{"name": "x", "price_cents": 1, "stock": 1}
		assert.Equal(t, http.StatusUnauthorized, s.do("POST", "/v1/products", body).StatusCode)
		assert.Equal(t, http.StatusForbidden, s.do("POST", "/v1/products", body, bearer(alice.Access)...).StatusCode)
		r := s.do("POST", "/v1/products", map[string]any{"name": "", "price_cents": -1}, bearer(admin.Access)...)
		assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
		assert.ElementsMatch(t, []string{"/name required", "/price_cents out_of_range", "/stock required"}, pointers(t, r))

		want := map[float64]bool{}
		for i := range 25 {
			p := s.createProduct(admin.Access, fmt.Sprintf("product %02d", i), 100+(i*37)%500, 5)
			want[p["id"].(float64)] = true
		}

		// Walk every page through the Link header.
		seen := map[float64]bool{}
		next := "/v1/products?limit=10&sort=price"
		pages, lastPrice := 0, -1.0
		for next != "" && pages < 10 {
			r := s.do("GET", next, nil)
			require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
			var page struct {
				Items []struct {
					ID    float64 `json:"id"`
					Price float64 `json:"price_cents"`
				} `json:"items"`
				HasMore bool   `json:"has_more"`
				Next    string `json:"next_cursor"`
			}
			require.NoError(t, json.Unmarshal(r.body, &page))
			for _, it := range page.Items {
				assert.False(t, seen[it.ID], "product %v repeated", it.ID)
				seen[it.ID] = true
				assert.GreaterOrEqual(t, it.Price, lastPrice, "sorted by price")
				lastPrice = it.Price
			}
			pages++
			next = ""
			if page.HasMore {
				parsed, err := url.Parse(linkRel(r.Header.Get("Link"), "next"))
				require.NoError(t, err)
				assert.Equal(t, page.Next, parsed.Query().Get("cursor"))
				next = parsed.RequestURI()
			}
		}
		assert.Equal(t, 3, pages)
		assert.Equal(t, want, seen)

		r = s.do("GET", "/v1/products?limit=10", nil)
		cursor := r.json(t)["next_cursor"].(string)
		tampered := []byte(cursor)
		tampered[len(tampered)/2] ^= 1
		r = s.do("GET", "/v1/products?limit=10&cursor="+url.QueryEscape(string(tampered)), nil)
		assert.Equal(t, http.StatusBadRequest, r.StatusCode)
		r = s.do("GET", "/v1/products?limit=10&sort=name&cursor="+url.QueryEscape(cursor), nil)
		assert.Equal(t, http.StatusBadRequest, r.StatusCode, "a cursor is bound to its sort")

		// ETag, conditional GET and optimistic locking.
		p := s.createProduct(admin.Access, "lamp", 2500, 3)
		path := fmt.Sprintf("/v1/products/%v", p["id"])
		r = s.do("GET", path, nil)
		require.Equal(t, http.StatusOK, r.StatusCode)
		etag := r.Header.Get("ETag")
		require.Equal(t, `"v1"`, etag)
		r = s.do("GET", path, nil, "If-None-Match", etag)
		assert.Equal(t, http.StatusNotModified, r.StatusCode)
		assert.Empty(t, r.body)

		update := map[string]any{"name": "lamp", "description": "brighter", "price_cents": 2700, "stock": 3}
		r = s.do("PUT", path, update, bearer(admin.Access)...)
		assert.Equal(t, http.StatusPreconditionRequired, r.StatusCode)
		r = s.do("PUT", path, update, append(bearer(alice.Access), "If-Match", etag)...)
		assert.Equal(t, http.StatusForbidden, r.StatusCode)
		r = s.do("PUT", path, update, append(bearer(admin.Access), "If-Match", etag)...)
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		assert.Equal(t, `"v2"`, r.Header.Get("ETag"))
		assert.Equal(t, float64(2700), r.json(t)["price_cents"])
		r = s.do("PUT", path, update, append(bearer(admin.Access), "If-Match", etag)...)
		assert.Equal(t, http.StatusPreconditionFailed, r.StatusCode, "stale If-Match")
		r = s.do("GET", path, nil, "If-None-Match", etag)
		assert.Equal(t, http.StatusOK, r.StatusCode, "the old ETag no longer matches")

		r = s.do("DELETE", path, nil, append(bearer(admin.Access), "If-Match", etag)...)
		assert.Equal(t, http.StatusPreconditionFailed, r.StatusCode)
		r = s.do("DELETE", path, nil, bearer(admin.Access)...)
		assert.Equal(t, http.StatusNoContent, r.StatusCode)
		assert.Equal(t, http.StatusNotFound, s.do("GET", path, nil).StatusCode)
		assert.Equal(t, http.StatusNotFound, s.do("GET", "/v1/products/abc", nil).StatusCode)
	})

	t.Run("product reads are cached, writes invalidate", func(t *testing.T) {
		p := s.createProduct(admin.Access, "teapot", 4000, 2)
		path := fmt.Sprintf("/v1/products/%v", p["id"])
		require.Equal(t, "teapot", s.do("GET", path, nil).json(t)["name"])
		// A change behind the service's back is not seen until the entry
		// goes: proof that reads come from the cache.
		_, err := s.pool.Exec(context.Background(), `UPDATE products SET name = 'renamed' WHERE id = $1`, p["id"])
		require.NoError(t, err)
		assert.Equal(t, "teapot", s.do("GET", path, nil).json(t)["name"])
		r := s.do("PUT", path, map[string]any{"name": "teapot II", "price_cents": 4100, "stock": 2},
			append(bearer(admin.Access), "If-Match", `"v1"`)...)
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		assert.Equal(t, "teapot II", s.do("GET", path, nil).json(t)["name"], "the update invalidated the entry")
	})

	t.Run("orders", func(t *testing.T) {
		p := s.createProduct(admin.Access, "kettle", 3000, 5)
		pid := p["id"]
		order := map[string]any{"items": []any{map[string]any{"product_id": pid, "quantity": 2}}}

		r := s.do("POST", "/v1/orders", order, bearer(alice.Access)...)
		assert.Equal(t, http.StatusBadRequest, r.StatusCode, "Idempotency-Key is required")
		r = s.do("POST", "/v1/orders", map[string]any{"items": []any{map[string]any{"product_id": pid, "quantity": 0}}},
			append(bearer(alice.Access), "Idempotency-Key", "bad-1")...)
		assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
		assert.Equal(t, []string{"/items/0/quantity out_of_range"}, pointers(t, r))

		first := s.do("POST", "/v1/orders", order, append(bearer(alice.Access), "Idempotency-Key", "order-1")...)
		require.Equal(t, http.StatusCreated, first.StatusCode, "%s", first.body)
		m := first.json(t)
		assert.Equal(t, "paid", m["status"])
		assert.Equal(t, float64(6000), m["total_cents"])
		again := s.do("POST", "/v1/orders", order, append(bearer(alice.Access), "Idempotency-Key", "order-1")...)
		assert.Equal(t, http.StatusCreated, again.StatusCode)
		assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		assert.Equal(t, string(first.body), string(again.body), "the replay is the same order")
		other := s.do("POST", "/v1/orders", map[string]any{"items": []any{map[string]any{"product_id": pid, "quantity": 1}}},
			append(bearer(alice.Access), "Idempotency-Key", "order-1")...)
		assert.Equal(t, http.StatusUnprocessableEntity, other.StatusCode, "same key, different body")

		r = s.do("GET", fmt.Sprintf("/v1/products/%v", pid), nil)
		assert.Equal(t, float64(3), r.json(t)["stock"], "the replay did not take stock again")
		s.eventuallyUnitsSold(pid, 2)

		r = s.do("POST", "/v1/orders", map[string]any{"items": []any{map[string]any{"product_id": pid, "quantity": 4}}},
			append(bearer(alice.Access), "Idempotency-Key", "order-2")...)
		assert.Equal(t, http.StatusConflict, r.StatusCode, "out of stock: %s", r.body)
		oos := r.json(t)
		assert.Equal(t, orders.ProblemOutOfStock, oos["type"], "a title of its own needs a type of its own")
		assert.Equal(t, "Out of stock", oos["title"])
		r = s.do("POST", "/v1/orders", map[string]any{"items": []any{map[string]any{"product_id": 999999, "quantity": 1}}},
			append(bearer(alice.Access), "Idempotency-Key", "order-3")...)
		assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)

		orderPath := fmt.Sprintf("/v1/orders/%v", m["id"])
		r = s.do("GET", orderPath, nil, bearer(alice.Access)...)
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.Equal(t, string(first.body), string(r.body))
		r = s.do("GET", orderPath, nil, bearer(bob.Access)...)
		assert.Equal(t, http.StatusNotFound, r.StatusCode, "someone else's order")

		r = s.do("GET", "/v1/orders", nil, bearer(alice.Access)...)
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.Len(t, r.json(t)["items"], 1)
		r = s.do("GET", "/v1/orders", nil, bearer(bob.Access)...)
		assert.Empty(t, r.json(t)["items"])
	})

	t.Run("payment breaker open: orders pending_payment", func(t *testing.T) {
		p := s.createProduct(admin.Access, "umbrella", 1500, 100)
		order := map[string]any{"items": []any{map[string]any{"product_id": p["id"], "quantity": 1}}}
		r := s.do("POST", "/v1/admin/faults", map[string]string{"mode": "error"}, bearer(alice.Access)...)
		assert.Equal(t, http.StatusForbidden, r.StatusCode)
		r = s.do("POST", "/v1/admin/faults", map[string]string{"mode": "sometimes"}, bearer(admin.Access)...)
		assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
		r = s.do("POST", "/v1/admin/faults", map[string]string{"mode": "error"}, bearer(admin.Access)...)
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		defer s.do("POST", "/v1/admin/faults", map[string]string{"mode": "none"}, bearer(admin.Access)...)

		for i := range 3 {
			r := s.do("POST", "/v1/orders", order, append(bearer(alice.Access), "Idempotency-Key", fmt.Sprint("fault-", i))...)
			require.Equal(t, http.StatusCreated, r.StatusCode, "%s", r.body)
			assert.Equal(t, "pending_payment", r.json(t)["status"], "a failing payment service does not fail the order")
		}
		r = s.do("POST", "/v1/admin/faults", map[string]string{"mode": "none"}, bearer(admin.Access)...)
		require.Equal(t, http.StatusOK, r.StatusCode)
		assert.Equal(t, "open", strings.ToLower(r.json(t)["breaker"].(string)), "the failures opened the breaker")

		// The service is healthy again, but the open breaker fails fast:
		// the order is accepted without waiting for payment.
		start := time.Now()
		r = s.do("POST", "/v1/orders", order, append(bearer(alice.Access), "Idempotency-Key", "fault-open")...)
		require.Equal(t, http.StatusCreated, r.StatusCode, "%s", r.body)
		assert.Equal(t, "pending_payment", r.json(t)["status"])
		assert.Less(t, time.Since(start), time.Second)
		id := r.json(t)["id"]
		r = s.do("GET", fmt.Sprintf("/v1/orders/%v", id), nil, bearer(alice.Access)...)
		assert.Equal(t, "pending_payment", r.json(t)["status"], "the status is stored")
	})

	t.Run("50 concurrent orders for stock 10", func(t *testing.T) {
		p := s.createProduct(admin.Access, "limited edition", 9900, 10)
		order := map[string]any{"items": []any{map[string]any{"product_id": p["id"], "quantity": 1}}}
		var wg sync.WaitGroup
		codes := make(chan int, 50)
		for i := range 50 {
			wg.Go(func() {
				req, _ := json.Marshal(order)
				hr, _ := http.NewRequest("POST", s.base+"/v1/orders", bytes.NewReader(req))
				hr.Header.Set("Content-Type", "application/json")
				hr.Header.Set("Authorization", "Bearer "+bob.Access)
				hr.Header.Set("Idempotency-Key", fmt.Sprintf("rush-%d", i))
				resp, err := http.DefaultClient.Do(hr)
				if err != nil {
					codes <- 0
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes <- resp.StatusCode
			})
		}
		wg.Wait()
		close(codes)
		count := map[int]int{}
		for c := range codes {
			count[c]++
		}
		assert.Equal(t, map[int]int{http.StatusCreated: 10, http.StatusConflict: 40}, count)
		r := s.do("GET", fmt.Sprintf("/v1/products/%v", p["id"]), nil)
		assert.Equal(t, float64(0), r.json(t)["stock"])
		r = s.do("GET", "/v1/orders?limit=100", nil, bearer(bob.Access)...)
		assert.Len(t, r.json(t)["items"], 10)
		s.eventuallyUnitsSold(p["id"], 10)
	})

	t.Run("every order counted exactly once in units_sold", func(t *testing.T) {
		// Deleted products took their counts with them; compare over the
		// products that still exist.
		const q = `SELECT (SELECT coalesce(sum(units_sold), 0) FROM products),
			(SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN products p ON p.id = i.product_id)`
		var sold, ordered int64
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			require.NoError(t, s.pool.QueryRow(context.Background(), q).Scan(&sold, &ordered))
			if sold >= ordered {
				break
			}
		}
		assert.Positive(t, ordered)
		assert.Equal(t, ordered, sold)
	})
}

// TestOpenAPIMatchesRoutes keeps /openapi.json true: every registered route
// is documented and every documented operation is registered.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := startService(t)
	r := s.do("GET", "/openapi.json", nil)
	require.Equal(t, http.StatusOK, r.StatusCode)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(r.body, &doc))
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	require.GreaterOrEqual(t, len(s.app.Routes()), 20)
	assert.ElementsMatch(t, s.app.Routes(), documented)
}

// eventuallyUnitsSold waits for the order.placed consumer to bring a
// product's units_sold to want, then checks that it stays there: each event
// is applied once even though delivery is at least once.
func (s *service) eventuallyUnitsSold(id any, want float64) {
	s.t.Helper()
	path := fmt.Sprintf("/v1/products/%v", id)
	got := -1.0
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = s.do("GET", path, nil).json(s.t)["units_sold"].(float64); got >= want {
			break
		}
	}
	require.Equal(s.t, want, got, "units_sold of product %v", id)
	time.Sleep(300 * time.Millisecond)
	assert.Equal(s.t, want, s.do("GET", path, nil).json(s.t)["units_sold"], "applied once")
}

// linkRel returns the target of the link with rel in a Link header.
func linkRel(header, rel string) string {
	for _, l := range strings.Split(header, ", ") {
		target, params, _ := strings.Cut(l, ";")
		if strings.TrimSpace(params) == `rel="`+rel+`"` {
			return strings.Trim(target, "<>")
		}
	}
	return ""
}

// TestOrdersPagination pages through one user's orders with the cursor
// bound to that user.
func TestOrdersPagination(t *testing.T) {
	s := startService(t)
	s.signup(adminEmail, "Admin")
	s.grant(adminEmail, "admin")
	s.signup("dan@shop.test", "Dan")
	s.signup("eve@shop.test", "Eve")
	admin, dan, eve := s.login(adminEmail), s.login("dan@shop.test"), s.login("eve@shop.test")
	p := s.createProduct(admin.Access, "pen", 150, 100)
	for i := range 7 {
		r := s.do("POST", "/v1/orders", map[string]any{"items": []any{map[string]any{"product_id": p["id"], "quantity": 1}}},
			append(bearer(dan.Access), "Idempotency-Key", fmt.Sprint("p", i))...)
		require.Equal(t, http.StatusCreated, r.StatusCode, "%s", r.body)
	}
	var ids []float64
	next := "/v1/orders?limit=3"
	for pages := 0; next != "" && pages < 10; pages++ {
		r := s.do("GET", next, nil, bearer(dan.Access)...)
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
		m := r.json(t)
		for _, it := range m["items"].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(float64))
		}
		next = ""
		if m["has_more"].(bool) {
			cursor := m["next_cursor"].(string)
			r := s.do("GET", "/v1/orders?limit=3&cursor="+url.QueryEscape(cursor), nil, bearer(eve.Access)...)
			assert.Equal(t, http.StatusBadRequest, r.StatusCode, "another user's cursor")
			next = "/v1/orders?limit=3&cursor=" + url.QueryEscape(cursor)
		}
	}
	require.Len(t, ids, 7)
	for i := 1; i < len(ids); i++ {
		assert.Greater(t, ids[i-1], ids[i], "newest first")
	}
}

// TestConfig checks the environment parsing.
func TestConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"defaults", nil, ""},
		{"bad env", map[string]string{"ENV": "staging"}, "ENV must be"},
		{"production needs keys", map[string]string{"ENV": "production"}, "JWT_KEYS_FILE is required"},
		{"bad duration", map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, "SHUTDOWN_TIMEOUT"},
		{"short cursor secret", map[string]string{"CURSOR_SECRET": "short"}, "CURSOR_SECRET"},
		{"trusted proxies", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1,2001:db8::/32"}, ""},
		{"bad trusted proxy", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"}, `TRUSTED_PROXIES: "proxy.local" is neither`},
		{"everyone trusted", map[string]string{"TRUSTED_PROXIES": "::/0"}, "every client"},
		{"hash tag in the Redis prefix", map[string]string{"REDIS_PREFIX": "{shop}:"}, "REDIS_PREFIX must not contain braces"},
		{"payment allow-list", map[string]string{"PAYMENT_URL": "https://pay.example.com", "PAYMENT_ALLOWED_HOSTS": "pay.example.com",
			"PAYMENT_ALLOWED_CIDRS": "10.20.0.0/16, 10.30.0.7"}, ""},
		{"bad payment CIDR", map[string]string{"PAYMENT_URL": "https://pay.example.com", "PAYMENT_ALLOWED_HOSTS": "pay.example.com",
			"PAYMENT_ALLOWED_CIDRS": "intranet"}, `PAYMENT_ALLOWED_CIDRS: "intranet"`},
		{"allow-list without PAYMENT_URL", map[string]string{"PAYMENT_ALLOWED_HOSTS": "pay.example.com"}, "need PAYMENT_URL"},
		{"v0 sunset as a date", map[string]string{"V0_SUNSET": "2028-01-31"}, ""},
		{"v0 sunset as a time", map[string]string{"V0_SUNSET": "2028-01-31T12:00:00Z"}, ""},
		{"bad v0 sunset", map[string]string{"V0_SUNSET": "next year"}, "V0_SUNSET must be a date"},
		{"v0 sunset before its deprecation", map[string]string{"V0_SUNSET": "2025-01-01"}, "before the deprecation of v0"},
		{"v0 deprecation policy", map[string]string{"V0_DEPRECATION_POLICY": "https://shop.example/docs/v0"}, ""},
		{"relative v0 deprecation policy", map[string]string{"V0_DEPRECATION_POLICY": "/docs/v0"}, "V0_DEPRECATION_POLICY must be"},
		{"events to NATS", map[string]string{"EVENTS_BROKER": "nats"}, ""},
		{"events to RabbitMQ", map[string]string{"EVENTS_BROKER": "rabbitmq", "RABBITMQ_URL": "amqps://u:p@mq.example:5671/shop"}, ""},
		{"unknown broker", map[string]string{"EVENTS_BROKER": "kafka"}, "EVENTS_BROKER must be redis, nats or rabbitmq"},
		{"RabbitMQ URL without the broker", map[string]string{"RABBITMQ_URL": "amqp://mq.example/"}, "RABBITMQ_URL needs EVENTS_BROKER=rabbitmq"},
		{"bad RabbitMQ URL", map[string]string{"EVENTS_BROKER": "rabbitmq", "RABBITMQ_URL": "http://secret@mq.example/"}, "must be an amqp:// or amqps:// URL"},
		{"NATS besides RabbitMQ", map[string]string{"EVENTS_BROKER": "rabbitmq", "NATS_URL": "nats://n:4222"}, "one broker"},
		{"bad TLS reload interval", map[string]string{"TLS_CERT_FILE": "c", "TLS_KEY_FILE": "k", "TLS_RELOAD_INTERVAL": "0s"}, "TLS_RELOAD_INTERVAL"},
		{"slow-query log with plans", map[string]string{"SLOW_QUERY_THRESHOLD": "50ms", "SLOW_QUERY_EXPLAIN": "true"}, ""},
		{"no slow-query log", map[string]string{"SLOW_QUERY_THRESHOLD": "0", "SLOW_REDIS_THRESHOLD": "0"}, ""},
		{"bad slow-query threshold", map[string]string{"SLOW_QUERY_THRESHOLD": "fast"}, `SLOW_QUERY_THRESHOLD must be a duration such as 200ms, or 0 to log none, not "fast"`},
		{"negative slow-query threshold", map[string]string{"SLOW_QUERY_THRESHOLD": "-1s"}, "SLOW_QUERY_THRESHOLD must be a duration"},
		{"bad slow-command threshold", map[string]string{"SLOW_REDIS_THRESHOLD": "1 second"}, "SLOW_REDIS_THRESHOLD must be a duration"},
		{"bad plan switch", map[string]string{"SLOW_QUERY_EXPLAIN": "sometimes"}, `SLOW_QUERY_EXPLAIN must be true or false, not "sometimes"`},
		{"plans without slow queries", map[string]string{"SLOW_QUERY_THRESHOLD": "0", "SLOW_QUERY_EXPLAIN": "true"}, "SLOW_QUERY_EXPLAIN=true needs a SLOW_QUERY_THRESHOLD above 0"},
		{"no drain", map[string]string{"SHUTDOWN_DRAIN": "0s"}, ""},
		{"negative drain", map[string]string{"SHUTDOWN_DRAIN": "-1s"}, "SHUTDOWN_DRAIN must be a duration"},
		{"bad drain", map[string]string{"SHUTDOWN_DRAIN": "a while"}, "SHUTDOWN_DRAIN must be a duration"},
		{"bad connect timeout", map[string]string{"DB_CONNECT_TIMEOUT": "0s"}, "DB_CONNECT_TIMEOUT"},
		{"bad begin timeout", map[string]string{"DB_BEGIN_TIMEOUT": "2"}, "DB_BEGIN_TIMEOUT"},
		{"admin listener", map[string]string{"ADMIN_ADDR": "127.0.0.1:6060"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(env(tt.env))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, ":8080", cfg.HTTPAddr)
			assert.Equal(t, config.Development, cfg.Env)
			assert.Equal(t, 20*time.Second, cfg.ShutdownTimeout)
			assert.Equal(t, "shop:", cfg.RedisPrefix)
		})
	}
	cfg, err := config.Load(env(nil))
	require.NoError(t, err)
	assert.Equal(t, observe.DefaultDrain, cfg.ShutdownDrain)
	assert.Equal(t, 2*time.Second, cfg.DBConnectTimeout)
	assert.Equal(t, 2*time.Second, cfg.DBBeginTimeout)
	assert.Empty(t, cfg.AdminAddr, "no profiles unless asked")
	assert.Equal(t, "redis", cfg.EventsBroker, "Redis Streams by default")
	assert.Empty(t, cfg.RabbitMQURL)
	cfg, err = config.Load(env(map[string]string{"EVENTS_BROKER": "rabbitmq"}))
	require.NoError(t, err)
	assert.Equal(t, config.DefaultRabbitMQURL, cfg.RabbitMQURL)
	cfg, err = config.Load(env(map[string]string{"EVENTS_BROKER": "nats"}))
	require.NoError(t, err)
	assert.Equal(t, config.DefaultNATSURL, cfg.NATSURL)
	cfg, err = config.Load(env(nil))
	require.NoError(t, err)
	assert.Equal(t, config.V0Deprecated().AddDate(1, 0, 0), cfg.V0Sunset, "v0's sunset is a year after its deprecation by default")
	cfg, err = config.Load(env(map[string]string{"V0_SUNSET": "2028-01-31"}))
	require.NoError(t, err)
	assert.Equal(t, time.Date(2028, 1, 31, 0, 0, 0, 0, time.UTC), cfg.V0Sunset)
	cfg, err = config.Load(env(nil))
	require.NoError(t, err)
	assert.Equal(t, 200*time.Millisecond, cfg.SlowQueryThreshold, "SLOW_QUERY_THRESHOLD's default")
	assert.Equal(t, 50*time.Millisecond, cfg.SlowRedisThreshold, "SLOW_REDIS_THRESHOLD's default")
	assert.False(t, cfg.SlowQueryExplain, "no plans by default")
	cfg, err = config.Load(env(map[string]string{"SLOW_QUERY_THRESHOLD": "0", "SLOW_REDIS_THRESHOLD": "1.5ms"}))
	require.NoError(t, err)
	assert.Zero(t, cfg.SlowQueryThreshold, "0 logs no slow query")
	assert.Equal(t, 1500*time.Microsecond, cfg.SlowRedisThreshold)
	cfg, err = config.Load(env(map[string]string{"TRUSTED_PROXIES": "10.1.2.3/8, 192.0.2.1,2001:db8::1"}))
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"),
		netip.MustParsePrefix("2001:db8::1/128")}, cfg.TrustedProxies)
}
