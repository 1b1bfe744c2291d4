package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/authz"
	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/observe"
	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/validate"
)

// Every problem document Bedrock writes, produced the way a client meets it,
// and held to RFC 9457: the media type, the members and their JSON types,
// status equal to the response's, with type about:blank a title that is
// RFC 9110's phrase for the status (§4.2.1), a detail written for a client
// and never a Go error string, and none of the handler's representation
// headers on a problem written after the handler set them.

// rfc9110Phrases are the reason phrases of RFC 9110 §15 (and RFC 6585 for
// 428, 429, 431, 511). Go's http.StatusText still says "Request Entity Too
// Large" and "Unprocessable Entity", the names RFC 9110 replaced.
var rfc9110Phrases = map[int]string{
	400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
	405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
	409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed", 413: "Content Too Large",
	414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable", 417: "Expectation Failed",
	421: "Misdirected Request", 422: "Unprocessable Content", 426: "Upgrade Required", 428: "Precondition Required",
	429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
	501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
	505: "HTTP Version Not Supported", 511: "Network Authentication Required",
}

// goErrorText matches what leaks from Go errors: a package prefix
// ("idempotency: ..."), fmt's verb errors, runtime and network internals.
// clientSentence is what every detail looks like: Bedrock writes sentences
// for people, where Go error strings are lower-case fragments.
var clientSentence = regexp.MustCompile(`^[A-Z"].*[.?]$`)

var goErrorText = regexp.MustCompile(`^[a-z][a-z0-9]*(/[a-z0-9]+)*: |%!|runtime error|goroutine |panic|dial tcp|127\.0\.0\.1|context deadline exceeded|connection refused`)

// handlerHeaders are what a handler may set on its own answer and what must
// not survive onto a problem written in its place: they describe a
// representation that was never sent.
var handlerHeaders = map[string]string{
	"Content-Encoding": "gzip",
	"Etag":             `"v1"`,
	"Last-Modified":    "Wed, 21 Oct 2015 07:28:00 GMT",
	"Location":         "/things/1",
	"Set-Cookie":       "session=secret",
}

func setHandlerHeaders(w http.ResponseWriter) {
	for k, v := range handlerHeaders {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Length", "1234")
}

// checkProblem holds one response to RFC 9457.
func checkProblem(t *testing.T, rec *httptest.ResponseRecorder, wantStatus int, afterHandler bool) {
	t.Helper()
	require.Equal(t, wantStatus, rec.Code, "status; body %s", rec.Body)
	mt, _, err := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "application/problem+json", mt, "RFC 9457 §3: the media type")

	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	require.NoError(t, dec.Decode(&doc), "a JSON object: %s", rec.Body)
	_, err = dec.Token()
	assert.ErrorIs(t, err, io.EOF, "nothing after the object")

	typ := "about:blank" // §3.1.1: absent means about:blank
	if v, ok := doc["type"]; ok {
		s, isString := v.(string)
		require.True(t, isString, "type is a string")
		typ = s
	}
	if v, ok := doc["status"]; ok {
		n, isNumber := v.(float64)
		require.True(t, isNumber, "status is a number")
		assert.Equal(t, float64(rec.Code), n, "status equals the response's (§3.1.2)")
	}
	title, hasTitle := doc["title"]
	if hasTitle {
		_, isString := title.(string)
		assert.True(t, isString, "title is a string")
	}
	if typ == "about:blank" {
		assert.Equal(t, rfc9110Phrases[rec.Code], title, "with type about:blank the title is the status phrase (§4.2.1, RFC 9110 §15)")
	}
	for _, m := range []string{"detail", "instance"} {
		if v, ok := doc[m]; ok {
			_, isString := v.(string)
			assert.True(t, isString, "%s is a string", m)
		}
	}
	if d, ok := doc["detail"].(string); ok {
		assert.NotRegexp(t, goErrorText, d, "detail is written for a client, not a Go error string")
		assert.Regexp(t, clientSentence, d, "detail is a sentence for a client (a capital letter first, a full stop last), not an error string")
	}
	if n, err := strconv.Atoi(rec.Header().Get("Content-Length")); err == nil {
		assert.Equal(t, rec.Body.Len(), n, "Content-Length matches the problem document")
	}
	if afterHandler {
		for k := range handlerHeaders {
			assert.Empty(t, rec.Header().Values(k), "the handler's %s must not reach a problem written in its place (item 21.8)", k)
		}
	}
}

