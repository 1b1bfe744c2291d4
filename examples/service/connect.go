package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/observe"
	"github.com/bedrock-go/bedrock/observe/pgxobserve"
	"github.com/bedrock-go/bedrock/observe/redisobserve"
	"github.com/bedrock-go/bedrock/outbox/natsjs"

	"github.com/bedrock-go/bedrock/examples/service/internal/config"
	"github.com/bedrock-go/bedrock/examples/service/internal/events"
)

// serverTLS returns the HTTPS configuration of TLS_CERT_FILE and
// TLS_KEY_FILE: modern defaults, and the files re-read when they change
// (at most every TLS_RELOAD_INTERVAL, in a handshake), so that a renewed
// certificate is served without a restart and without dropping
// connections; a broken new pair is logged and the old one kept. With
// TLS_CLIENT_CA_FILE every client must present a certificate signed by one
// of its CAs.
func serverTLS(cfg config.Config, log *slog.Logger) (*httpsec.ServerTLS, error) {
	tc := httpsec.ServerTLSConfig{
		CertFile: cfg.TLSCertFile, KeyFile: cfg.TLSKeyFile, ReloadInterval: cfg.TLSReloadInterval,
		Hooks: httpsec.Hooks{
			OnCertReload: func(leaf *x509.Certificate) {
				log.Info("TLS certificate reloaded", slog.String("serial", leaf.SerialNumber.String()),
					slog.Time("not_after", leaf.NotAfter))
			},
			OnCertReloadError: func(err error) {
				log.Error("TLS certificate not reloaded; still serving the previous one", slog.Any("error", err))
			},
		},
	}
	if cfg.TLSClientCAFile != "" {
		pem, err := os.ReadFile(cfg.TLSClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("TLS_CLIENT_CA_FILE: %w", err)
		}
		tc.ClientCAs = x509.NewCertPool()
		if !tc.ClientCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS_CLIENT_CA_FILE %s holds no PEM certificate", cfg.TLSClientCAFile)
		}
	}
	st, err := httpsec.NewServerTLS(tc)
	if err != nil {
		return nil, fmt.Errorf("TLS_CERT_FILE, TLS_KEY_FILE: %w", err)
	}
	return st, nil
}

// connectPostgres returns a pool that answered a ping, or a one-line error
// saying how to start PostgreSQL. Each dial is bounded by connectTimeout
// unless the URL sets connect_timeout, so that an unreachable database
// fails a request in seconds instead of the operating system's TCP
// timeout. The pool's connections report to tracer when it is not nil.
func connectPostgres(ctx context.Context, url string, connectTimeout time.Duration, tracer pgx.QueryTracer) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL: %w", err)
	}
	pcfg.ConnConfig.Tracer = tracer
	if pcfg.ConnConfig.ConnectTimeout == 0 {
		pcfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("PostgreSQL at %s:%d is unreachable (%v); start it (e.g. `docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:17`) or set DATABASE_URL",
			pcfg.ConnConfig.Host, pcfg.ConnConfig.Port, oneLine(err))
	}
	return pool, nil
}

// queryTracer returns the tracer of the service's PostgreSQL queries: a
// span and a sample of the db.client.operation.duration histogram (per
// operation, table and statement fingerprint) for each, on tel's
// providers, and a log record at Warn for each query slower than
// SLOW_QUERY_THRESHOLD, naming its fingerprint and never its parameters.
// With SLOW_QUERY_EXPLAIN it captures the plan of each slow statement
// shape, once, through db (the pool, which exists only once its tracer
// does). Close it before the pool: it waits for a capture under way.
func queryTracer(cfg config.Config, tel *observe.Telemetry, log *slog.Logger, db func() pgxobserve.Querier) (*pgxobserve.Tracer, error) {
	tc := pgxobserve.Config{TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider,
		SlowThreshold: cfg.SlowQueryThreshold, Logger: log}
	if cfg.SlowQueryExplain {
		tc.Explain.DB = db
	}
	return pgxobserve.New(tc)
}

