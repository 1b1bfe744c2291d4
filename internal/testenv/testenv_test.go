package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/redisclient"
)

func TestPostgres_SchemaIsIsolatedAndDropped(t *testing.T) {
	var schema string
	t.Run("inner", func(t *testing.T) {
		pool := Postgres(t)
		ctx := context.Background()
		require.NoError(t, pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema))
		assert.True(t, strings.HasPrefix(schema, "t_"), "schema %q", schema)
		_, err := pool.Exec(ctx, "CREATE TABLE widgets (id int PRIMARY KEY)")
		require.NoError(t, err)
		_, err = pool.Exec(ctx, "INSERT INTO widgets VALUES (1)")
		require.NoError(t, err)
	})
	require.NotEmpty(t, schema)

	pool := Postgres(t)
	var other string
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT current_schema()").Scan(&other))
	assert.NotEqual(t, schema, other, "each call gets its own schema")

	var exists bool
	require.NoError(t, pool.QueryRow(context.Background(),
		"SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists))
	assert.False(t, exists, "schema %s must be dropped after its test", schema)
}

func TestPostgres_ParallelTestsDoNotShareTables(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			pool := Postgres(t)
			ctx := context.Background()
			_, err := pool.Exec(ctx, "CREATE TABLE items (n int)")
			require.NoError(t, err, "the same table name in parallel tests must not collide")
			_, err = pool.Exec(ctx, "INSERT INTO items VALUES ($1)", i)
			require.NoError(t, err)
			var count, n int
			require.NoError(t, pool.QueryRow(ctx, "SELECT count(*), max(n) FROM items").Scan(&count, &n))
			assert.Equal(t, 1, count)
			assert.Equal(t, i, n)
		})
	}
}

func TestRedis_PrefixKeysAreDeletedOnCleanup(t *testing.T) {
	var prefix string
	t.Run("inner", func(t *testing.T) {
		client, p := Redis(t)
		prefix = p
		ctx := context.Background()
		assert.True(t, strings.HasSuffix(p, ":"))
		for i := range 1200 { // more than one SCAN/UNLINK batch
			require.NoError(t, client.Set(ctx, fmt.Sprintf("%sk%d", p, i), i, time.Minute).Err())
		}
	})
	client, other := Redis(t)
	assert.NotEqual(t, prefix, other)
	keys, err := client.Keys(context.Background(), escapeGlob(prefix)+"*").Result()
	require.NoError(t, err)
	assert.Empty(t, keys, "keys under %s must be deleted after the test", prefix)
}

func TestRedis_CleanupLeavesOtherKeys(t *testing.T) {
	client, prefix := Redis(t)
	ctx := context.Background()
	outside := strings.TrimSuffix(prefix, ":") + "-outside"
	require.NoError(t, client.Set(ctx, outside, "keep", time.Minute).Err())
	t.Cleanup(func() { client.Del(context.Background(), outside) })
	t.Run("inner", func(t *testing.T) {
		inner, p := Redis(t)
		require.NoError(t, inner.Set(ctx, p+"x", 1, time.Minute).Err())
	})
	v, err := client.Get(ctx, outside).Result()
	require.NoError(t, err)
	assert.Equal(t, "keep", v)
}

// recorder is a TB that records Fatal and Skip instead of ending the test.
type recorder struct {
	testing.TB
	fatal, skip string
	cleanups    []func()
}

func (r *recorder) Helper()                        {}
func (r *recorder) Name() string                   { return "Recorder" }
func (r *recorder) Cleanup(f func())               { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }
func (r *recorder) Skipf(format string, a ...any)  { r.skip = fmt.Sprintf(format, a...) }

func TestUnreachableServers_FailInCIAndSkipElsewhere(t *testing.T) {
	cases := []struct {
		name     string
		ci       string
		wantFail bool
	}{
		{"ci set fails", "true", true},
		{"ci unset skips", "", false},
		{"ci false skips", "false", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			// Port 1 on loopback refuses connections at once.
			t.Setenv(PostgresURLEnv, "postgres://postgres:secret@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
			t.Setenv(RedisURLEnv, "redis://127.0.0.1:1/0")

			pg := &recorder{}
			assert.Nil(t, Postgres(pg))
			rd := &recorder{}
			c, p := Redis(rd)
			assert.Nil(t, c)
			assert.Empty(t, p)

			for _, r := range []*recorder{pg, rd} {
				if tc.wantFail {
					assert.Contains(t, r.fatal, "unreachable and CI is set")
					assert.Empty(t, r.skip)
				} else {
					assert.Empty(t, r.fatal)
					assert.Contains(t, r.skip, "start it with")
				}
			}
			assert.NotContains(t, pg.fatal+pg.skip, "secret", "passwords are redacted")
		})
	}
}

