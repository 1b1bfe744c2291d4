// Package app assembles the service from its configuration and its
// connections: storage, security components and the HTTP handler.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/apikey"
	"github.com/bedrock-go/bedrock/auth/password"
	"github.com/bedrock-go/bedrock/auth/session"
	"github.com/bedrock-go/bedrock/auth/session/pgsession"
	"github.com/bedrock-go/bedrock/auth/token"
	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/idempotency/redisidem"
	"github.com/bedrock-go/bedrock/observe"
	"github.com/bedrock-go/bedrock/observe/httpapiobserve"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/pagination"
	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
	"github.com/bedrock-go/bedrock/validate"

	"github.com/bedrock-go/bedrock/examples/service/internal/access"
	"github.com/bedrock-go/bedrock/examples/service/internal/apikeys"
	"github.com/bedrock-go/bedrock/examples/service/internal/config"
	"github.com/bedrock-go/bedrock/examples/service/internal/events"
	"github.com/bedrock-go/bedrock/examples/service/internal/orders"
	"github.com/bedrock-go/bedrock/examples/service/internal/payment"
	"github.com/bedrock-go/bedrock/examples/service/internal/products"
	"github.com/bedrock-go/bedrock/examples/service/internal/store"
	"github.com/bedrock-go/bedrock/examples/service/internal/users"
	"github.com/bedrock-go/bedrock/examples/service/internal/web"
)

// Options are the parts of the assembly tests change.
type Options struct {
	// RedisPrefix prefixes every Redis key; "shop:" when empty.
	RedisPrefix string
	// PasswordParams replaces the argon2id parameters (tests use cheaper
	// ones); DefaultParams when zero.
	PasswordParams password.Params
	// LoginPerIP, LoginPerEmailClient and LoginPerEmail limit login
	// attempts (see users.LoginLimiters). When zero: 60 a minute per client
	// address; 10 at once, then one every 6 minutes, per email and client;
	// and a ceiling of 100 an hour per email (NIST SP 800-63B's bound on
	// failed attempts), which one client reaches at most 20 of in an hour,
	// so that locking an owner out takes at least five addresses.
	LoginPerIP, LoginPerEmailClient, LoginPerEmail ratelimit.Limit
	// SignupPerIP limits signup requests per client address, every request
	// counted; 10 an hour when zero. SignupCeiling limits the signups of
	// all clients together that get as far as hashing a password; 60 a
	// minute when zero.
	SignupPerIP, SignupCeiling ratelimit.Limit
	// SignupHashing bounds the password hashes of signups that run at once
	// (password.Config.MaxConcurrentHash): signups can never take every
	// hashing slot, so a login always finds one. Half of GOMAXPROCS (at
	// least 1) when zero.
	SignupHashing int
	// SignupHashWaiting bounds the signups waiting for one of those slots
	// (password.Config.MaxHashWaiting); one more is answered 503 at once
	// instead of queueing. Twice SignupHashing when zero.
	SignupHashWaiting int
	// OnSignupHash, when set, is called as each signup starts hashing, past
	// every cheap check and the ceiling; tests use it to know that signups
	// hold their hashing budget.
	OnSignupHash func()
	// LimitBudget is how long a rate-limit decision may wait for Redis
	// before the per-process fallback decides instead
	// (redislimit.Config.Timeout); 100ms when zero. Tests that count on
	// Redis deciding raise it, so that a busy machine never hands their
	// decisions to the fallback.
	LimitBudget time.Duration
	// PaymentOpenFor is how long the payment breaker stays open; 5s when
	// zero.
	PaymentOpenFor time.Duration
	// TracerProvider, MeterProvider and Metrics (the /metrics handler) come
	// from observe.Setup in main; nil uses the global providers and
	// answers /metrics with 404.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Metrics        http.Handler
	// Events, when set, also receives every event (NATS JetStream when
	// NATS_URL is set with the Redis broker), through an outbox table and
	// a relay of its own; the App owns it from then on (its Close closes
	// it). Nil publishes to the broker of EVENTS_BROKER only.
	Events *events.Destination
	// OrderAttempts bounds the attempts of an order transaction; 30 when
	// zero.
	OrderAttempts int
	// OnAdmitted, when set, is called with each request the load shedder
	// admits (every request when it is disabled), which holds its slot
	// until OnAdmitted returns; tests block in it to fill the service's
	// capacity.
	OnAdmitted func(*http.Request)
}

