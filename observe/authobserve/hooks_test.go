package authobserve_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/authobserve"
)

func TestFailureHook_ClassifiesBySentinel(t *testing.T) {
	tests := []struct {
		err    error
		reason string
	}{
		{token.ErrExpired, "token_expired"},
		{token.ErrSignature, "token_signature"},
		{token.ErrAlgorithm, "token_algorithm"}, // before token_malformed, which it wraps
		{token.ErrMalformed, "token_malformed"},
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
			m := otelhooktest.NewRecorder(t, "authobserve")
			onFailure, err := authobserve.FailureHook(m.MP)
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
				m.Counter(t, "bedrock.auth.failures", "{failure}"))
			events := spans.Ended()[0].Events()
			require.Len(t, events, 1)
			assert.Equal(t, "bedrock.auth.failure", events[0].Name)
			assert.Equal(t, tt.reason, events[0].Attributes[0].Value.AsString())
		})
	}
}

func TestDenyHook_CountsDenialsByReasonClass(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "authobserve")
	policy, err := authz.NewPolicy(authz.PolicyConfig{
		Roles: []authz.Role{{Name: "editor", Permissions: []string{"products:write"}}},
		Rules: []authz.Rule{{Name: "suspended", Effect: authz.Deny, Actions: []string{"*"},
			When: func(r *authz.Request) bool { return r.Subject.Subject == "mallory" }}},
	})
	require.NoError(t, err)
	az := authz.New(policy)
	onDeny, err := authobserve.DenyHook(m.MP, "products:write")
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
	}, m.Counter(t, "bedrock.authz.denials", "{denial}"))
}

func BenchmarkFailureHook(b *testing.B) {
	onFailure, err := authobserve.FailureHook(otelhooktest.NewRecorder(b, "authobserve").MP)
	require.NoError(b, err)
	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	failure := fmt.Errorf("credential: %w", token.ErrExpired)
	b.ReportAllocs()
	for b.Loop() {
		onFailure(r, failure)
	}
}
