// Package servicetest connects the service's tests to real servers:
// PostgreSQL, Redis, a Redis Cluster, NATS, RabbitMQ, and the Chromium that browser
// tests drive. It is the example's own, small test helper, written only
// against public packages, so that a copy of the example compiles.
//
// Each helper reads its server from an environment variable, with the
// local default in parentheses: DATABASE_URL
// (postgres://postgres@127.0.0.1:5432/test), REDIS_URL
// (redis://127.0.0.1:6379/0), REDIS_CLUSTER_ADDRS (127.0.0.1:7000 to
// 7005), NATS_URL (nats://127.0.0.1:4222), RABBITMQ_URL
// (amqp://guest:guest@127.0.0.1:5672/) and CHROMIUM (chromium,
// chromium-browser or google-chrome in PATH).
//
// [Database] creates a fresh database for each test and drops it when the
// test ends; [Redis] and [RedisCluster] give each test a key prefix of its
// own and delete its keys when it ends.
//
// A missing server fails the test when the CI environment variable is set,
// so that a missing service can never pass CI as a skipped test; elsewhere
// the test is skipped with the command that starts the server.
package servicetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"
)

// Local defaults of the servers, used when the environment variables are
// unset.
const (
	DefaultDatabaseURL       = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedisURL          = "redis://127.0.0.1:6379/0"
	DefaultRedisClusterAddrs = "127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005"
	DefaultNATSURL           = "nats://127.0.0.1:4222"
	DefaultRabbitMQURL       = "amqp://guest:guest@127.0.0.1:5672/"
)

// connectTimeout bounds the first contact with a server; cleanupTimeout the
// work after a test, which a busy machine slows down.
const (
	connectTimeout = 10 * time.Second
	cleanupTimeout = time.Minute
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// InCI reports whether the CI environment variable is set (to anything but
// "", "0" or "false"), where a missing server fails the test.
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "0" && v != "false"
}

// missing fails the test in CI and skips it elsewhere.
func missing(t testing.TB, what string, err error, start string) {
	t.Helper()
	if InCI() {
		t.Fatalf("servicetest: %s is unavailable and CI is set: %v", what, err)
	}
	t.Skipf("servicetest: %s is unavailable (%v); start it with `%s`", what, err, start)
}

// Unique returns prefix followed by the test's name, cut short, and random
// hex: a valid PostgreSQL identifier or Redis key prefix of its own.
func Unique(t testing.TB, prefix string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	return b.String() + "_" + hex.EncodeToString(rnd[:])
}

// Database creates a new, empty database for the test on the server of
// DATABASE_URL, and returns a pool connected to it and its URL (to hand to
// the service as its own DATABASE_URL). The database is dropped, its
// connections ended, when the test ends.
func Database(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	admin := env("DATABASE_URL", DefaultDatabaseURL)
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		missing(t, "PostgreSQL", err, "docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:17")
		return nil, ""
	}
	defer conn.Close(context.Background())
	name := Unique(t, "shop_")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("servicetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, admin, name) })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("servicetest: DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		t.Fatalf("servicetest: connect to %s: %v", name, err)
	}
	t.Cleanup(pool.Close) // before the drop: cleanups run last first
	return pool, u.String()
}

func dropDatabase(t testing.TB, admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Errorf("servicetest: drop database %s: %v", name, err)
		return
	}
	defer conn.Close(context.Background())
	// FORCE ends the connections the service under test may still hold.
	if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("servicetest: drop database %s: %v", name, err)
	}
}

// RedisURL returns the URL of the test Redis.
func RedisURL() string { return env("REDIS_URL", DefaultRedisURL) }

// RedisOptions returns new options for a client of the test Redis, with
// ContextTimeoutEnabled, as the service's own client has.
func RedisOptions(t testing.TB) *redis.Options {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("servicetest: REDIS_URL: %v", err)
	}
	opts.ContextTimeoutEnabled = true
	return opts
}

