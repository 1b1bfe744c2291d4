// Package api is the service's HTTP layer: routes, handlers and the
// middleware stack that wraps them.
package api

import (
	"context"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/apikey"
	"github.com/bedrock-go/bedrock/auth/authz"
	"github.com/bedrock-go/bedrock/auth/password"
	"github.com/bedrock-go/bedrock/auth/session"
	"github.com/bedrock-go/bedrock/auth/token"
	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/internal/problem"
	"github.com/bedrock-go/bedrock/observe"
	"github.com/bedrock-go/bedrock/pagination"
	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/validate"

	"github.com/bedrock-go/bedrock/examples/service/internal/payment"
	"github.com/bedrock-go/bedrock/examples/service/internal/store"
)

// Permissions checked by the routes.
const (
	PermProductsWrite = "products:write"
	PermOrdersRead    = "orders:read"
	PermOrdersWrite   = "orders:write"
	PermAPIKeysManage = "apikeys:manage"
	PermAdminFaults   = "admin:faults"
)

// Roles a user can have. An account has one: customer, which every
// signup gets, or admin, which includes everything a customer may do and
// only the operator grants (the service's grant-role command).
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
)

// IsRole reports whether name is one of the roles above.
func IsRole(name string) bool { return name == RoleCustomer || name == RoleAdmin }

// HasRole reports whether an account whose role is have holds role: its
// own, or customer, which admin includes.
func HasRole(have, role string) bool { return have == role || role == RoleCustomer && IsRole(have) }

// Deps are what the handlers need. Every field is required unless noted.
type Deps struct {
	Log         *slog.Logger
	Users       *store.Users
	APIKeyStore *store.APIKeys
	Products    *store.Products
	Orders      *store.Orders
	// ProductCache serves GET /v1/products/{id}; every write to a product
	// deletes its entry.
	ProductCache *cache.Cache[int64, store.Product]
	// Payments charges orders; Faults, optional, is the in-process fake
	// payment service whose faults POST /v1/admin/faults switches.
	Payments *payment.Client
	Faults   *payment.Fake

	// Hasher verifies passwords at login and hashes those of new accounts,
	// which hold at most their share of its slots.
	Hasher   *password.Hasher
	Policy   password.Policy
	Issuer   *token.Issuer
	Verifier *token.Verifier
	KeyRing  *token.KeyRing
	TokenTTL time.Duration
	Sessions *session.RefreshTokens
	APIKeys  *apikey.Keys

	Checker       *validate.Checker
	ProductPager  *pagination.Pager
	OrderPager    *pagination.Pager
	IdemStore     idempotency.Store
	CORSOrigins   []string // optional
	Ready         func(ctx context.Context) error
	MaxBodyBytes  int64 // optional; 1 MiB when zero
	AccessLogging bool  // optional
	// Telemetry, optional, traces and measures every request (the global
	// OpenTelemetry providers when nil) and serves /metrics.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Metrics        http.Handler
	// ClientIP says how rate limits find a request's client address, which
	// proxies are trusted to report it; optional.
	ClientIP ratelimit.ClientIPConfig
	// Login and Signup limit those requests; nil fields leave those
	// unlimited.
	Login  LoginLimiters
	Signup SignupLimiters
	// OnSignupHash, optional, is called as each signup starts hashing.
	OnSignupHash func()
}

// Server holds the handlers' dependencies.
type Server struct {
	Deps
	log     *slog.Logger
	checker *validate.Checker
	authz   *authz.Authorizer
}

// Claims are the claims of the service's access tokens.
type Claims struct {
	token.Claims
	Roles []string `json:"roles,omitempty"`
	// SID is the refresh-token family the token was issued from, so that
	// logout can end it.
	SID string `json:"sid,omitempty"`
}

// NewPolicy returns the service's authorization policy. API keys carry no
// role: they may do exactly what their scopes say, and keys are only issued
// with scopes their owner's role grants.
func NewPolicy() (*authz.Policy, error) {
	return authz.NewPolicy(authz.PolicyConfig{
		Roles: []authz.Role{
			{Name: RoleCustomer, Permissions: []string{PermOrdersRead, PermOrdersWrite, PermAPIKeysManage}},
			{Name: RoleAdmin, Permissions: []string{PermProductsWrite, PermAdminFaults}, Inherits: []string{RoleCustomer}},
		},
		Rules: []authz.Rule{
			{Name: "api keys act within their scopes", Effect: authz.Allow, Actions: []string{"*"},
				When: func(r *authz.Request) bool {
					return r.Subject.Method == auth.MethodAPIKey && r.Subject.HasScope(r.Action)
				}},
			// A leaked key must not be able to mint more keys.
			{Name: "api keys cannot manage api keys", Effect: authz.Deny, Actions: []string{PermAPIKeysManage},
				When: func(r *authz.Request) bool { return r.Subject.Method == auth.MethodAPIKey }},
		},
	})
}

