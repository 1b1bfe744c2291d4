// Package config reads the service's configuration from environment
// variables, with defaults that start it on a developer machine.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bedrock-go/bedrock/observe"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// Config is the service's configuration.
type Config struct {
	// DatabaseURL is the PostgreSQL URL (DATABASE_URL).
	DatabaseURL string
	// RedisURL is the Redis URL (REDIS_URL). When it is unset in development
	// and the local Redis is unreachable, the service runs on an embedded
	// Redis (RedisExplicit is then false).
	RedisURL      string
	RedisExplicit bool
	// RedisClusterAddrs are nodes of a Redis Cluster (REDIS_CLUSTER_ADDRS,
	// comma-separated host:port; any one lets the client find the rest).
	// A comma-separated list of URLs in REDIS_URL names a cluster too, with
	// the credentials and TLS of its first URL. Either way the service runs
	// on the cluster, and never on the embedded Redis.
	RedisClusterAddrs []string
	// RedisPrefix starts every Redis key the service writes (REDIS_PREFIX,
	// "shop:" by default), so that deployments, or test runs, sharing one
	// Redis never count each other's rate limits or replay each other's
	// idempotent answers.
	RedisPrefix string
	// EventsBroker is where order.placed goes and where its consumer
	// reads it (EVENTS_BROKER): "redis" (Redis Streams, the default),
	// "nats" (JetStream at NATSURL) or "rabbitmq" (at RabbitMQURL).
	EventsBroker string
	// NATSURL is the NATS server (NATS_URL): the broker with
	// EVENTS_BROKER=nats (nats://127.0.0.1:4222 by default); with the
	// Redis broker, when set, events also go to NATS JetStream.
	NATSURL string
	// RabbitMQURL is the RabbitMQ server of EVENTS_BROKER=rabbitmq
	// (RABBITMQ_URL, amqp://guest:guest@127.0.0.1:5672/ by default).
	RabbitMQURL string
	// HTTPAddr is the listen address (HTTP_ADDR), ":8080" by default.
	HTTPAddr string
	// TrustedProxies are the networks of the reverse proxies in front of
	// the service (TRUSTED_PROXIES, comma-separated CIDRs or addresses).
	// The client's address, which rate limits key on, is read from
	// X-Forwarded-For only on connections from them; empty trusts none, and
	// the connection's address is the client's.
	TrustedProxies []netip.Prefix
	// JWTKeysFile names a JSON file with the token signing keys
	// (JWT_KEYS_FILE); empty generates a key at start in development.
	JWTKeysFile string
	// CursorSecret signs pagination cursors (CURSOR_SECRET, at least 32
	// bytes); empty generates one at start in development.
	CursorSecret string
	// Env is development or production (ENV).
	Env string
	// CORSOrigins may read responses from browsers (CORS_ORIGINS,
	// comma-separated).
	CORSOrigins []string
	// ShutdownTimeout bounds graceful shutdown (SHUTDOWN_TIMEOUT, 20s).
	ShutdownTimeout time.Duration
	// ShutdownDrain is how long, after SIGTERM, /readyz answers 503 while
	// the listener stays open and serves every request, so that a load
	// balancer stops routing here before connections are refused
	// (SHUTDOWN_DRAIN, observe.DefaultDrain, 5s; 0s skips it).
	ShutdownDrain time.Duration
	// DBConnectTimeout bounds each dial of a PostgreSQL connection
	// (DB_CONNECT_TIMEOUT, 2s) unless DATABASE_URL sets connect_timeout:
	// an unreachable database is reported in seconds, not after the
	// operating system's TCP timeout.
	DBConnectTimeout time.Duration
	// DBBeginTimeout bounds how long a transaction waits for a pooled
	// connection and its BEGIN (DB_BEGIN_TIMEOUT, 2s, txn.Config's
	// BeginTimeout): past it the request is answered 503 with Retry-After.
	DBBeginTimeout time.Duration
	// AdminAddr is the listen address of the admin listener, which serves
	// the pprof profiles at /debug/pprof/ (ADMIN_ADDR); empty, the
	// default, serves none. Bind it to loopback or a private network:
	// profiles reveal the service's internals and cost CPU.
	AdminAddr string
	// AccessTokenTTL is the lifetime of access tokens (ACCESS_TOKEN_TTL, 10m).
	AccessTokenTTL time.Duration

	// PaymentURL is the base URL of the payment service (PAYMENT_URL);
	// empty runs the in-process fake. The client reaches only the hosts of
	// PaymentAllowedHosts (PAYMENT_ALLOWED_HOSTS, comma-separated names,
	// "*.example.com" or IP addresses; required with PAYMENT_URL), and of
	// their addresses only public ones or those in PaymentAllowedCIDRs
	// (PAYMENT_ALLOWED_CIDRS, comma-separated CIDRs or addresses), so that
	// neither a wrong URL nor the provider's DNS can point it at the
	// private network or the cloud metadata endpoint.
	PaymentURL          string
	PaymentAllowedHosts []string
	PaymentAllowedCIDRs []netip.Prefix

	// TLSCertFile and TLSKeyFile (TLS_CERT_FILE, TLS_KEY_FILE, both or
	// neither) make the service serve HTTPS, re-reading both files when
	// they change, at most every TLSReloadInterval (TLS_RELOAD_INTERVAL,
	// 1m). TLSClientCAFile (TLS_CLIENT_CA_FILE, optional) requires every
	// client to present a certificate signed by one of its CAs.
	TLSCertFile, TLSKeyFile, TLSClientCAFile string
	TLSReloadInterval                        time.Duration

	// V0Sunset is when the deprecated v0 product reads stop being
	// supported (V0_SUNSET, a date such as 2027-12-07 or an RFC 3339
	// time), sent in their Sunset field; a year after V0Deprecated by
	// default. V0DeprecationPolicy (V0_DEPRECATION_POLICY, optional) is
	// the URL of a page about the deprecation, sent as a Link with
	// rel="deprecation".
	V0Sunset            time.Time
	V0DeprecationPolicy string

	// SlowQueryThreshold is the duration from which a PostgreSQL query is
	// logged as slow (SLOW_QUERY_THRESHOLD, 200ms; 0 logs none): its
	// statement fingerprint, never its parameters, with its duration, rows
	// and trace id. With SlowQueryExplain (SLOW_QUERY_EXPLAIN=true) the
	// plan of each slow statement shape is captured once (EXPLAIN without
	// ANALYZE, at most one a minute) and logged too.
	SlowQueryThreshold time.Duration
	SlowQueryExplain   bool
	// SlowRedisThreshold is the duration from which a Redis command is
	// logged as slow (SLOW_REDIS_THRESHOLD, 50ms; 0 logs none).
	SlowRedisThreshold time.Duration
	// Shed configures the load shedder in front of the API (SHED_*).
	Shed Shed
}

