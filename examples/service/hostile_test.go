package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/examples/service/internal/app"
	"github.com/bedrock-go/bedrock/ratelimit"
)

// jsonBody marshals members into a JSON object; Go escapes a NUL as \u0000,
// exactly as a hostile client would send it.
func jsonBody(t *testing.T, members map[string]any) string {
	t.Helper()
	data, err := json.Marshal(members)
	require.NoError(t, err)
	return string(data)
}

// TestLoginHostilePasswords sends passwords built to break hashing (NFKC
// expansion past the 1024-byte cap, NUL bytes, bidi controls, the byte
// limit and one past it) to an account that exists and to one that does
// not. A failed login is a 401, never a 500, and the two answers are the
// same, so that they do not tell which emails have accounts.
func TestLoginHostilePasswords(t *testing.T) {
	s := startServiceWith(t, func(o *app.Options) {
		o.LoginPerEmailClient, o.LoginPerEmail = ratelimit.PerMinute(1000), ratelimit.PerMinute(1000)
	})
	s.signup("known@shop.test", "Known")

	for _, tt := range []struct {
		name     string
		password string
		status   int
	}{
		// U+FDFA is 3 bytes and becomes 33 under NFKC: 341 of them are
		// 1023 bytes, 11 KB once normalised.
		{"NFKC expansion past the cap", strings.Repeat("\ufdfa", 341), http.StatusUnauthorized},
		{"NFKC expansion just past the cap", strings.Repeat("\ufdfa", 32), http.StatusUnauthorized},
		{"1024 bytes", strings.Repeat("a", 1024), http.StatusUnauthorized},
		{"1025 bytes", strings.Repeat("a", 1025), http.StatusUnauthorized},
		{"4000 bytes", strings.Repeat("é", 2000), http.StatusUnauthorized},
		{"NUL bytes", "correct\x00horse\x00battery", http.StatusUnauthorized},
		{"only NUL", "\x00", http.StatusUnauthorized},
		{"bidi override", "\u202ecorrect horse battery", http.StatusUnauthorized},
		{"the right password with a NUL", "correct horse battery\x00", http.StatusUnauthorized},
		{"empty", "", http.StatusUnprocessableEntity},
	} {
		t.Run(tt.name, func(t *testing.T) {
			known := s.do("POST", "/v1/auth/login", jsonBody(t, map[string]any{"email": "known@shop.test", "password": tt.password}))
			unknown := s.do("POST", "/v1/auth/login", jsonBody(t, map[string]any{"email": "unknown@shop.test", "password": tt.password}))
			assert.Equal(t, tt.status, known.StatusCode, "%s", known.body)
			assert.Equal(t, tt.status, unknown.StatusCode, "%s", unknown.body)
			assert.Equal(t, string(known.body), string(unknown.body))
		})
	}
	// A lone surrogate is not text: the strict decoder refuses the body
	// before any account is looked at.
	for _, email := range []string{"known@shop.test", "unknown@shop.test"} {
		r := s.do("POST", "/v1/auth/login", `{"email":"`+email+`","password":"\ud800 correct horse"}`)
		assert.Equal(t, http.StatusBadRequest, r.StatusCode, "%s", r.body)
	}
	assert.NotContains(t, s.logs.String(), "level=ERROR")
}

