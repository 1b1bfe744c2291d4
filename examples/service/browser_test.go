package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrock-go/bedrock/auth/password"

	"github.com/bedrock-go/bedrock/examples/service/internal/app"
	"github.com/bedrock-go/bedrock/examples/service/internal/config"
	"github.com/bedrock-go/bedrock/examples/service/internal/servicetest"
)

// startServiceForOrigin starts the service as startService does, allowing
// CORS from origin and tracing into tp.
func startServiceForOrigin(t *testing.T, origin string, tp trace.TracerProvider) *service {
	t.Helper()
	pool, _ := servicetest.Database(t)
	rdb, prefix := servicetest.Redis(t) // honours context deadlines, as main's client does
	cfg, err := config.Load(func(name string) string {
		return map[string]string{"CORS_ORIGINS": origin}[name]
	})
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(context.Background(), cfg, pool, rdb, log, app.Options{
		RedisPrefix:    prefix,
		PasswordParams: password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		TracerProvider: tp,
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, a.Close()) })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &service{t: t, pool: pool, base: srv.URL, app: a}
}

// grantAdmin gives a user the admin role directly in the database, however
// the service itself hands the role out.
func (s *service) grantAdmin(email string) {
	s.t.Helper()
	tag, err := s.pool.Exec(context.Background(), `UPDATE users SET role = 'admin' WHERE email = $1`, email)
	require.NoError(s.t, err)
	require.EqualValues(s.t, 1, tag.RowsAffected())
}

