package observe_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/observe"
)

// bearerAlice authenticates "Bearer alice" as alice; other requests are
// anonymous.
var bearerAlice = auth.AuthenticatorFunc(func(_ context.Context, r *http.Request) (auth.Principal, error) {
	if r.Header.Get("Authorization") != "Bearer alice" {
		return auth.Principal{}, auth.ErrNoCredential
	}
	return auth.Principal{Subject: "alice", Method: auth.MethodToken}, nil
})

// accessLines returns the access-log records ("msg":"request") written so
// far.
func (h *harness) accessLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		if rec["msg"] == "request" {
			out = append(out, rec)
		}
	}
	return out
}

// The route must reach observe whatever sits between it and the router:
// the real auth middleware (which passes on a copy of the request with the
// principal in its context), the standard library's wrappers that copy the
// request too, and a panic on the way out.
func TestRouter_TheRouteAndPrincipalSurviveMiddlewaresThatCopyTheRequest(t *testing.T) {
	authn, err := auth.NewMiddleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{bearerAlice}})
	require.NoError(t, err)
	tests := []struct {
		name  string
		wrap  func(router http.Handler) http.Handler // what sits between observe and the router
		path  string
		route string
	}{
		{"auth", func(h http.Handler) http.Handler { return authn.Handler(h) }, "/v1/orders/7", "GET /v1/orders/{id}"},
		{"auth and a timeout", func(h http.Handler) http.Handler {
			return authn.Handler(http.TimeoutHandler(h, time.Minute, "slow"))
		}, "/v1/orders/7", "GET /v1/orders/{id}"},
		{"auth and a prefix stripped", func(h http.Handler) http.Handler {
			return authn.Handler(http.StripPrefix("/api", h))
		}, "/api/v1/orders/7", "GET /v1/orders/{id}"},
		{"auth and a panic", func(h http.Handler) http.Handler { return authn.Handler(h) }, "/v1/panic", "GET /v1/panic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			mux := http.NewServeMux()
			mux.HandleFunc("GET /v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, "alice", auth.SubjectFrom(r.Context()))
				w.WriteHeader(http.StatusNoContent)
			})
			mux.HandleFunc("GET /v1/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
			srv := h.middlewareWith(t, observe.MiddlewareConfig{
				Principal: func(r *http.Request) string { return auth.SubjectFrom(r.Context()) },
			}, tt.wrap(observe.Router(mux)))

			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			r.Header.Set("Authorization", "Bearer alice")
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			require.Contains(t, []int{http.StatusNoContent, http.StatusInternalServerError}, w.Code)

			spans := h.spans.Ended()
			require.Len(t, spans, 1)
			assert.Equal(t, tt.route, spans[0].Name(), "the span is named by the route")
			assert.Contains(t, spans[0].Attributes(), attribute.String("http.route", tt.route))

			hist := h.metric(t, "http.server.request.duration").Data.(metricdata.Histogram[float64])
			require.Len(t, hist.DataPoints, 1)
			route, ok := hist.DataPoints[0].Attributes.Value("http.route")
			assert.True(t, ok, "the duration carries http.route")
			assert.Equal(t, tt.route, route.AsString())

			lines := h.accessLines(t)
			require.Len(t, lines, 1)
			assert.Equal(t, tt.route, lines[0]["route"])
			assert.Equal(t, "alice", lines[0]["principal"], "the principal auth stored is seen")
			if w.Code == http.StatusInternalServerError {
				assert.Contains(t, h.logs.String(), `"http.route":"`+tt.route+`"`, "the panic record names the route")
			}
		})
	}
}

// Without copies in between, the router's own request carries the route
// and Router changes nothing; without a Middleware around it, Router only
// serves.
func TestRouter_IsTransparent(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/products/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.PathValue("id")))
	})
	for name, wrap := range map[string]func(http.Handler) http.Handler{
		"directly around the mux": func(h http.Handler) http.Handler { return h },
		"with Router":             observe.Router,
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			srv := h.middleware(t, wrap(mux))
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/products/9", nil))
			assert.Equal(t, "9", w.Body.String())
			require.Len(t, h.spans.Ended(), 1)
			assert.Equal(t, "GET /v1/products/{id}", h.spans.Ended()[0].Name())
		})
	}
	t.Run("alone", func(t *testing.T) {
		w := httptest.NewRecorder()
		observe.Router(mux).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/products/3", nil))
		assert.Equal(t, "3", w.Body.String())
	})
}

// With a router inside a router (a sub-mux under a prefix), the innermost
// pattern names the request: it is the one that chose the handler.
func TestRouter_TheInnermostRouterWins(t *testing.T) {
	inner := http.NewServeMux()
	inner.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	outer := http.NewServeMux()
	outer.Handle("/shop/", http.StripPrefix("/shop", observe.Router(inner)))
	h := newHarness(t)
	srv := h.middleware(t, observe.Router(outer))
	srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/shop/orders/1", nil))
	require.Len(t, h.spans.Ended(), 1)
	assert.Equal(t, "GET /orders/{id}", h.spans.Ended()[0].Name())
}