// App is the assembled service.
type App struct {
	handler http.Handler
	routes  []string
	closers []func() error
	health  *observe.Health
	pool    *pgxpool.Pool
	redis   redis.UniversalClient
}

// New migrates the database and builds the service over pool and rdb,
// which the caller owns and closes. rdb must set ContextTimeoutEnabled, so
// that the rate limiter's and the cache's time budgets can interrupt a slow
// Redis.
func New(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, rdb redis.UniversalClient, log *slog.Logger, opt Options) (*App, error) {
	opt = opt.withDefaults()
	if err := migrate(ctx, pool); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	id, err := newIdentity(ctx, cfg, pool, log, opt)
	if err != nil {
		return nil, err
	}
	login, signup, err := newLimiters(rdb, opt)
	if err != nil {
		return nil, err
	}
	a := &App{pool: pool, redis: rdb, health: observe.NewHealth(observe.HealthConfig{Logger: log})}
	if err := a.assemble(ctx, cfg, log, opt, id, login, signup); err != nil {
		_ = a.Close()
		return nil, err
	}
	return a, nil
}

// migrate brings the whole schema up to date in one transaction under the
// service's advisory lock (store.Migrate): the service's migrations, then
// the tables of the refresh-token sessions (pgsession) and of the outbox
// and inbox (outbox), whose own locks nest inside. Instances starting
// together on an empty database apply it one after another, and each
// finds the schema complete when its turn comes.
//
// It runs on a connection of its own, made from the pool's configuration
// without the pool's query tracer: traced, every start would put each
// migration script (several kilobytes of DDL) as a fingerprint label on
// db.client.operation.duration, kept in /metrics for the life of the
// process, and log the scripts and the wait for the lock as slow queries.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	cc := pool.Config().ConnConfig // a copy
	cc.Tracer = nil
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	return store.Migrate(ctx, conn,
		func(ctx context.Context, tx pgx.Tx) error {
			sessions, err := pgsession.New(tx, pgsession.Config{})
			if err != nil {
				return err
			}
			return sessions.Migrate(ctx)
		},
		func(ctx context.Context, tx pgx.Tx) error { return outbox.Migrate(ctx, tx, outbox.MigrateConfig{}) })
}

