package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
)

// Default server addresses, used when the environment variables are unset.
const (
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
	DefaultNATSURL     = "nats://127.0.0.1:4222"
)

// Environment variables that point the tests at other servers.
const (
	PostgresURLEnv = "BEDROCK_POSTGRES_URL"
	RedisURLEnv    = "BEDROCK_REDIS_URL"
	NATSURLEnv     = "BEDROCK_NATS_URL"
	// ChromiumEnv names the Chromium (or Chrome) binary browser tests run,
	// as a path or a name looked up in PATH.
	ChromiumEnv = "BEDROCK_CHROMIUM"
)

// connectTimeout bounds the first contact with a server, which decides
// whether it is there at all; a refused connection fails at once, so only a
// black-holed address waits this long.
const connectTimeout = 10 * time.Second

// cleanupTimeout bounds the work done after a test: dropping a schema of
// dozens of tables commits a large catalog change, which takes seconds on a
// 2-core machine running several test binaries at once (a 5 s budget failed
// there). A cleanup that fails fails the test, so the budget is generous.
const cleanupTimeout = time.Minute

// TB is the part of [testing.TB] that testenv uses. It lets testenv's own
// tests observe a Fatal or Skip without ending the calling test.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Name() string
}

var _ TB = (testing.TB)(nil)

// PostgresURL returns the PostgreSQL URL the tests use.
func PostgresURL() string { return envOr(PostgresURLEnv, DefaultPostgresURL) }

// RedisURL returns the Redis URL the tests use.
func RedisURL() string { return envOr(RedisURLEnv, DefaultRedisURL) }

// NATSURL returns the NATS URL the tests use.
func NATSURL() string { return envOr(NATSURLEnv, DefaultNATSURL) }

// InCI reports whether the tests run in CI (the CI environment variable is
// set to anything but "" or "false"), where a missing service is a failure.
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// unavailable fails the test in CI and skips it elsewhere.
func unavailable(t TB, service, url string, err error, howToStart string) {
	t.Helper()
	if InCI() {
		t.Fatalf("testenv: %s at %s is unreachable and CI is set: %v", service, redact(url), err)
		return
	}
	t.Skipf("testenv: %s at %s is unreachable (%v); start it with `%s` or set %s",
		service, redact(url), err, howToStart, envFor(service))
}

func envFor(service string) string {
	switch service {
	case "PostgreSQL":
		return PostgresURLEnv
	case "NATS":
		return NATSURLEnv
	case "Redis Cluster":
		return RedisClusterAddrsEnv
	case "RabbitMQ":
		return RabbitMQURLEnv
	}
	return RedisURLEnv
}

// NATS returns a connection to the test NATS server (with JetStream, for
// the outbox) and its URL, closed when the test ends. Like Postgres and
// Redis, it fails the test when the server is unreachable and CI is set, and
// skips it otherwise.
func NATS(t TB) (*nats.Conn, string) {
	t.Helper()
	url := NATSURL()
	nc, err := nats.Connect(url, nats.Timeout(connectTimeout))
	if err != nil {
		unavailable(t, "NATS", url, err, "nats-server -js")
		return nil, ""
	}
	t.Cleanup(nc.Close)
	return nc, url
}

// redact hides a password in a URL before it is printed.
func redact(url string) string {
	at := strings.LastIndex(url, "@")
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return url
	}
	userinfo := url[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return url[:scheme+3] + userinfo[:i] + ":xxxxx" + url[at:]
	}
	return url
}

// UniqueName returns prefix followed by the sanitised test name and random
// hex, usable as a PostgreSQL identifier (at most 63 bytes) or a key prefix.
func UniqueName(t TB, prefix string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(rnd[:]))
	return b.String()
}

// Postgres returns a pool connected to the test PostgreSQL server whose
// connections all use a new schema, unique to this test, as their
// search_path. The schema and everything in it is dropped, and the pool
// closed, when the test ends.
func Postgres(t TB) *pgxpool.Pool {
	t.Helper()
	url := PostgresURL()
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()

	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		unavailable(t, "PostgreSQL", url, err,
			"pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
		return nil
	}
	defer admin.Close(context.Background())

	schema := UniqueName(t, "t_")
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("testenv: create schema %s: %v", schema, err)
		return nil
	}
	t.Cleanup(func() { dropSchema(t, url, schema) })

	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("testenv: parse %s: %v", PostgresURLEnv, err)
		return nil
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("testenv: open pool: %v", err)
		return nil
	}
	t.Cleanup(pool.Close)
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("testenv: ping pool: %v", err)
		return nil
	}
	return pool
}