type problemCase struct {
	name         string
	status       int
	afterHandler bool // the handler had set headers before the problem was written
	do           func(t *testing.T) *httptest.ResponseRecorder
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

type signup struct {
	Email string `json:"email"`
}

func (s *signup) Validate(v *validate.Validator) { v.String("email", s.Email).Required().Email() }

func validateCases() []problemCase {
	var c validate.Checker
	h := c.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		var s signup
		if err := c.DecodeJSON(r, &s); err != nil {
			return err
		}
		if err := c.Check(&s); err != nil {
			return err
		}
		if s.Email == "boom@example.com" {
			return errors.New("db: dial tcp 10.0.0.7:5432: connection refused")
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	post := func(ct, body string) *http.Request {
		r := httptest.NewRequest("POST", "/signup", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		return r
	}
	return []problemCase{
		{"validate/422 broken rule (item 21.8: title)", 422, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(h, post("application/json", `{"email":"not an address"}`))
		}},
		{"validate/400 malformed JSON (item 21.8: title)", 400, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(h, post("application/json", `{"email":`))
		}},
		{"validate/415 wrong media type (item 21.8: title)", 415, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(h, post("text/plain", `{}`))
		}},
		{"validate/413 body too large (item 21.8: title)", 413, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(h, post("application/json", `{"email":"`+strings.Repeat("a", 2<<20)+`"}`))
		}},
		{"validate/500 an internal error", 500, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(h, post("application/json", `{"email":"boom@example.com"}`))
		}},
	}
}

// failingIdemStore fails every Begin with an internal error.
type failingIdemStore struct{}

func (failingIdemStore) Begin(context.Context, string, idempotency.Fingerprint, time.Duration) (idempotency.Lookup, error) {
	return idempotency.Lookup{}, errors.New("redis: dial tcp 127.0.0.1:6379: connection refused")
}
func (failingIdemStore) Complete(context.Context, string, string, *idempotency.Response, time.Duration) error {
	return nil
}
func (failingIdemStore) Release(context.Context, string, string) error { return nil }

func idempotencyCases(t *testing.T) []problemCase {
	mw := func(store idempotency.Store, h http.Handler) http.Handler {
		m, err := idempotency.NewMiddleware(store, idempotency.Config{Required: true, MaxResponseBytes: 8})
		require.NoError(t, err)
		return m.Handler(h)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "a response longer than 8 bytes")
	})
	post := func(key, body string) *http.Request {
		r := httptest.NewRequest("POST", "/orders", strings.NewReader(body))
		if key != "" {
			r.Header.Add("Idempotency-Key", key)
		}
		return r
	}
	return []problemCase{
		{"idempotency/400 missing key", 400, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(mw(idempotency.NewMemoryStore(nil), ok), post("", "{}"))
		}},
		{"idempotency/400 key twice (item 21.8: detail)", 400, false, func(*testing.T) *httptest.ResponseRecorder {
			r := post("k1", "{}")
			r.Header.Add("Idempotency-Key", "k2")
			return serve(mw(idempotency.NewMemoryStore(nil), ok), r)
		}},
		{"idempotency/422 same key, other body", 422, false, func(t *testing.T) *httptest.ResponseRecorder {
			h := mw(idempotency.NewMemoryStore(nil), ok)
			require.Equal(t, 200, serve(h, post("k1", `{"a":1}`)).Code)
			return serve(h, post("k1", `{"a":2}`))
		}},
		{"idempotency/410 response too large to store", 410, false, func(t *testing.T) *httptest.ResponseRecorder {
			h := mw(idempotency.NewMemoryStore(nil), ok)
			require.Equal(t, 200, serve(h, post("k1", `{}`)).Code)
			return serve(h, post("k1", `{}`))
		}},
		{"idempotency/409 first request still running", 409, false, func(t *testing.T) *httptest.ResponseRecorder {
			entered, release := make(chan struct{}), make(chan struct{})
			h := mw(idempotency.NewMemoryStore(nil), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				close(entered)
				<-release
			}))
			var wg sync.WaitGroup
			wg.Go(func() { serve(h, post("k1", `{}`)) })
			<-entered
			rec := serve(h, post("k1", `{}`))
			close(release)
			wg.Wait()
			return rec
		}},
		{"idempotency/503 store down", 503, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(mw(failingIdemStore{}, ok), post("k1", `{}`))
		}},
	}
}