// TestBrowser runs the service's API from headless Chromium, as a
// single-page app on another origin does, and checks what the browser
// itself allowed, refused and let the scripts read: pages on an allowed and
// a foreign origin (testdata/browser) perform the customer and admin flow
// with fetch and write what they saw into the DOM; the browser's network
// log says why it refused what it refused.
func TestBrowser(t *testing.T) {
	binary := servicetest.Chromium(t)
	pages := http.FileServer(http.Dir("testdata/browser"))
	allowed := httptest.NewServer(pages)
	t.Cleanup(allowed.Close)
	foreign := httptest.NewServer(pages)
	t.Cleanup(foreign.Close)

	// The propagators observe.Setup installs in main: the service must
	// continue the trace a browser starts.
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	s := startServiceForOrigin(t, allowed.URL, tp)
	r := s.do("POST", "/v1/auth/signup", map[string]string{"email": "admin@shop.test", "password": "correct horse battery", "name": "Admin"})
	require.Equal(t, http.StatusCreated, r.StatusCode, "%s", r.body)
	s.grantAdmin("admin@shop.test")

	started := time.Now()
	b := startChromium(t, binary)
	// Generous: a busy 2-core machine runs the browser, the service,
	// PostgreSQL and Redis at once.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	api := "?api=" + url.QueryEscape(s.base)
	got := b.open(ctx, allowed.URL+"/app.html"+api, "app")
	gotForeign := b.open(ctx, foreign.URL+"/foreign.html"+api, "foreign")
	t.Logf("browser started and both pages ran in %v", time.Since(started).Round(time.Millisecond))
	require.Nil(t, got["exception"], "the app page threw")
	require.Nil(t, gotForeign["exception"], "the foreign page threw")
	res := results{t, got}

	t.Run("signup and login", func(t *testing.T) {
		res := res.on(t)
		assert.Equal(t, 201.0, res.get("signup.status"))
		assert.Equal(t, "/v1/me", res.get("signup.location"), "Location is relative")
		assert.Equal(t, s.base+"/v1/me", res.get("signup.resolved"), "resolved against the API, not the page")
		assert.Regexp(t, `^[0-9a-f]{24}$`, res.get("signup.requestId"), "the service's request id is readable")
		assert.Equal(t, 200.0, res.get("login.status"))
		assert.Equal(t, "Bearer", res.get("login.tokenType"))
		assert.Contains(t, res.get("login.rateLimitPolicy"), "login-", "RateLimit-Policy is readable")
		assert.Contains(t, res.get("login.rateLimit"), "r=", "RateLimit is readable")
	})

	t.Run("me: challenges, request id, trace context", func(t *testing.T) {
		res := res.on(t)
		assert.Equal(t, 401.0, res.get("meAnonymous.status"))
		assert.True(t, strings.HasPrefix(res.str("meAnonymous.wwwAuthenticate"), "Bearer "), "WWW-Authenticate is readable: %v", res.get("meAnonymous.wwwAuthenticate"))
		assert.NotContains(t, res.str("meAnonymous.wwwAuthenticate"), "invalid_token")
		assert.NotEmpty(t, res.get("meAnonymous.requestId"), "an error can quote its request id")
		assert.Equal(t, 401.0, res.get("meBadToken.status"))
		assert.Contains(t, res.get("meBadToken.wwwAuthenticate"), `error="invalid_token"`, "a bad token is told apart from a missing one")

		assert.Equal(t, 200.0, res.get("me.status"))
		assert.Equal(t, "carol@shop.test", res.get("me.email"))
		assert.Equal(t, "browser-me-1", res.get("me.requestId"), "the app's own request id is accepted and echoed")
		assert.Equal(t, "no-store", res.get("me.cacheControl"), "a CORS-safelisted header")
		assert.Nil(t, res.get("me.csp"), "a header the service does not expose stays hidden")

		me := b.request(ctx, "me", answered)
		require.NotNil(t, me.Preflight, "Authorization, trace context and X-Request-Id need a preflight")
		assert.Equal(t, http.StatusNoContent, me.Preflight.Status)
		for _, h := range []string{"Traceparent", "Tracestate", "Baggage", "X-Request-Id", "Authorization"} {
			assert.Contains(t, me.Preflight.Header.Get("Access-Control-Allow-Headers"), h)
		}
		assert.Equal(t, 200, me.Status)

		traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
		parent, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
		// The service's clients are the public: it starts a trace of its
		// own for each request and keeps the browser's as a link (a client
		// that chose the trace id could join others' traces or force
		// sampling), so the frontend's trace and the server's still meet.
		var linked []sdktrace.ReadOnlySpan
		for _, span := range spans.Ended() {
			for _, l := range span.Links() {
				if l.SpanContext.TraceID() == traceID && l.SpanContext.SpanID() == parent && l.SpanContext.IsRemote() {
					linked = append(linked, span)
				}
			}
		}
		require.Len(t, linked, 1, "one server span links the browser's trace")
		assert.Equal(t, trace.SpanKindServer, linked[0].SpanKind())
		assert.NotEqual(t, traceID, linked[0].SpanContext().TraceID(), "in a trace of the service's own")
		assert.Equal(t, "browser", linked[0].Links()[0].SpanContext.TraceState().Get("bedrock"), "tracestate arrives too")
	})

	t.Run("products: Location, Link, ETag, 304, 428, 412", func(t *testing.T) {
		res := res.on(t)
		assert.Equal(t, 200.0, res.get("adminLogin"))
		for i := range 3 {
			p := fmt.Sprintf("created.%d.", i)
			assert.Equal(t, 201.0, res.get(p+"status"))
			loc := fmt.Sprintf("/v1/products/%v", res.get(p+"id"))
			assert.Equal(t, loc, res.get(p+"location"))
			assert.Equal(t, s.base+loc, res.get(p+"resolved"))
			assert.Equal(t, `"v1"`, res.get(p+"etag"), "ETag is readable")
		}
		assert.Equal(t, 200.0, res.get("page1.status"))
		assert.Equal(t, 2.0, res.get("page1.items"))
		assert.Contains(t, res.get("page1.link"), `rel="next"`, "Link is readable")
		assert.True(t, strings.HasPrefix(res.str("page1.next"), s.base+"/v1/products?"), "next resolved against the API: %v", res.get("page1.next"))
		assert.Equal(t, 200.0, res.get("page2.status"))
		assert.Equal(t, 1.0, res.get("page2.items"))
		assert.Equal(t, 200.0, res.get("v0.status"))
		assert.Regexp(t, `^@[0-9]+$`, res.get("v0.deprecation"), "Deprecation is readable")
		assert.Contains(t, res.get("v0.sunset"), "GMT", "Sunset is readable")
		assert.Equal(t, s.base+"/v1/products", res.get("v0.successor"), "the successor resolved against the API")

		assert.Equal(t, 200.0, res.get("get.status"))
		assert.Equal(t, `"v1"`, res.get("get.etag"))
		assert.Equal(t, 304.0, res.get("notModified"), "the browser hands the page the 304 for its own If-None-Match")
		assert.Equal(t, 428.0, res.get("putWithoutIfMatch"))
		assert.Equal(t, 200.0, res.get("put.status"))
		assert.Equal(t, `"v2"`, res.get("put.etag"))
		assert.Equal(t, 412.0, res.get("putStale"))
		assert.Equal(t, 204.0, res.get("delete"))

		put := b.request(ctx, "put", answered)
		require.NotNil(t, put.Preflight)
		assert.Equal(t, http.StatusNoContent, put.Preflight.Status)
		assert.Equal(t, allowed.URL, put.Preflight.Header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "GET, POST, PUT, DELETE", put.Preflight.Header.Get("Access-Control-Allow-Methods"))
		assert.Equal(t, "600", put.Preflight.Header.Get("Access-Control-Max-Age"))
		assert.Empty(t, put.Preflight.Header.Get("Access-Control-Allow-Credentials"))
	})

	t.Run("orders: Location and idempotent replay", func(t *testing.T) {
		res := res.on(t)
		assert.Equal(t, 201.0, res.get("order.status"))
		assert.Equal(t, "paid", res.get("order.state"))
		loc := fmt.Sprintf("/v1/orders/%v", res.get("order.id"))
		assert.Equal(t, loc, res.get("order.location"))
		assert.Equal(t, s.base+loc, res.get("order.resolved"))
		assert.Equal(t, 201.0, res.get("orderReplay.status"))
		assert.Equal(t, "true", res.get("orderReplay.replayed"), "Idempotent-Replayed is readable")
		assert.Equal(t, res.get("order.id"), res.get("orderReplay.id"))
		assert.Equal(t, 200.0, res.get("orderRead.status"))
		assert.Equal(t, res.get("order.id"), res.get("orderRead.id"))
	})

	t.Run("refusals name their reason", func(t *testing.T) {
		res := res.on(t)
		for _, name := range []string{"patch", "customHeader", "credentials"} {
			assert.Equal(t, "TypeError", res.get(name), "%s: a script sees only a network error", name)
		}
		patch := b.request(ctx, "patch", preflightRefused)
		assert.Equal(t, "MethodDisallowedByPreflightResponse", patch.CORSError)
		assert.Equal(t, "PATCH", patch.CORSParameter)
		require.NotNil(t, patch.Preflight)
		assert.Equal(t, allowed.URL, patch.Preflight.Header.Get("Access-Control-Allow-Origin"))
		assert.Empty(t, patch.Preflight.Header.Get("Access-Control-Max-Age"), "a refusal is not cached")

		header := b.request(ctx, "x-debug", preflightRefused)
		assert.Equal(t, "HeaderDisallowedByPreflightResponse", header.CORSError)
		assert.Equal(t, "x-debug", header.CORSParameter)

		creds := b.request(ctx, "credentials", refused)
		assert.Equal(t, "InvalidAllowCredentials", creds.CORSError, "the API takes no cookies: credentials: 'include' fails by design")
	})

	t.Run("a foreign origin reads nothing", func(t *testing.T) {
		res := results{t, gotForeign}
		assert.Equal(t, "TypeError", res.get("get"))
		assert.Equal(t, "MissingAllowOriginHeader", b.request(ctx, "foreign-get", refused).CORSError)
		assert.Equal(t, "TypeError", res.get("login"))
		login := b.request(ctx, "foreign-login", preflightRefused)
		assert.Equal(t, "PreflightMissingAllowOriginHeader", login.CORSError, "foreign origins get a bare refusal")
		require.NotNil(t, login.Preflight)
		assert.Equal(t, http.StatusForbidden, login.Preflight.Status)
		assert.Equal(t, "TypeError", res.get("noCors"), "Cross-Origin-Resource-Policy blocks even an opaque read")
		assert.NotEmpty(t, b.request(ctx, "foreign-no-cors", blocked).BlockedReason)
	})
}