// commandTracer returns the tracer of the service's Redis commands, for
// rdb.AddHook: a span and a sample of the db.client.operation.duration
// histogram (per command) for each, on tel's providers, and a log record
// at Warn for each command slower than SLOW_REDIS_THRESHOLD, naming the
// command and never a key. Commands that wait by design (see blocking)
// are traced and measured all the same, but never logged as slow.
func commandTracer(cfg config.Config, tel *observe.Telemetry, log *slog.Logger) (redis.Hook, error) {
	tc := redisobserve.Config{TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider,
		SlowThreshold: cfg.SlowRedisThreshold, Logger: log}
	all, err := redisobserve.NewTracer(tc)
	if err != nil {
		return nil, err
	}
	tc.SlowThreshold = 0
	waiting, err := redisobserve.NewTracer(tc) // the same instruments: one histogram
	if err != nil {
		return nil, err
	}
	return commandTracers{all: all, blocking: waiting}, nil
}

// commandTracers traces blocking commands with a tracer of their own,
// which logs no slow command: the event consumer's XREADGROUP waits up to
// a second for new entries, and an idle instance would otherwise log it
// as slow every second.
type commandTracers struct{ all, blocking *redisobserve.Tracer }

func (t commandTracers) DialHook(next redis.DialHook) redis.DialHook { return t.all.DialHook(next) }

func (t commandTracers) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	all, blocking := t.all.ProcessHook(next), t.blocking.ProcessHook(next)
	return func(ctx context.Context, cmd redis.Cmder) error {
		if blocks(cmd) {
			return blocking(ctx, cmd)
		}
		return all(ctx, cmd)
	}
}

func (t commandTracers) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return t.all.ProcessPipelineHook(next)
}

// blocks reports whether cmd may wait on the server for data by design: a
// stream read with BLOCK, a blocking pop or move, or WAIT.
func blocks(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "xread", "xreadgroup":
		for _, a := range cmd.Args() {
			if s, ok := a.(string); ok && strings.EqualFold(s, "block") {
				return true
			}
		}
		return false
	case "blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "wait", "waitaof":
		return true
	}
	return false
}

// connectRedis returns a client that answered a ping: of a Redis Cluster
// when REDIS_CLUSTER_ADDRS or a list in REDIS_URL names one, else of one
// server. In development, when REDIS_URL is unset and the local Redis does
// not answer, it falls back to an embedded Redis, loudly: its data lives
// only as long as the process. With ENV=production it never does: a missing
// Redis stops the start.
func connectRedis(ctx context.Context, cfg config.Config, log *slog.Logger) (redis.UniversalClient, func(), error) {
	copts, err := redisClusterOptions(cfg)
	if err != nil {
		return nil, nil, err
	}
	if copts != nil {
		return connectRedisCluster(ctx, copts)
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL is not a valid Redis URL: %w", withoutURL(err))
	}
	// Bedrock's Redis components bound each call with a context deadline,
	// which go-redis honours only with this set.
	opts.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	err = rdb.Ping(pingCtx).Err()
	if err == nil {
		return rdb, func() { _ = rdb.Close() }, nil
	}
	_ = rdb.Close()
	if cfg.Env == config.Production {
		return nil, nil, fmt.Errorf("redis at %s is unreachable (%v); ENV=production never falls back to the embedded development Redis, whose data dies with the process: point REDIS_URL at a real Redis",
			opts.Addr, oneLine(err))
	}
	if cfg.RedisExplicit {
		return nil, nil, fmt.Errorf("redis at %s is unreachable (%v); start it (e.g. `docker run -d -p 6379:6379 redis:7`) or set REDIS_URL",
			opts.Addr, oneLine(err))
	}
	mr, err := miniredis.Run()
	if err != nil {
		return nil, nil, err
	}
	log.Warn("Redis at " + opts.Addr + " is unreachable: running on an embedded in-memory Redis. Idempotency keys are lost at restart and not shared between instances.")
	rdb = redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	return rdb, func() { _ = rdb.Close(); mr.Close() }, nil
}