// withDefaults returns opt with every zero field set to its default.
func (opt Options) withDefaults() Options {
	if opt.RedisPrefix == "" {
		opt.RedisPrefix = "shop:"
	}
	if opt.LoginPerIP == (ratelimit.Limit{}) {
		opt.LoginPerIP = ratelimit.PerMinute(60)
	}
	if opt.LoginPerEmailClient == (ratelimit.Limit{}) {
		opt.LoginPerEmailClient = ratelimit.PerHour(10)
	}
	if opt.LoginPerEmail == (ratelimit.Limit{}) {
		opt.LoginPerEmail = ratelimit.PerHour(100)
	}
	opt.LoginPerIP.Name, opt.LoginPerEmailClient.Name, opt.LoginPerEmail.Name = "login-ip", "login-email-client", "login-email"
	if opt.SignupPerIP == (ratelimit.Limit{}) {
		opt.SignupPerIP = ratelimit.PerHour(10)
	}
	if opt.SignupCeiling == (ratelimit.Limit{}) {
		opt.SignupCeiling = ratelimit.PerMinute(60)
	}
	opt.SignupPerIP.Name, opt.SignupCeiling.Name = "signup-ip", "signup-all"
	if opt.SignupHashing == 0 {
		opt.SignupHashing = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if opt.SignupHashWaiting == 0 {
		opt.SignupHashWaiting = 2 * opt.SignupHashing
	}
	if opt.OrderAttempts == 0 {
		opt.OrderAttempts = 30
	}
	return opt
}

// identity is what proves who a caller is: token keys, refresh-token
// sessions, the password hasher and API keys.
type identity struct {
	ring     *token.KeyRing
	issuer   *token.Issuer
	verifier *token.Verifier
	sessions *session.RefreshTokens
	hasher   *password.Hasher
	keyStore *apikeys.Store
	keys     *apikey.Keys
}

func newIdentity(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, log *slog.Logger, opt Options) (id identity, err error) {
	sessStore, err := pgsession.New(pool, pgsession.Config{})
	if err != nil {
		return id, err
	}
	if id.ring, err = keyRing(cfg, log); err != nil {
		return id, err
	}
	id.issuer, err = token.NewIssuer(token.IssuerConfig{Keys: id.ring, Issuer: access.TokenIssuer,
		Audience: []string{access.TokenAudience}, TTL: cfg.AccessTokenTTL})
	if err != nil {
		return id, err
	}
	id.verifier, err = token.NewVerifier(token.VerifierConfig{Keys: id.ring, Issuer: access.TokenIssuer,
		Audience: access.TokenAudience, Algorithms: []token.Algorithm{token.EdDSA}})
	if err != nil {
		return id, err
	}
	id.sessions, err = session.New(sessStore, session.Config{
		Hooks: session.Hooks{OnReuse: func(ctx context.Context, f session.Family) {
			log.WarnContext(ctx, "refresh token reused: session family revoked", slog.String("family", f.ID), slog.String("subject", f.Subject))
		}},
	})
	if err != nil {
		return id, err
	}
	// One hasher, one memory bound: new passwords (signups, which anyone
	// can send) hold at most their share of its slots, so a login always
	// finds one; signups past the share and its queue get ErrBusy (503).
	id.hasher, err = password.New(password.Config{Params: opt.PasswordParams,
		MaxConcurrentHash: opt.SignupHashing, MaxHashWaiting: opt.SignupHashWaiting})
	if err != nil {
		return id, err
	}
	id.keyStore = apikeys.NewStore(pool)
	id.keys, err = apikey.New(id.keyStore, apikey.Config{Prefix: access.APIKeyPrefix})
	return id, err
}

// newLimiters returns the login and signup limits. Limits live in Redis so
// that every instance counts together. When Redis fails, each process
// limits on its own (a per-process bound) rather than opening the door to
// password guessing or refusing logins.
func newLimiters(rdb redis.UniversalClient, opt Options) (users.LoginLimiters, users.SignupLimiters, error) {
	var login users.LoginLimiters
	var signup users.SignupLimiters
	local, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	if err != nil {
		return login, signup, err
	}
	limitStore, err := redislimit.New(rdb, redislimit.Config{Prefix: opt.RedisPrefix + "rl:",
		Timeout: opt.LimitBudget, WhenUnavailable: redislimit.FallBack, Fallback: local})
	if err != nil {
		return login, signup, err
	}
	var errs []error
	limiter := func(l ratelimit.Limit) *ratelimit.Limiter {
		lim, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{l}, Store: limitStore})
		errs = append(errs, err)
		return lim
	}
	login = users.LoginLimiters{PerIP: limiter(opt.LoginPerIP), PerEmailClient: limiter(opt.LoginPerEmailClient),
		PerEmail: limiter(opt.LoginPerEmail)}
	signup = users.SignupLimiters{PerIP: limiter(opt.SignupPerIP), Ceiling: limiter(opt.SignupCeiling)}
	return login, signup, errors.Join(errs...)
}