func dropSchema(t TB, url, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("testenv: drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Fatalf("testenv: drop schema %s: %v", schema, err)
	}
}

// RedisOptions returns new options for a client of the test Redis server,
// with ContextTimeoutEnabled set as every Redis-backed package requires. Each
// call returns a fresh value: go-redis clients must not share one. A test
// that plays several processes builds one client per process from them.
func RedisOptions(t TB) *redis.Options {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("testenv: parse %s: %v", RedisURLEnv, err)
		return nil
	}
	opts.DialTimeout = connectTimeout
	opts.ContextTimeoutEnabled = true
	return opts
}

// Redis returns a client for the test Redis server and a key prefix unique to
// this test, ending in ':'. The client is built from [RedisOptions], so it
// honours context deadlines. Every key that starts with the prefix is deleted
// (with SCAN and UNLINK, never FLUSHALL) and the client closed when the test
// ends. Keys should carry the prefix so that parallel tests never collide.
func Redis(t TB) (*redis.Client, string) {
	t.Helper()
	url := RedisURL()
	opts := RedisOptions(t)
	if opts == nil {
		return nil, ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	// Probe once, without the client's dial retries, so an absent server is
	// reported at once.
	probeOpts := RedisOptions(t)
	probeOpts.MaxRetries, probeOpts.DialerRetries = -1, 1
	probe := redis.NewClient(probeOpts)
	err := probe.Ping(ctx).Err()
	_ = probe.Close()
	if err != nil {
		unavailable(t, "Redis", url, err,
			`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`)
		return nil, ""
	}
	client := redis.NewClient(opts)
	return client, cleanPrefix(t, client, "")
}

// cleanPrefix returns a unique key prefix for t and, when t ends, deletes
// its keys (on every master of a cluster) and closes client; where names
// the server in the failure message.
func cleanPrefix(t TB, client redis.UniversalClient, where string) string {
	prefix := UniqueName(t, "bedrocktest:") + ":"
	t.Cleanup(func() {
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := DeletePrefix(ctx, client, prefix); err != nil {
			t.Fatalf("testenv: delete keys %s*%s: %v", prefix, where, err)
		}
	})
	return prefix
}

// DeletePrefix deletes every key that starts with prefix, in batches; on a
// *redis.ClusterClient, on every master.
func DeletePrefix(ctx context.Context, client redis.UniversalClient, prefix string) error {
	if c, ok := client.(*redis.ClusterClient); ok {
		return deleteClusterPrefix(ctx, c, prefix)
	}
	iter := client.Scan(ctx, 0, escapeGlob(prefix)+"*", 500).Iterator()
	batch := make([]string, 0, 500)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := client.Unlink(ctx, batch...).Err()
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	return flush()
}

// escapeGlob escapes the characters that SCAN MATCH treats as patterns.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Chromium returns the path of the Chromium binary that browser tests
// drive: ChromiumEnv when set, else the first of chromium,
// chromium-browser and google-chrome found in PATH. When there is none the
// test fails if CI is set and is skipped otherwise, like a missing server.
func Chromium(t TB) string {
	t.Helper()
	// Debian's package, other distributions' name, and Google's build.
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	if v := os.Getenv(ChromiumEnv); v != "" {
		names = []string{v}
	}
	var err error
	for _, name := range names {
		var path string
		if path, err = exec.LookPath(name); err == nil {
			return path
		}
	}
	if InCI() {
		t.Fatalf("testenv: Chromium is not installed and CI is set: %v", err)
		return ""
	}
	t.Skipf("testenv: Chromium not found (%v); install it with `apt-get install chromium` or set %s", err, ChromiumEnv)
	return ""
}

// Conns opens n connections of their own with pool's configuration (the
// same server and search_path), for a test that plays n processes at once
// where a pool would hand out fewer. They are closed when the test ends.
func Conns(t TB, pool *pgxpool.Pool, n int) []*pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conns := make([]*pgx.Conn, n)
	for i := range conns {
		c, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
		if err != nil {
			t.Fatalf("testenv: open connection %d of %d: %v", i+1, n, err)
			return nil
		}
		conns[i] = c
		t.Cleanup(func() { _ = c.Close(context.Background()) })
	}
	return conns
}