func TestUniqueName_IsAValidIdentifier(t *testing.T) {
	r := &recorder{}
	a, b := UniqueName(r, "t_"), UniqueName(r, "t_")
	assert.NotEqual(t, a, b)
	assert.LessOrEqual(t, len(a), 63)
	for _, c := range a {
		assert.True(t, c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'), "char %q", c)
	}
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"postgres://u:pw@h/db":     "postgres://u:xxxxx@h/db",
		"postgres://u@h/db":        "postgres://u@h/db",
		"redis://127.0.0.1:6379/0": "redis://127.0.0.1:6379/0",
		"redis://:pw@h:6379":       "redis://:xxxxx@h:6379",
	}
	for in, want := range cases {
		assert.Equal(t, want, redact(in), in)
	}
}

func TestNATS_ConnectsAndFailsInCI(t *testing.T) {
	nc, url := NATS(t)
	assert.True(t, nc.IsConnected())
	assert.Equal(t, NATSURL(), url)

	t.Setenv("CI", "true")
	t.Setenv(NATSURLEnv, "nats://127.0.0.1:1")
	r := &recorder{}
	c, _ := NATS(r)
	assert.Nil(t, c)
	assert.Contains(t, r.fatal, "unreachable and CI is set")
}

func TestRabbitMQ_ConnectsAndFailsInCI(t *testing.T) {
	conn, url := RabbitMQ(t)
	assert.False(t, conn.IsClosed())
	assert.Equal(t, RabbitMQURL(), url)

	t.Setenv("CI", "true")
	t.Setenv(RabbitMQURLEnv, "amqp://guest:guest@127.0.0.1:1/")
	r := &recorder{}
	c, _ := RabbitMQ(r)
	assert.Nil(t, c)
	assert.Contains(t, r.fatal, "unreachable and CI is set")
	assert.NotContains(t, r.fatal, "guest:guest", "the password is redacted")

	t.Setenv("CI", "")
	r = &recorder{}
	c, _ = RabbitMQ(r)
	assert.Nil(t, c)
	assert.Contains(t, r.skip, "rabbitmq-server -detached")
	assert.Contains(t, r.skip, RabbitMQURLEnv)
}

func TestChromium_FoundOrFailsInCI(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "chromium")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755))
	empty := t.TempDir()

	cases := []struct {
		name, path, env, ci string
		want, fatal, skip   string
	}{
		{"found in PATH", dir, "", "true", fake, "", ""},
		{"named by the variable", empty, fake, "true", fake, "", ""},
		{"missing in CI fails", empty, "", "true", "", "not installed and CI is set", ""},
		{"missing elsewhere skips", empty, "", "", "", "", "apt-get install chromium"},
		{"a wrong variable is not second-guessed", dir, filepath.Join(empty, "chrome"), "true", "", "not installed and CI is set", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			t.Setenv(ChromiumEnv, tc.env)
			t.Setenv("CI", tc.ci)
			r := &recorder{}
			assert.Equal(t, tc.want, Chromium(r))
			if tc.fatal != "" {
				assert.Contains(t, r.fatal, tc.fatal)
			} else {
				assert.Empty(t, r.fatal)
			}
			if tc.skip != "" {
				assert.Contains(t, r.skip, tc.skip)
			} else {
				assert.Empty(t, r.skip)
			}
		})
	}
}

// The clients testenv builds pass the rule every Redis-backed package
// applies, so tests use them as they are.
func TestRedis_ClientHonoursContextDeadlines(t *testing.T) {
	invalid := errors.New("invalid config")
	client, _ := Redis(t)
	assert.NoError(t, redisclient.Check(client, invalid))
	other := redis.NewClient(RedisOptions(t))
	t.Cleanup(func() { _ = other.Close() })
	assert.NoError(t, redisclient.Check(other, invalid))
}