type failingRLStore struct{}

func (failingRLStore) Do(context.Context, ratelimit.Request) (ratelimit.Result, error) {
	return ratelimit.Result{}, errors.New("redis: dial tcp 127.0.0.1:6379: connection refused")
}

func ratelimitCases(t *testing.T) []problemCase {
	mw := func(store ratelimit.Store) http.Handler {
		lim, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerMinute(1)}, Store: store})
		require.NoError(t, err)
		m, err := ratelimit.NewMiddleware(lim, ratelimit.MiddlewareConfig{Key: ratelimit.KeyByHeader("X-Client")})
		require.NoError(t, err)
		return m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	}
	get := func(client string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		if client != "" {
			r.Header.Set("X-Client", client)
		}
		return r
	}
	return []problemCase{
		{"ratelimit/429 limited", 429, false, func(t *testing.T) *httptest.ResponseRecorder {
			h := mw(nil)
			require.Equal(t, 200, serve(h, get("c1")).Code)
			return serve(h, get("c1"))
		}},
		{"ratelimit/400 no client key", 400, false, func(*testing.T) *httptest.ResponseRecorder { return serve(mw(nil), get("")) }},
		{"ratelimit/400 key too long", 400, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(mw(nil), get(strings.Repeat("k", ratelimit.MaxKeyLen+1)))
		}},
		{"ratelimit/503 store down", 503, false, func(*testing.T) *httptest.ResponseRecorder { return serve(mw(failingRLStore{}), get("c1")) }},
	}
}

func httpsecCases(t *testing.T) []problemCase {
	cors, err := httpsec.NewCORS(httpsec.CORSConfig{AllowedOrigins: []string{"https://app.example"}})
	require.NoError(t, err)
	co, err := httpsec.NewCrossOrigin(httpsec.CrossOriginConfig{})
	require.NoError(t, err)
	bl, err := httpsec.NewBodyLimit(httpsec.BodyLimitConfig{MaxBytes: 16})
	require.NoError(t, err)
	hc, err := httpsec.NewHostCheck(httpsec.HostCheckConfig{AllowedHosts: []string{"api.example"}})
	require.NoError(t, err)
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	readingHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setHandlerHeaders(w)
		_, _ = io.ReadAll(r.Body)
	})
	preflight := func(method string) *http.Request {
		r := httptest.NewRequest("OPTIONS", "/", nil)
		r.Header.Set("Origin", "https://app.example")
		r.Header.Set("Access-Control-Request-Method", method)
		return r
	}
	return []problemCase{
		{"httpsec/403 preflight from another origin", 403, false, func(*testing.T) *httptest.ResponseRecorder {
			r := preflight("GET")
			r.Header.Set("Origin", "https://evil.example")
			return serve(cors.Handler(noop), r)
		}},
		// A preflight from an allowed origin for a method outside the list
		// is answered 204 with the allowed lists, so that the browser names
		// the refused method itself; a malformed one is refused with a
		// problem.
		{"httpsec/403 preflight with a malformed method", 403, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(cors.Handler(noop), preflight("DE LETE"))
		}},
		{"httpsec/403 cross-origin POST", 403, false, func(*testing.T) *httptest.ResponseRecorder {
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return serve(co.Handler(noop), r)
		}},
		{"httpsec/413 announced too large (item 21.8: title)", 413, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(bl.Handler(noop), httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 64))))
		}},
		{"httpsec/413 mid-read, after the handler set headers (item 21.8)", 413, true, func(*testing.T) *httptest.ResponseRecorder {
			r := httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader(strings.Repeat("x", 64))))
			r.ContentLength = -1
			return serve(bl.Handler(readingHandler), r)
		}},
		{"httpsec/421 unknown host", 421, false, func(*testing.T) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", "http://other.example/", nil)
			return serve(hc.Handler(noop), r)
		}},
	}
}