// V0Deprecated returns when the v0 product reads were deprecated, the day
// v1 shipped: sent in their Deprecation field.
func V0Deprecated() time.Time { return time.Date(2026, time.December, 7, 0, 0, 0, 0, time.UTC) }

// TLS reports whether the service serves HTTPS.
func (c Config) TLS() bool { return c.TLSCertFile != "" }

// Defaults for a developer machine.
const (
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
	DefaultRedisPrefix = "shop:"
	DefaultHTTPAddr    = ":8080"
	DefaultNATSURL     = "nats://127.0.0.1:4222"
	DefaultRabbitMQURL = "amqp://guest:guest@127.0.0.1:5672/"
)

// DatabaseURL returns DATABASE_URL, or the default, read through getenv:
// all that the operator's subcommands (grant-role, revoke-role) need.
func DatabaseURL(getenv func(string) string) string {
	return or(getenv("DATABASE_URL"), DefaultDatabaseURL)
}

// Load reads the configuration through getenv (os.Getenv in main).
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:  DatabaseURL(getenv),
		RedisURL:     or(getenv("REDIS_URL"), DefaultRedisURL),
		NATSURL:      getenv("NATS_URL"),
		HTTPAddr:     or(getenv("HTTP_ADDR"), DefaultHTTPAddr),
		JWTKeysFile:  getenv("JWT_KEYS_FILE"),
		CursorSecret: getenv("CURSOR_SECRET"),
		Env:          or(getenv("ENV"), Development),
		CORSOrigins:  list(getenv("CORS_ORIGINS"), func(s string) string { return s }),
	}
	c.RedisExplicit = getenv("REDIS_URL") != ""
	c.RedisClusterAddrs = list(getenv("REDIS_CLUSTER_ADDRS"), strings.TrimSpace)
	var errs []error
	var err error
	c.RedisPrefix = or(getenv("REDIS_PREFIX"), DefaultRedisPrefix)
	if strings.ContainsAny(c.RedisPrefix, "{}") {
		// Keys carry hash tags for Redis Cluster; braces in the prefix
		// would change which part of a key is hashed.
		errs = append(errs, fmt.Errorf("REDIS_PREFIX must not contain braces, not %q", c.RedisPrefix))
	}
	if len(c.RedisClusterAddrs) > 0 && c.RedisExplicit {
		errs = append(errs, errors.New("set REDIS_CLUSTER_ADDRS or REDIS_URL, not both (a cluster may also be a comma-separated list of URLs in REDIS_URL)"))
	}
	if c.TrustedProxies, err = prefixes(getenv, "TRUSTED_PROXIES"); err != nil {
		errs = append(errs, err)
	}
	if c.ShutdownTimeout, err = duration(getenv, "SHUTDOWN_TIMEOUT", 20*time.Second); err != nil {
		errs = append(errs, err)
	}
	if c.AccessTokenTTL, err = duration(getenv, "ACCESS_TOKEN_TTL", 10*time.Minute); err != nil {
		errs = append(errs, err)
	}
	if c.ShutdownDrain, err = drain(getenv("SHUTDOWN_DRAIN")); err != nil {
		errs = append(errs, err)
	}
	if c.DBConnectTimeout, err = duration(getenv, "DB_CONNECT_TIMEOUT", 2*time.Second); err != nil {
		errs = append(errs, err)
	}
	if c.DBBeginTimeout, err = duration(getenv, "DB_BEGIN_TIMEOUT", 2*time.Second); err != nil {
		errs = append(errs, err)
	}
	c.AdminAddr = getenv("ADMIN_ADDR")
	if err := c.loadPayment(getenv); err != nil {
		errs = append(errs, err)
	}
	if err := c.loadTLS(getenv); err != nil {
		errs = append(errs, err)
	}
	if err := c.loadEvents(getenv); err != nil {
		errs = append(errs, err)
	}
	if err := c.loadV0(getenv); err != nil {
		errs = append(errs, err)
	}
	if err := c.loadSlow(getenv); err != nil {
		errs = append(errs, err)
	}
	if err := c.loadShed(getenv); err != nil {
		errs = append(errs, err)
	}
	if c.Env != Development && c.Env != Production {
		errs = append(errs, fmt.Errorf("ENV must be %q or %q, not %q", Development, Production, c.Env))
	}
	if c.Env == Production {
		if c.JWTKeysFile == "" {
			errs = append(errs, errors.New("JWT_KEYS_FILE is required in production"))
		}
		if len(c.CursorSecret) < 32 {
			errs = append(errs, errors.New("CURSOR_SECRET of at least 32 bytes is required in production"))
		}
	} else if c.CursorSecret != "" && len(c.CursorSecret) < 32 {
		errs = append(errs, errors.New("CURSOR_SECRET must have at least 32 bytes"))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func list(v string, norm func(string) string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, norm(s))
		}
	}
	return out
}