// TestTextPostgreSQLRefuses sends, to every endpoint whose strings reach
// PostgreSQL, text that PostgreSQL refuses to store or compare: a NUL
// character (JSON's \u0000, %00 in a path) or bytes that are not UTF-8. Each
// is a client's mistake, answered with a 4xx that says so (a 401 for
// credentials), never a 500 and never an error in the log.
func TestTextPostgreSQLRefuses(t *testing.T) {
	s := startService(t)
	s.signup(adminEmail, "Admin")
	s.grant(adminEmail, "admin")
	s.signup("alice@shop.test", "Alice")
	admin := s.login(adminEmail)
	alice := s.login("alice@shop.test")
	product := s.createProduct(admin.Access, "cup", 100, 5)
	productPath := fmt.Sprintf("/v1/products/%v", product["id"])
	nul := "\x00"

	for _, tt := range []struct {
		name     string
		method   string
		path     string
		body     any
		headers  []string
		status   int
		pointers []string // the violations of a 422
	}{
		{"login email with NUL", "POST", "/v1/auth/login", map[string]any{"email": "alice@shop.test" + nul, "password": "correct horse battery"}, nil, http.StatusUnauthorized, nil},
		{"login email that is NUL", "POST", "/v1/auth/login", map[string]any{"email": nul, "password": "correct horse battery"}, nil, http.StatusUnauthorized, nil},
		{"login email with a control character", "POST", "/v1/auth/login", map[string]any{"email": "alice@shop.test\n", "password": "correct horse battery"}, nil, http.StatusUnauthorized, nil},
		{"signup email with NUL", "POST", "/v1/auth/signup", map[string]any{"email": "eve" + nul + "@shop.test", "password": "correct horse battery", "name": "Eve"}, nil, http.StatusUnprocessableEntity, []string{"/email invalid_email"}},
		{"signup name with NUL", "POST", "/v1/auth/signup", map[string]any{"email": "eve@shop.test", "password": "correct horse battery", "name": "E" + nul}, nil, http.StatusUnprocessableEntity, []string{"/name control_character"}},
		{"refresh token with NUL", "POST", "/v1/auth/refresh", map[string]any{"refresh_token": alice.Refresh + nul}, nil, http.StatusUnauthorized, nil},
		{"product name with NUL", "POST", "/v1/products", map[string]any{"name": "a" + nul, "price_cents": 1, "stock": 1}, bearer(admin.Access), http.StatusUnprocessableEntity, []string{"/name control_character"}},
		{"product description with NUL", "POST", "/v1/products", map[string]any{"name": "a", "description": "x" + nul + "y", "price_cents": 1, "stock": 1}, bearer(admin.Access), http.StatusUnprocessableEntity, []string{"/description control_character"}},
		{"product update description with NUL", "PUT", productPath, map[string]any{"name": "cup", "description": nul, "price_cents": 1, "stock": 1}, append(bearer(admin.Access), "If-Match", `"v1"`), http.StatusUnprocessableEntity, []string{"/description control_character"}},
		{"api key name with NUL", "POST", "/v1/apikeys", map[string]any{"name": "k" + nul, "scopes": []string{"orders:read"}}, bearer(alice.Access), http.StatusUnprocessableEntity, []string{"/name control_character"}},
		{"api key scope with NUL", "POST", "/v1/apikeys", map[string]any{"name": "k", "scopes": []string{"orders:read" + nul}}, bearer(alice.Access), http.StatusUnprocessableEntity, []string{"/scopes/0 not_allowed"}},
		{"fault mode with NUL", "POST", "/v1/admin/faults", map[string]any{"mode": "none" + nul}, bearer(admin.Access), http.StatusUnprocessableEntity, []string{"/mode not_allowed"}},
		{"api key id NUL", "DELETE", "/v1/apikeys/%00", nil, bearer(alice.Access), http.StatusNotFound, nil},
		{"api key id not UTF-8", "DELETE", "/v1/apikeys/%FF%FE", nil, bearer(alice.Access), http.StatusNotFound, nil},
		{"product id NUL", "GET", "/v1/products/%00", nil, nil, http.StatusNotFound, nil},
		{"order id NUL", "GET", "/v1/orders/%00", nil, bearer(alice.Access), http.StatusNotFound, nil},
		{"sort NUL", "GET", "/v1/products?sort=%00", nil, nil, http.StatusBadRequest, nil},
		{"sort not UTF-8", "GET", "/v1/products?sort=%FF", nil, nil, http.StatusBadRequest, nil},
		{"cursor NUL", "GET", "/v1/products?cursor=%00", nil, nil, http.StatusBadRequest, nil},
		{"api key not UTF-8", "GET", "/v1/me", nil, []string{"X-API-Key", "shop_\xff\xfe_secret"}, http.StatusUnauthorized, nil},
		{"bearer not UTF-8", "GET", "/v1/me", nil, bearer("\xff.\xfe.\xfd"), http.StatusUnauthorized, nil},
		{"body not UTF-8", "POST", "/v1/auth/login", "{\"email\":\"alice@shop.test\xff\",\"password\":\"correct horse battery\"}", nil, http.StatusBadRequest, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if m, ok := body.(map[string]any); ok {
				body = jsonBody(t, m)
			}
			r := s.do(tt.method, tt.path, body, tt.headers...)
			require.Equal(t, tt.status, r.StatusCode, "%s", r.body)
			if tt.pointers != nil {
				assert.Equal(t, tt.pointers, pointers(t, r))
			}
		})
	}
	assert.NotContains(t, s.logs.String(), "level=ERROR")
	// Nothing was stored: the product is as created.
	r := s.do("GET", productPath, nil)
	assert.Equal(t, "d", r.json(t)["description"])
}