func authCases(t *testing.T) []problemCase {
	refuse := auth.AuthenticatorFunc(func(_ context.Context, r *http.Request) (auth.Principal, error) {
		if _, ok := auth.BearerToken(r); !ok {
			return auth.Principal{}, auth.ErrNoCredential
		}
		return auth.Principal{}, fmt.Errorf("token: expired at 12:00 for kid k1: %w", auth.ErrInvalidCredential)
	})
	mw, err := auth.NewMiddleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{refuse}, Required: true})
	require.NoError(t, err)
	h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	policy, err := authz.NewPolicy(authz.PolicyConfig{Roles: []authz.Role{{Name: "admin", Permissions: []string{"products:write"}}}})
	require.NoError(t, err)
	q, err := authz.NewRequirement(authz.New(policy), "products:write", authz.RequirementConfig{})
	require.NoError(t, err)
	guarded := q.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	return []problemCase{
		{"auth/401 no credential", 401, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(h, httptest.NewRequest("GET", "/", nil))
		}},
		{"auth/401 refused credential", 401, false, func(*testing.T) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer abc")
			return serve(h, r)
		}},
		{"auth/401 route needs a principal", 401, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(auth.RequireAuthenticated(h), httptest.NewRequest("GET", "/", nil))
		}},
		{"authz/401 anonymous", 401, false, func(*testing.T) *httptest.ResponseRecorder {
			return serve(guarded, httptest.NewRequest("POST", "/products", nil))
		}},
		{"authz/403 missing permission", 403, false, func(*testing.T) *httptest.ResponseRecorder {
			r := httptest.NewRequest("POST", "/products", nil)
			r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Subject: "u1", Roles: []string{"customer"}}))
			return serve(guarded, r)
		}},
	}
}

func observeCases(t *testing.T) []problemCase {
	mw, err := observe.NewMiddleware(observe.MiddlewareConfig{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	panicking := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		setHandlerHeaders(w)
		panic("runtime error: index out of range [3] with length 2")
	}))
	health := observe.NewHealth(observe.HealthConfig{})
	health.Register("postgres", func(context.Context) error {
		return errors.New("dial tcp 10.0.0.7:5432: connection refused")
	}, observe.CheckOptions{})
	return []problemCase{
		{"observe/500 panic after the handler set headers (item 21.8)", 500, true, func(*testing.T) *httptest.ResponseRecorder {
			return serve(panicking, httptest.NewRequest("GET", "/", nil))
		}},
		{"observe/503 readyz with a failing check (item 21.8)", 503, false, func(t *testing.T) *httptest.ResponseRecorder {
			rec := serve(health.Readyz(), httptest.NewRequest("GET", "/readyz", nil))
			assert.NotContains(t, rec.Body.String(), "10.0.0.7", "a raw check error shows an internal address (item 21.8)")
			return rec
		}},
	}
}

// TestProblem_RFC9457 produces every problem document and checks it.
func TestProblem_RFC9457(t *testing.T) {
	var cases []problemCase
	cases = append(cases, validateCases()...)
	cases = append(cases, idempotencyCases(t)...)
	cases = append(cases, ratelimitCases(t)...)
	cases = append(cases, httpsecCases(t)...)
	cases = append(cases, authCases(t)...)
	cases = append(cases, observeCases(t)...)
	cases = append(cases, httpapiCases(t)...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkProblem(t, c.do(t), c.status, c.afterHandler)
		})
	}
}