// clusterStateReloadInterval is how often the cluster client refreshes its
// map of which node serves which slot. go-redis's default, a minute, kept
// clients failing on a dead master's slots for most of a minute after its
// replica had taken over; Bedrock recommends a second.
const clusterStateReloadInterval = time.Second

// redisClusterOptions returns the options of the cluster that
// REDIS_CLUSTER_ADDRS or a comma-separated REDIS_URL names, or nil when
// the configuration names one server.
func redisClusterOptions(cfg config.Config) (*redis.ClusterOptions, error) {
	opts := &redis.ClusterOptions{Addrs: cfg.RedisClusterAddrs, ContextTimeoutEnabled: true,
		ClusterStateReloadInterval: clusterStateReloadInterval}
	if len(opts.Addrs) > 0 {
		return opts, nil
	}
	if !strings.Contains(cfg.RedisURL, ",") {
		return nil, nil
	}
	for i, u := range strings.Split(cfg.RedisURL, ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		if !strings.Contains(u, "://") {
			u = "redis://" + u
		}
		node, err := redis.ParseURL(u)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: element %d is not a valid Redis URL: %w", i+1, withoutURL(err))
		}
		if node.DB != 0 {
			return nil, fmt.Errorf("REDIS_URL: element %d selects database %d; a Redis Cluster has only database 0", i+1, node.DB)
		}
		if len(opts.Addrs) == 0 {
			opts.Username, opts.Password, opts.TLSConfig = node.Username, node.Password, node.TLSConfig
		}
		opts.Addrs = append(opts.Addrs, node.Addr)
	}
	return opts, nil
}

// connectRedisCluster returns a client of the cluster once it reports
// itself healthy. There is no embedded fallback: whoever names a cluster
// means it.
func connectRedisCluster(ctx context.Context, opts *redis.ClusterOptions) (redis.UniversalClient, func(), error) {
	rdb := redis.NewClusterClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := rdb.ClusterInfo(pingCtx).Result()
	if err == nil && !strings.Contains(info, "cluster_state:ok") {
		err = errors.New("the cluster reports cluster_state:fail")
	}
	if err != nil {
		_ = rdb.Close()
		return nil, nil, fmt.Errorf("redis Cluster at %s is unreachable (%v); check REDIS_CLUSTER_ADDRS or REDIS_URL",
			strings.Join(opts.Addrs, ","), oneLine(err))
	}
	return rdb, func() { _ = rdb.Close() }, nil
}

// connectNATS returns NATS JetStream as a second destination of the
// events, creating the stream that captures them if it does not exist. Its
// connection reconnects forever, logged and counted (events.DialNATS).
func connectNATS(ctx context.Context, url string, mp metric.MeterProvider, log *slog.Logger) (*events.Destination, error) {
	nc, err := events.DialNATS(url, mp, log)
	if err != nil {
		return nil, fmt.Errorf("NATS at %s is unreachable (%v); start it (e.g. `docker run -d -p 4222:4222 nats -js`) or unset NATS_URL", events.RedactNATS(url), oneLine(err))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "SHOP_EVENTS", Subjects: []string{natsSubjectPrefix + ">"}}); err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS JetStream stream: %w", err)
	}
	pub, err := natsjs.New(js, natsjs.Config{SubjectPrefix: natsSubjectPrefix})
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &events.Destination{Name: "nats", Publisher: pub, Check: pub.Check, Close: nc.Close}, nil
}

// natsSubjectPrefix starts the subject of every event published to NATS.
const natsSubjectPrefix = "shop.events."

func oneLine(err error) string {
	s := err.Error()
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// withoutURL drops the URL from a URL-parsing error, which quotes it whole,
// password included: what was wrong with it is enough, and the error
// reaches logs and terminals.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