// Handler is the service's whole HTTP handler.
type Handler struct {
	http.Handler
	// Routes are the patterns registered, such as "GET /v1/me", for the test
	// that keeps the OpenAPI document true.
	Routes []string
}

// routes is a ServeMux that remembers its patterns.
type routes struct {
	mux      *http.ServeMux
	patterns []string
}

func (r *routes) Handle(pattern string, h http.Handler) {
	r.mux.Handle(pattern, h)
	r.patterns = append(r.patterns, pattern)
}

func (r *routes) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	r.Handle(pattern, http.HandlerFunc(h))
}

// New returns the service's whole HTTP handler.
func New(d Deps) (*Handler, error) {
	if d.Log == nil || d.Users == nil || d.APIKeyStore == nil || d.Products == nil || d.Orders == nil || d.ProductCache == nil || d.Payments == nil ||
		d.Hasher == nil || d.Issuer == nil || d.Verifier == nil || d.KeyRing == nil || d.Sessions == nil ||
		d.APIKeys == nil || d.Checker == nil || d.ProductPager == nil || d.OrderPager == nil ||
		d.IdemStore == nil || d.Ready == nil {
		return nil, errors.New("api: missing dependency")
	}
	policy, err := NewPolicy()
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, log: d.Log, checker: d.Checker, authz: authz.New(policy)}

	tokenAuth := token.Authenticator[Claims](d.Verifier, token.AuthenticatorConfig[Claims]{
		Principal: principalFromClaims,
		Skip:      d.APIKeys.IsKey,
	})
	authn, err := auth.NewMiddleware(auth.MiddlewareConfig{
		Authenticators: []auth.Authenticator{d.APIKeys.Authenticator(), tokenAuth},
		Realm:          "shop",
		Hooks: auth.Hooks{OnFailure: func(r *http.Request, err error) {
			d.Log.InfoContext(r.Context(), "credential refused", slog.String("path", r.URL.Path), slog.Any("reason", err))
		}},
	})
	if err != nil {
		return nil, err
	}
	// One requirement per permission; a permission the policy grants
	// nowhere fails here, at start-up.
	need := map[string]*authz.Requirement{}
	for _, perm := range []string{PermAPIKeysManage, PermProductsWrite, PermOrdersWrite, PermAdminFaults, PermOrdersRead} {
		if need[perm], err = authz.NewRequirement(s.authz, perm, authz.RequirementConfig{}); err != nil {
			return nil, err
		}
	}
	idem, err := idempotency.NewMiddleware(d.IdemStore, idempotency.Config{
		Methods:   []string{http.MethodPost},
		Required:  true,
		Principal: func(r *http.Request) string { return auth.SubjectFrom(r.Context()) },
		KeyPrefix: "orders:",
	})
	if err != nil {
		return nil, err
	}

	mux := &routes{mux: http.NewServeMux()}
	mux.Handle("GET /openapi.json", http.HandlerFunc(serveOpenAPI))
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if d.Metrics == nil {
			problem.Write(w, problem.Details{Status: http.StatusNotFound, Detail: "Metrics are not exported as Prometheus here; set OTEL_METRICS_EXPORTER=prometheus."})
			return
		}
		d.Metrics.ServeHTTP(w, r)
	})
	mux.Handle("GET /.well-known/jwks.json", token.JWKSHandler(d.KeyRing, 0))

	signup, err := s.signupRoute(d.Signup, d.ClientIP)
	if err != nil {
		return nil, err
	}
	mux.Handle("POST /v1/auth/signup", signup)
	login, err := s.loginRoute(d.Login, d.ClientIP)
	if err != nil {
		return nil, err
	}
	mux.Handle("POST /v1/auth/login", login)
	mux.HandleFunc("POST /v1/auth/refresh", s.refresh)
	mux.Handle("POST /v1/auth/logout", auth.RequireAuthenticated(http.HandlerFunc(s.logout)))
	mux.Handle("GET /v1/me", auth.RequireAuthenticated(http.HandlerFunc(s.me)))

	keys := need[PermAPIKeysManage].Handler
	mux.Handle("POST /v1/apikeys", keys(http.HandlerFunc(s.createAPIKey)))
	mux.Handle("GET /v1/apikeys", keys(http.HandlerFunc(s.listAPIKeys)))
	mux.Handle("DELETE /v1/apikeys/{id}", keys(http.HandlerFunc(s.deleteAPIKey)))

	admin := need[PermProductsWrite].Handler
	mux.HandleFunc("GET /v1/products", s.listProducts)
	mux.HandleFunc("GET /v1/products/{id}", s.getProduct)
	mux.Handle("POST /v1/products", admin(http.HandlerFunc(s.createProduct)))
	mux.Handle("PUT /v1/products/{id}", admin(http.HandlerFunc(s.updateProduct)))
	mux.Handle("DELETE /v1/products/{id}", admin(http.HandlerFunc(s.deleteProduct)))

	mux.Handle("POST /v1/orders", need[PermOrdersWrite].Handler(idem.Handler(http.HandlerFunc(s.placeOrder))))
	mux.Handle("POST /v1/admin/faults", need[PermAdminFaults].Handler(http.HandlerFunc(s.setFaults)))
	readOrders := need[PermOrdersRead].Handler
	mux.Handle("GET /v1/orders", readOrders(http.HandlerFunc(s.listOrders)))
	mux.Handle("GET /v1/orders/{id}", readOrders(http.HandlerFunc(s.getOrder)))

	// Outermost first: security headers on every answer, refusals included;
	// CORS answers preflights before anything else runs; oversized bodies
	// are refused before authentication spends any work.
	headers, err := httpsec.NewHeaders(httpsec.HeadersConfig{})
	if err != nil {
		return nil, err
	}
	body, err := httpsec.NewBodyLimit(httpsec.BodyLimitConfig{MaxBytes: d.MaxBodyBytes})
	if err != nil {
		return nil, err
	}
	// observe.Router hands the matched route (and the principal auth put
	// in the request's context) back to observe's middleware outside:
	// authn passes on a copy of the request, on which the mux sets the
	// pattern.
	h := body.Handler(authn.Handler(observe.Router(mux.mux)))
	if len(d.CORSOrigins) > 0 {
		// Bearer tokens only, never cookies: no AllowCredentials. Frontends
		// may send the trace context of browser tracing and their own
		// request id, and read the request id (to quote in error reports)
		// and WWW-Authenticate (to tell an expired token from a bad one).
		cors, err := httpsec.NewCORS(httpsec.CORSConfig{
			AllowedOrigins: d.CORSOrigins,
			AllowedMethods: []string{"GET", "POST", "PUT", "DELETE"},
			AllowedHeaders: []string{"Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match",
				"X-API-Key", observe.RequestIDHeader},
			AllowTraceContext: true,
			ExposedHeaders: []string{"ETag", "Link", "Location", "Retry-After", "Idempotent-Replayed", "RateLimit", "RateLimit-Policy",
				observe.RequestIDHeader, "WWW-Authenticate", "Deprecation", "Sunset"},
		})
		if err != nil {
			return nil, err
		}
		h = cors.Handler(h)
	}
	h = headers.Handler(h)
	// Outermost: every request gets a span named by its route, a request
	// id, the duration histogram and one access-log line with the trace id.
	instrument, err := observe.NewMiddleware(observe.MiddlewareConfig{
		TracerProvider: d.TracerProvider, MeterProvider: d.MeterProvider,
		Logger: d.Log, DisableAccessLog: !d.AccessLogging,
		Principal: func(r *http.Request) string { return auth.SubjectFrom(r.Context()) },
	})
	if err != nil {
		return nil, err
	}
	h = instrument.Handler(h)
	return &Handler{Handler: h, Routes: mux.patterns}, nil
}

func principalFromClaims(c *Claims) auth.Principal {
	return auth.Principal{
		Subject:         c.Subject,
		Method:          auth.MethodToken,
		CredentialID:    c.ID,
		Roles:           c.Roles,
		AuthenticatedAt: c.IssuedAt.Time(),
		Attributes:      map[string]any{"sid": c.SID},
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		problem.Write(w, problem.Details{Status: http.StatusServiceUnavailable, Detail: err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