// assemble builds the domains, registers their routes and wraps them in
// the middleware. Each domain gets only the few dependencies it needs; what
// they share is the Responder and the access control.
func (a *App) assemble(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options, id identity,
	login users.LoginLimiters, signup users.SignupLimiters) error {
	checker, err := validate.New(validate.Config{})
	if err != nil {
		return err
	}
	productPager, orderPager, err := pagers(cfg, log)
	if err != nil {
		return err
	}
	productStore, err := products.NewStore(a.pool)
	if err != nil {
		return err
	}
	idem, err := redisidem.New(a.redis, redisidem.Config{Prefix: opt.RedisPrefix + "idem:"})
	if err != nil {
		return err
	}
	productCaches, closeCache, err := products.NewCaches(a.redis, productStore, opt.RedisPrefix, opt.MeterProvider)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, closeCache)
	dropProducts := func(ctx context.Context, ids ...int64) {
		// Stock and units sold move a product in no list: its page and the
		// list pages that show it are all that change.
		if err := productCaches.StockChanged(ctx, ids...); err != nil {
			log.WarnContext(ctx, "product cache invalidation failed", slog.Any("ids", ids), slog.Any("error", err))
		}
	}
	broker, err := events.Connect(ctx, events.BrokerConfig{Kind: cfg.EventsBroker, Redis: a.redis, Prefix: opt.RedisPrefix,
		NATSURL: cfg.NATSURL, RabbitMQURL: cfg.RabbitMQURL, Log: log, MeterProvider: opt.MeterProvider})
	if err != nil {
		return err
	}
	if err := a.registerChecks(broker, opt.Events); err != nil {
		broker.Close()
		return err
	}
	flow, err := events.Start(ctx, a.pool, broker, log, opt.MeterProvider, opt.Events,
		func(ctx context.Context, ids []int64) { dropProducts(ctx, ids...) })
	if err != nil {
		broker.Close()
		return err
	}
	a.closers = append(a.closers, flow.Close)
	orderStore, err := orders.NewStore(a.pool, orders.StoreConfig{MaxAttempts: opt.OrderAttempts,
		BeginTimeout: cfg.DBBeginTimeout, Events: flow.Writer()})
	if err != nil {
		return err
	}
	payments, fake, err := a.paymentClient(cfg, opt)
	if err != nil {
		return err
	}
	control, err := access.New()
	if err != nil {
		return err
	}

	readPolicy, v0, err := productReads(cfg, opt)
	if err != nil {
		return err
	}

	resp := web.Responder{Log: log, Checker: checker}
	routes := web.NewRouter()
	systemRoutes(routes, a.health, opt.Metrics, id.ring)
	err = errors.Join(
		users.Routes(routes, users.Config{Responder: resp, Store: users.NewStore(a.pool), Hasher: id.hasher,
			Issuer: id.issuer, TokenTTL: cfg.AccessTokenTTL, Sessions: id.sessions,
			ClientIP: ratelimit.ClientIPConfig{TrustedProxies: cfg.TrustedProxies},
			Login:    login, Signup: signup, OnSignupHash: opt.OnSignupHash}),
		apikeys.Routes(routes, apikeys.Config{Responder: resp, Store: id.keyStore, Keys: id.keys, Access: control}),
		products.Routes(routes, products.Config{Responder: resp, Store: productStore, Caches: productCaches,
			Pager: productPager, Access: control, CachePolicy: readPolicy, V0: v0}),
		orders.Routes(routes, orders.Config{Responder: resp, Store: orderStore, Pager: orderPager, Idempotency: idem,
			Payments: payments, Faults: fake, StockChanged: dropProducts, Access: control}),
	)
	if err != nil {
		return err
	}
	doc, err := routes.OpenAPI(openAPIBase)
	if err != nil {
		return err
	}
	routes.Handle("GET /openapi.json", serveOpenAPI(doc))
	shedder, stopGauges, err := newShedder(cfg.Shed, opt.MeterProvider)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, stopGauges)
	a.handler, err = wrap(routes, stack{Log: log, Verifier: id.verifier, APIKeys: id.keys, CORSOrigins: cfg.CORSOrigins,
		TracerProvider: opt.TracerProvider, MeterProvider: opt.MeterProvider, Shedder: shedder, OnAdmitted: opt.OnAdmitted})
	a.routes = routes.Patterns()
	return err
}