// prefixes reads a comma-separated list of CIDRs; a bare address is its
// own network (/32, /128).
func prefixes(getenv func(string) string, name string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list(getenv(name), strings.TrimSpace) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("%s: %q is neither a CIDR nor an IP address", name, s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("%s: %q would let every client name its own address and escape the rate limits", name, s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// DefaultShutdownDrain is SHUTDOWN_DRAIN's default, observe.DefaultDrain.
const DefaultShutdownDrain = observe.DefaultDrain

// drain reads SHUTDOWN_DRAIN, which unlike the other durations may be
// zero (no drain: a service that no load balancer routes to).
func drain(v string) (time.Duration, error) {
	if v == "" {
		return DefaultShutdownDrain, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("SHUTDOWN_DRAIN must be a duration such as 5s (0s for none), not %q", v)
	}
	return d, nil
}

func duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 30s, not %q", name, v)
	}
	return d, nil
}

// loadPayment reads the payment service's URL and the allow-list its
// client dials within.
func (c *Config) loadPayment(getenv func(string) string) error {
	c.PaymentURL = getenv("PAYMENT_URL")
	c.PaymentAllowedHosts = list(getenv("PAYMENT_ALLOWED_HOSTS"), strings.TrimSpace)
	var errs []error
	for _, s := range list(getenv("PAYMENT_ALLOWED_CIDRS"), strings.TrimSpace) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				errs = append(errs, fmt.Errorf("PAYMENT_ALLOWED_CIDRS: %q is neither a CIDR nor an IP address", s))
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		c.PaymentAllowedCIDRs = append(c.PaymentAllowedCIDRs, p)
	}
	if c.PaymentURL == "" {
		if len(c.PaymentAllowedHosts) > 0 || len(c.PaymentAllowedCIDRs) > 0 {
			errs = append(errs, errors.New("PAYMENT_ALLOWED_HOSTS and PAYMENT_ALLOWED_CIDRS need PAYMENT_URL"))
		}
		return errors.Join(errs...)
	}
	if u, err := url.Parse(c.PaymentURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("PAYMENT_URL must be an http or https URL with a host, not %q", c.PaymentURL))
	}
	if len(c.PaymentAllowedHosts) == 0 {
		errs = append(errs, errors.New("PAYMENT_URL needs PAYMENT_ALLOWED_HOSTS: the hosts the payment client may reach"))
	}
	return errors.Join(errs...)
}

