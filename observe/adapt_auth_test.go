package observe_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/apikey"
	"github.com/bedrock-go/bedrock/auth/authz"
	"github.com/bedrock-go/bedrock/auth/session"
	"github.com/bedrock-go/bedrock/auth/token"
	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/observe"
)

func TestAuthFailureHook_ClassifiesBySentinel(t *testing.T) {
	tests := []struct {
		err    error
		reason string
	}{
		{token.ErrTokenExpired, "token_expired"},
		{token.ErrTokenSignature, "token_signature"},
		{token.ErrTokenAlgorithm, "token_algorithm"}, // before token_malformed, which it wraps
		{token.ErrTokenMalformed, "token_malformed"},
		{token.ErrUnknownKey, "token_unknown_key"},
		{apikey.ErrRevoked, "apikey_revoked"},
		{apikey.ErrMismatch, "apikey_mismatch"},
		{session.ErrTokenReused, "session_reused"},
		{fmt.Errorf("%w: custom scheme", auth.ErrInvalidCredential), "invalid_credential"},
		{fmt.Errorf("key store: %w", context.DeadlineExceeded), "deadline_exceeded"},
		{fmt.Errorf("key store: connection refused"), "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			m := newMeterRecorder(t)
			onFailure, err := observe.AuthFailureHook(m.mp)
			require.NoError(t, err)
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			mw, err := auth.NewMiddleware(auth.MiddlewareConfig{
				Authenticators: []auth.Authenticator{auth.AuthenticatorFunc(
					func(context.Context, *http.Request) (auth.Principal, error) {
						// Wrapped with request detail, as authenticators do.
						return auth.Principal{}, fmt.Errorf("credential 7f3a: %w", tt.err)
					})},
				Hooks: auth.Hooks{OnFailure: onFailure},
			})
			require.NoError(t, err)
			ctx, span := tp.Tracer("test").Start(context.Background(), "GET /orders")
			r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/orders", nil)
			w := httptest.NewRecorder()
			mw.Handler(http.NotFoundHandler()).ServeHTTP(w, r)
			span.End()
			require.Contains(t, []int{http.StatusUnauthorized, http.StatusServiceUnavailable}, w.Code)

			assert.Equal(t, map[string]int64{"bedrock.auth.reason=" + tt.reason: 1},
				m.counter(t, "bedrock.auth.failures", "{failure}"))
			events := spans.Ended()[0].Events()
			require.Len(t, events, 1)
			assert.Equal(t, "bedrock.auth.failure", events[0].Name)
			assert.Equal(t, tt.reason, events[0].Attributes[0].Value.AsString())
		})
	}
}

func TestAuthzDenyHook_CountsDenialsByReasonClass(t *testing.T) {
	m := newMeterRecorder(t)
	policy, err := authz.NewPolicy(authz.PolicyConfig{
		Roles: []authz.Role{{Name: "editor", Permissions: []string{"products:write"}}},
		Rules: []authz.Rule{{Name: "suspended", Effect: authz.Deny, Actions: []string{"*"},
			When: func(r *authz.Request) bool { return r.Subject.Subject == "mallory" }}},
	})
	require.NoError(t, err)
	az := authz.New(policy)
	onDeny, err := observe.AuthzDenyHook(m.mp, "products:write")
	require.NoError(t, err)
	q, err := authz.NewRequirement(az, "products:write", authz.RequirementConfig{Hooks: authz.Hooks{OnDeny: onDeny}})
	require.NoError(t, err)
	h := q.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	for _, tt := range []struct {
		subject string
		roles   []string
		code    int
	}{
		{"", nil, http.StatusUnauthorized},
		{"bob", nil, http.StatusForbidden},
		{"carol", []string{"viewer"}, http.StatusForbidden},
		{"mallory", []string{"editor"}, http.StatusForbidden},
		{"alice", []string{"editor"}, http.StatusNoContent},
	} {
		r := httptest.NewRequest(http.MethodPost, "/products", nil)
		r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Subject: tt.subject, Roles: tt.roles}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, tt.code, w.Code, tt.subject)
	}
	assert.Equal(t, map[string]int64{
		"bedrock.authz.permission=products:write,bedrock.authz.reason=anonymous":    1,
		"bedrock.authz.permission=products:write,bedrock.authz.reason=default_deny": 2,
		"bedrock.authz.permission=products:write,bedrock.authz.reason=deny_rule":    1,
	}, m.counter(t, "bedrock.authz.denials", "{denial}"))
}

func TestHTTPSecHooks_CountRejectionsByReason(t *testing.T) {
	m := newMeterRecorder(t)
	hooks, err := observe.HTTPSecHooks(m.mp)
	require.NoError(t, err)
	hosts, err := httpsec.NewHostCheck(httpsec.HostCheckConfig{AllowedHosts: []string{"api.example.com"}, Hooks: hooks})
	require.NoError(t, err)
	limit, err := httpsec.NewBodyLimit(httpsec.BodyLimitConfig{MaxBytes: 8, Hooks: hooks})
	require.NoError(t, err)
	xo, err := httpsec.NewCrossOrigin(httpsec.CrossOriginConfig{Hooks: hooks})
	require.NoError(t, err)
	h := hosts.Handler(xo.Handler(limit.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Body.Read(make([]byte, 64)); err != nil && !strings.Contains(err.Error(), "EOF") {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		}
	}))))
	send := func(host, body string, hdr ...string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Host = host
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	send("evil.example", "")
	send("attacker-123.example", "")
	send("api.example.com", "", "Sec-Fetch-Site", "cross-site")
	send("api.example.com", strings.Repeat("x", 100))
	send("api.example.com", "ok")

	assert.Equal(t, map[string]int64{
		"bedrock.httpsec.reason=host_not_allowed":     2,
		"bedrock.httpsec.reason=cross_origin_request": 1,
		"bedrock.httpsec.reason=body_too_large":       1,
	}, m.counter(t, "bedrock.httpsec.rejections", "{request}"))
}

func BenchmarkAuthFailureHook(b *testing.B) {
	onFailure, err := observe.AuthFailureHook(newMeterRecorder(b).mp)
	require.NoError(b, err)
	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	failure := fmt.Errorf("credential: %w", token.ErrTokenExpired)
	b.ReportAllocs()
	for b.Loop() {
		onFailure(r, failure)
	}
}