// Redis returns a client of the test Redis and a key prefix of the test's
// own, ending in ':'. Every key under the prefix is deleted, and the client
// closed, when the test ends.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	client := redis.NewClient(RedisOptions(t))
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		missing(t, "Redis at "+RedisURL(), err, "docker run -d -p 6379:6379 redis:7")
		return nil, ""
	}
	prefix := Unique(t, "shoptest:") + ":"
	t.Cleanup(func() {
		defer client.Close()
		if err := deletePrefix(client, prefix); err != nil {
			t.Errorf("servicetest: delete keys %s*: %v", prefix, err)
		}
	})
	return client, prefix
}

// RedisClusterAddrs returns the nodes of the test Redis Cluster.
func RedisClusterAddrs() []string {
	var addrs []string
	for _, a := range strings.Split(env("REDIS_CLUSTER_ADDRS", DefaultRedisClusterAddrs), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// RedisCluster returns a client of the test Redis Cluster and a key prefix
// of the test's own, free of braces, ending in ':'. Every key under the
// prefix, on every master, is deleted when the test ends.
func RedisCluster(t testing.TB) (*redis.ClusterClient, string) {
	t.Helper()
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: RedisClusterAddrs(), ContextTimeoutEnabled: true})
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	info, err := client.ClusterInfo(ctx).Result()
	if err == nil && !strings.Contains(info, "cluster_state:ok") {
		err = fmt.Errorf("the cluster is not healthy:\n%s", info)
	}
	if err != nil {
		_ = client.Close()
		missing(t, "Redis Cluster at "+strings.Join(RedisClusterAddrs(), ","), err, "bash .ci/run redis-cluster")
		return nil, ""
	}
	prefix := Unique(t, "shoptest:") + ":"
	t.Cleanup(func() {
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		err := client.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return deletePrefix(node, prefix)
		})
		if err != nil {
			t.Errorf("servicetest: delete keys %s* on the cluster: %v", prefix, err)
		}
	})
	return client, prefix
}

// deletePrefix deletes the keys under prefix on one server, one key at a
// time so that a cluster node never sees keys of two slots in one command.
func deletePrefix(client *redis.Client, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
	pipe := client.Pipeline()
	for iter.Next(ctx) {
		pipe.Unlink(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if pipe.Len() == 0 {
		return nil
	}
	_, err := pipe.Exec(ctx)
	return err
}

// NATS returns a connection to the test NATS server (with JetStream) and
// its URL; the connection is closed when the test ends.
func NATS(t testing.TB) (*nats.Conn, string) {
	t.Helper()
	u := env("NATS_URL", DefaultNATSURL)
	nc, err := nats.Connect(u, nats.Timeout(connectTimeout))
	if err != nil {
		missing(t, "NATS at "+u, err, "docker run -d -p 4222:4222 nats -js")
		return nil, ""
	}
	t.Cleanup(nc.Close)
	return nc, u
}

// RabbitMQ returns a connection to the test RabbitMQ and its URL; the
// connection is closed when the test ends.
func RabbitMQ(t testing.TB) (*amqp.Connection, string) {
	t.Helper()
	u := env("RABBITMQ_URL", DefaultRabbitMQURL)
	conn, err := amqp.DialConfig(u, amqp.Config{Dial: amqp.DefaultDial(connectTimeout)})
	if err != nil {
		missing(t, "RabbitMQ", err, "rabbitmq-server -detached")
		return nil, ""
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, u
}

// Chromium returns the path of the Chromium binary browser tests drive:
// CHROMIUM when set (a path, or a name looked up in PATH), else the first
// of chromium, chromium-browser and google-chrome found in PATH.
func Chromium(t testing.TB) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	if v := os.Getenv("CHROMIUM"); v != "" {
		names = []string{v}
	}
	var err error
	for _, name := range names {
		var path string
		if path, err = exec.LookPath(name); err == nil {
			return path
		}
	}
	missing(t, "Chromium", err, "apt-get install chromium")
	return ""
}