// Product reads are public: anyone may cache an anonymous one for
// ProductMaxAge, and serve it for ProductStaleWhileRevalidate more while
// it asks again (with If-None-Match: a 304 when nothing changed).
const (
	ProductMaxAge               = time.Minute
	ProductStaleWhileRevalidate = 5 * time.Minute
)

// productReads returns the cache policy of product reads and the
// deprecation of their v0 aliases, counted in the metric of
// httpapiobserve.
func productReads(cfg config.Config, opt Options) (*httpapi.CachePolicy, *httpapi.Deprecation, error) {
	policy, err := httpapi.NewCachePolicy(httpapi.CachePolicyConfig{
		MaxAge: ProductMaxAge, StaleWhileRevalidate: ProductStaleWhileRevalidate,
		// An answer to a request with credentials is for one user (private,
		// no-store), whichever field carried them: the default looks at
		// Authorization and Cookie only, and API keys come in X-API-Key too.
		Authenticated: func(r *http.Request) bool {
			_, ok := auth.PrincipalFrom(r.Context())
			return ok || r.Header.Get("Authorization") != "" || r.Header.Get("X-API-Key") != "" || r.Header.Get("Cookie") != ""
		},
	})
	if err != nil {
		return nil, nil, err
	}
	hooks, err := httpapiobserve.Hooks(opt.MeterProvider)
	if err != nil {
		return nil, nil, err
	}
	v0, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{
		Name: "v0", Deprecated: config.V0Deprecated(), Sunset: cfg.V0Sunset,
		Policy: cfg.V0DeprecationPolicy, Hooks: hooks,
	})
	return policy, v0, err
}