// loginFrom attempts a login as the client at ip (behind the trusted
// proxy) and returns the status.
func (s *service) loginFrom(ip, email, password string) int {
	s.t.Helper()
	return s.do("POST", "/v1/auth/login", map[string]string{"email": email, "password": password}, "X-Forwarded-For", ip).StatusCode
}

// TestLoginLimitsCannotLockOutTheOwner: guessing the password of an account
// from one client must not lock its owner out on another, and no body can
// carry an attempt at an email without counting against that email.
func TestLoginLimitsCannotLockOutTheOwner(t *testing.T) {
	s := startService(t)
	s.signup("victim@shop.test", "Victim")
	const attacker, owner = "203.0.113.7", "198.51.100.9"

	var codes []int
	for range 11 {
		codes = append(codes, s.loginFrom(attacker, "victim@shop.test", "guess guess"))
	}
	assert.Equal(t, []int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429}, codes)
	assert.Equal(t, http.StatusTooManyRequests, s.loginFrom(attacker, "Victim@shop.test", "correct horse battery"),
		"the limit holds for the right password too, whatever the email's case")
	assert.Equal(t, http.StatusOK, s.loginFrom(owner, "victim@shop.test", "correct horse battery"),
		"the owner, on another client, is not locked out")

	// A body past the bound the handler decodes with is refused whole: it
	// cannot carry an attempt that counts under some other key.
	padded := `{"email":"victim@shop.test","password":"correct horse battery"}` + strings.Repeat(" ", 9<<10)
	r := s.do("POST", "/v1/auth/login", padded, "X-Forwarded-For", attacker)
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode, "%s", r.body)
	r = s.do("POST", "/v1/auth/login", padded, "X-Forwarded-For", "192.0.2.55")
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode, "%s", r.body)

	// Within the bound, padding changes nothing: every attempt at the
	// email counts against it.
	s.signup("second@shop.test", "Second")
	codes = codes[:0]
	for i := range 11 {
		body := `{"email":"second@shop.test","password":"guess guess"}` + strings.Repeat(" ", i*700)
		codes = append(codes, s.do("POST", "/v1/auth/login", body, "X-Forwarded-For", attacker).StatusCode)
	}
	assert.Equal(t, []int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429}, codes)
}

// TestLoginCeilingPerEmail: past the per-client limits, attempts at one
// email from many clients meet a slower ceiling of their own.
func TestLoginCeilingPerEmail(t *testing.T) {
	s := startServiceWith(t, func(o *app.Options) { o.LoginPerEmail = ratelimit.Limit{Rate: 15, Period: time.Hour} })
	s.signup("popular@shop.test", "Popular")
	for i := range 15 {
		ip := fmt.Sprintf("203.0.113.%d", 1+i/5) // three clients, five guesses each
		require.Equal(t, http.StatusUnauthorized, s.loginFrom(ip, "popular@shop.test", "guess guess"), "attempt %d", i)
	}
	assert.Equal(t, http.StatusTooManyRequests, s.loginFrom("198.51.100.1", "popular@shop.test", "correct horse battery"))
	assert.Equal(t, http.StatusUnauthorized, s.loginFrom("198.51.100.1", "other@shop.test", "guess guess"), "other emails are unaffected")
}