// loadTLS reads the certificate files of HTTPS.
func (c *Config) loadTLS(getenv func(string) string) error {
	c.TLSCertFile, c.TLSKeyFile, c.TLSClientCAFile = getenv("TLS_CERT_FILE"), getenv("TLS_KEY_FILE"), getenv("TLS_CLIENT_CA_FILE")
	var err error
	if c.TLSReloadInterval, err = duration(getenv, "TLS_RELOAD_INTERVAL", time.Minute); err != nil {
		return err
	}
	switch {
	case (c.TLSCertFile == "") != (c.TLSKeyFile == ""):
		return errors.New("TLS_CERT_FILE and TLS_KEY_FILE go together: set both to serve HTTPS, or neither")
	case c.TLSClientCAFile != "" && c.TLSCertFile == "":
		return errors.New("TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE: client certificates are asked for over HTTPS only")
	}
	return nil
}

// Defaults of the slow-query and slow-command logs.
const (
	DefaultSlowQueryThreshold = 200 * time.Millisecond
	DefaultSlowRedisThreshold = 50 * time.Millisecond
)

// loadSlow reads the thresholds of the slow-query and slow-command logs
// and the switch of plan capture.
func (c *Config) loadSlow(getenv func(string) string) error {
	var errs []error
	var err error
	if c.SlowQueryThreshold, err = threshold(getenv, "SLOW_QUERY_THRESHOLD", DefaultSlowQueryThreshold); err != nil {
		errs = append(errs, err)
	}
	if c.SlowRedisThreshold, err = threshold(getenv, "SLOW_REDIS_THRESHOLD", DefaultSlowRedisThreshold); err != nil {
		errs = append(errs, err)
	}
	if v := getenv("SLOW_QUERY_EXPLAIN"); v != "" {
		if c.SlowQueryExplain, err = strconv.ParseBool(v); err != nil {
			errs = append(errs, fmt.Errorf("SLOW_QUERY_EXPLAIN must be true or false, not %q", v))
		}
	}
	if c.SlowQueryExplain && c.SlowQueryThreshold == 0 && getenv("SLOW_QUERY_THRESHOLD") != "" {
		errs = append(errs, errors.New("SLOW_QUERY_EXPLAIN=true needs a SLOW_QUERY_THRESHOLD above 0: plans are captured for slow queries only"))
	}
	return errors.Join(errs...)
}

// threshold reads a duration that may be 0 (off).
func threshold(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s must be a duration such as 200ms, or 0 to log none, not %q", name, v)
	}
	return d, nil
}

// loadV0 reads the retirement of the v0 product reads.
func (c *Config) loadV0(getenv func(string) string) error {
	c.V0Sunset = V0Deprecated().AddDate(1, 0, 0)
	if v := getenv("V0_SUNSET"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, v); err != nil {
				return fmt.Errorf("V0_SUNSET must be a date such as 2027-12-07 or an RFC 3339 time, not %q", v)
			}
		}
		if t.Before(V0Deprecated()) {
			return fmt.Errorf("V0_SUNSET %s is before the deprecation of v0 (%s)", v, V0Deprecated().Format(time.DateOnly))
		}
		c.V0Sunset = t
	}
	c.V0DeprecationPolicy = getenv("V0_DEPRECATION_POLICY")
	if p := c.V0DeprecationPolicy; p != "" {
		if u, err := url.Parse(p); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("V0_DEPRECATION_POLICY must be an http or https URL with a host, not %q", p)
		}
	}
	return nil
}

// loadEvents reads where the events go.
func (c *Config) loadEvents(getenv func(string) string) error {
	c.EventsBroker = or(getenv("EVENTS_BROKER"), "redis")
	c.RabbitMQURL = getenv("RABBITMQ_URL")
	switch c.EventsBroker {
	case "redis":
		if c.RabbitMQURL != "" {
			return errors.New("RABBITMQ_URL needs EVENTS_BROKER=rabbitmq")
		}
	case "nats":
		c.NATSURL = or(c.NATSURL, DefaultNATSURL)
	case "rabbitmq":
		c.RabbitMQURL = or(c.RabbitMQURL, DefaultRabbitMQURL)
		if !strings.HasPrefix(c.RabbitMQURL, "amqp://") && !strings.HasPrefix(c.RabbitMQURL, "amqps://") {
			return errors.New("RABBITMQ_URL must be an amqp:// or amqps:// URL") // not echoed: it may hold a password
		}
		if c.NATSURL != "" {
			return errors.New("NATS_URL with EVENTS_BROKER=rabbitmq: events go to one broker, or to Redis and NATS")
		}
	default:
		return fmt.Errorf("EVENTS_BROKER must be redis, nats or rabbitmq, not %q", c.EventsBroker)
	}
	return nil
}