// What the browser's record of a request must hold before it is checked.
func answered(r browserRequest) bool         { return r.Preflight != nil && r.Status != 0 }
func refused(r browserRequest) bool          { return r.CORSError != "" }
func preflightRefused(r browserRequest) bool { return r.CORSError != "" && r.Preflight != nil }
func blocked(r browserRequest) bool          { return r.BlockedReason != "" }

// results reads the JSON a page wrote, by dotted paths such as
// "created.0.status".
type results struct {
	t *testing.T
	m map[string]any
}

func (r results) on(t *testing.T) results { return results{t, r.m} }

func (r results) get(path string) any {
	r.t.Helper()
	var v any = r.m
	for _, key := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[key]
		case []any:
			var i int
			if _, err := fmt.Sscan(key, &i); err != nil || i >= len(c) {
				r.t.Errorf("results: no %s", path)
				return nil
			}
			v = c[i]
		default:
			r.t.Errorf("results: no %s", path)
			return nil
		}
	}
	return v
}

func (r results) str(path string) string {
	s, _ := r.get(path).(string)
	return s
}

// TestBrowserCORSPolicy checks the service's CORS answers at the HTTP level,
// where no browser is needed: what TestBrowser shows a browser doing
// follows from these headers.
func TestBrowserCORSPolicy(t *testing.T) {
	const app = "https://app.shop.test"
	s := startServiceForOrigin(t, app, nil)
	preflight := func(origin, method, headers string) response {
		return s.do("OPTIONS", "/v1/products/1", nil, "Origin", origin, "Access-Control-Request-Method", method,
			"Access-Control-Request-Headers", headers)
	}

	r := preflight(app, "PUT", "authorization,content-type,if-match,traceparent,tracestate,baggage,x-request-id")
	assert.Equal(t, http.StatusNoContent, r.StatusCode, "trace context and request ids are allowed")
	r = preflight(app, "GET", "if-none-match,if-modified-since")
	assert.Equal(t, http.StatusNoContent, r.StatusCode, "conditional reads are allowed")
	assert.Equal(t, app, r.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, app, r.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "600", r.Header.Get("Access-Control-Max-Age"))

	r = preflight(app, "PATCH", "content-type")
	assert.Equal(t, http.StatusNoContent, r.StatusCode)
	assert.Equal(t, app, r.Header.Get("Access-Control-Allow-Origin"), "the refusal names the origin, so the browser names the method")
	assert.Equal(t, "GET, POST, PUT, DELETE", r.Header.Get("Access-Control-Allow-Methods"))
	assert.Empty(t, r.Header.Get("Access-Control-Max-Age"))

	r = preflight("https://evil.test", "PUT", "content-type")
	assert.Equal(t, http.StatusForbidden, r.StatusCode)
	assert.Empty(t, r.Header.Get("Access-Control-Allow-Origin"), "a foreign origin learns nothing")

	r = s.do("GET", "/v1/me", nil, "Origin", app)
	assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
	exposed := map[string]bool{}
	for _, h := range strings.Split(r.Header.Get("Access-Control-Expose-Headers"), ",") {
		exposed[strings.ToLower(strings.TrimSpace(h))] = true
	}
	for _, h := range []string{"x-request-id", "www-authenticate", "deprecation", "sunset", "etag", "link", "location", "ratelimit", "ratelimit-policy"} {
		assert.True(t, exposed[h], "%s is exposed", h)
	}
	assert.Empty(t, r.Header.Get("Access-Control-Allow-Credentials"), "bearer tokens only: no credentials")
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{24}$`), r.Header.Get("X-Request-Id"))

	// A deprecated route's announcements reach the page's script.
	r = s.do("GET", "/v0/products", nil, "Origin", app)
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Equal(t, app, r.Header.Get("Access-Control-Allow-Origin"))
	assert.NotEmpty(t, r.Header.Get("Deprecation"))
	assert.NotEmpty(t, r.Header.Get("Sunset"))
	assert.Contains(t, r.Header.Get("Access-Control-Expose-Headers"), "Deprecation")
}