// pagers returns the pagers of the product and order listings, whose
// cursors CURSOR_SECRET signs.
func pagers(cfg config.Config, log *slog.Logger) (productPager, orderPager *pagination.Pager, err error) {
	cursors, err := cursorSigner(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	if productPager, err = pagination.New(pagination.Config{Signer: cursors, Sorts: products.Sorts(), FilterParams: products.FilterParams()}); err != nil {
		return nil, nil, err
	}
	orderPager, err = pagination.New(pagination.Config{Signer: cursors, Sorts: orders.Sorts()})
	return productPager, orderPager, err
}

// paymentClient returns the client of the payment service and, when the
// service runs its in-process fake (PAYMENT_URL unset), the fake. The
// client connects through an httpsec.Outbound: only to the allowed hosts,
// and of their addresses only public ones or those in the allowed CIDRs.
// A PAYMENT_URL outside the allow-list stops the start.
func (a *App) paymentClient(cfg config.Config, opt Options) (*payment.Client, *payment.Fake, error) {
	var fake *payment.Fake
	base := cfg.PaymentURL
	policy := httpsec.OutboundConfig{AllowedHosts: cfg.PaymentAllowedHosts, AllowedCIDRs: cfg.PaymentAllowedCIDRs,
		Timeout: 5 * time.Second, MaxRedirects: -1} // a charge is never redirected
	if base == "" {
		// The in-process fake with switchable faults, on loopback: the
		// allow-list names exactly its address and port.
		var err error
		if fake, err = payment.StartFake(); err != nil {
			return nil, nil, err
		}
		a.closers = append(a.closers, fake.Close)
		base = fake.URL()
		addr := netip.MustParseAddrPort(strings.TrimPrefix(base, "http://"))
		policy.AllowedHosts = []string{addr.Addr().String()}
		policy.AllowedCIDRs = []netip.Prefix{netip.PrefixFrom(addr.Addr(), addr.Addr().BitLen())}
		policy.AllowedPorts = []uint16{addr.Port()}
	}
	out, err := httpsec.NewOutbound(policy)
	if err != nil {
		return nil, nil, fmt.Errorf("PAYMENT_ALLOWED_HOSTS, PAYMENT_ALLOWED_CIDRS: %w", err)
	}
	a.closers = append(a.closers, func() error { out.CloseIdleConnections(); return nil })
	probe, err := http.NewRequest(http.MethodPost, base, nil)
	if err == nil {
		err = out.Check(probe)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("PAYMENT_URL %s is outside PAYMENT_ALLOWED_HOSTS and PAYMENT_ALLOWED_CIDRS: %w", base, err)
	}
	payments, err := payment.NewClient(base, out.Client(), opt.PaymentOpenFor, opt.MeterProvider)
	if err != nil {
		return nil, nil, err
	}
	a.closers = append(a.closers, payments.Close)
	return payments, fake, nil
}

// Close stops the background work of the service (the product cache's
// refreshes and invalidation subscription). The caller closes the pool and
// the Redis client afterwards.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// Handler returns the service's HTTP handler.
func (a *App) Handler() http.Handler { return a.handler }

// Routes returns the registered route patterns, such as "GET /v1/me".
func (a *App) Routes() []string { return append([]string(nil), a.routes...) }

// Drain makes /readyz fail, so that load balancers stop sending traffic
// while in-flight requests finish.
func (a *App) Drain() { a.health.SetDraining(true) }

// Health returns the service's readiness, which main hands to
// observe.GracefulShutdown.
func (a *App) Health() *observe.Health { return a.health }

// registerChecks registers what /readyz checks. PostgreSQL and Redis are
// critical: without them no request can be served, and another instance
// may still reach them. The event brokers (NATS, as the broker or as the
// second destination) are not: an order commits its events to the outbox
// whatever the broker's state, and the relay delivers them once it is
// back, so an outage delays events but fails no request; every instance
// shares the broker, and taking them all out of rotation would turn a
// delay into an outage. Their state still shows in /readyz's checks, in
// the log and in the connection metrics.
func (a *App) registerChecks(broker *events.Broker, also *events.Destination) error {
	errs := []error{
		a.health.Register("postgresql", observe.PingCheck(a.pool), observe.CheckOptions{}),
		a.health.Register("redis", func(ctx context.Context) error { return a.redis.Ping(ctx).Err() }, observe.CheckOptions{}),
	}
	if broker.Check != nil {
		errs = append(errs, a.health.Register(broker.Kind, broker.Check, observe.CheckOptions{NonCritical: true}))
	}
	if also != nil && also.Check != nil {
		errs = append(errs, a.health.Register(also.Name, also.Check, observe.CheckOptions{NonCritical: true}))
	}
	return errors.Join(errs...)
}

func keyRing(cfg config.Config, log *slog.Logger) (*token.KeyRing, error) {
	if cfg.JWTKeysFile != "" {
		return LoadKeyRing(cfg.JWTKeysFile)
	}
	log.Warn("JWT_KEYS_FILE is not set: signing tokens with a key generated at start; every restart logs everyone out. Never do this in production.")
	k, err := token.GenerateEd25519("dev-" + time.Now().UTC().Format("20060102T150405"))
	if err != nil {
		return nil, err
	}
	return token.NewKeyRing(k)
}

func cursorSigner(cfg config.Config, log *slog.Logger) (*pagination.SecretSigner, error) {
	secret := []byte(cfg.CursorSecret)
	if len(secret) == 0 {
		log.Warn("CURSOR_SECRET is not set: signing pagination cursors with a random secret; cursors stop working at restart.")
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	return pagination.NewSecretSigner(secret)
}
