package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/examples/service/internal/servicetest"
)

// privateRedis starts a redis-server of the test's own on a Unix socket
// (no TCP port, so nothing shared), with appendonly as given, and returns
// a client of it. Without redis-server the test fails in CI and skips
// elsewhere.
func privateRedis(t *testing.T, appendonly string) *redis.Client {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if servicetest.InCI() {
			t.Fatalf("redis-server is not installed and CI is set: %v", err)
		}
		t.Skipf("redis-server is not installed (%v)", err)
	}
	// A short directory: a socket path may not exceed about 100 bytes.
	dir, err := os.MkdirTemp("", "idem")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "r.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--dir", dir, "--save", "", "--appendonly", appendonly)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: sock, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		require.True(t, time.Now().Before(deadline), "the private redis-server did not answer within 10 s")
		time.Sleep(20 * time.Millisecond)
	}
	return rdb
}

// TestIdempotencyDurability holds the start's check of the idempotency
// keys' Redis (issue 23, item 6): a Redis without AOF forgets, at a
// restart, which orders were answered 201, so that a retried order is
// placed again. Production refuses it unless IDEMPOTENCY_ALLOW_VOLATILE
// accepts it; development warns.
func TestIdempotencyDurability(t *testing.T) {
	persistent := privateRedis(t, "yes")
	volatile := privateRedis(t, "no")
	for _, tt := range []struct {
		name    string
		rdb     *redis.Client
		env     string
		allow   string
		wantErr string // "" for a start that goes on
		wantLog string // "" for no warning
	}{
		{"production, AOF", persistent, "production", "", "", ""},
		{"development, AOF", persistent, "development", "", "", ""},
		{"production, no AOF", volatile, "production", "", "appendonly is no", ""},
		{"production, no AOF, override false", volatile, "production", "false", "IDEMPOTENCY_ALLOW_VOLATILE=true to accept it", ""},
		{"production, no AOF, override", volatile, "production", "true", "", "accepted by IDEMPOTENCY_ALLOW_VOLATILE=true"},
		{"development, no AOF", volatile, "development", "", "", "ENV=production would refuse to start"},
		{"override not a boolean", persistent, "production", "yes please", "IDEMPOTENCY_ALLOW_VOLATILE must be true or false", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs logBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			err := checkIdempotencyDurability(context.Background(), tt.rdb, tt.env,
				envMap(map[string]string{allowVolatileEnv: tt.allow}), log)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "\n", "one line")
			} else {
				require.NoError(t, err)
			}
			if tt.wantLog == "" {
				assert.Empty(t, logs.String())
			} else {
				assert.Contains(t, logs.String(), tt.wantLog)
				assert.Contains(t, logs.String(), "level=WARN")
			}
		})
	}
}

// TestIdempotencyDurability_UncheckableRedis: a Redis that refuses CONFIG
// GET (here the embedded development one) cannot be shown to persist, so
// production refuses it and development warns.
func TestIdempotencyDurability_UncheckableRedis(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	defer func() { _ = rdb.Close() }()
	err := checkIdempotencyDurability(context.Background(), rdb, "production", envMap(nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot be checked")
	var logs logBuffer
	require.NoError(t, checkIdempotencyDurability(context.Background(), rdb, "development", envMap(nil), slog.New(slog.NewTextHandler(&logs, nil))))
	assert.Contains(t, logs.String(), "cannot be checked")
}

// TestProductionRefusesVolatileIdempotencyRedis runs main's path with
// ENV=production against a Redis of the test's own without AOF (the
// shared test Redis may persist): the start stops with the line that says
// why.
func TestProductionRefusesVolatileIdempotencyRedis(t *testing.T) {
	env := runEnv(t)
	env["REDIS_URL"] = "unix://" + privateRedis(t, "no").Options().Addr
	var err error
	env["ENV"] = "production"
	env["JWT_KEYS_FILE"] = "unused.json" // the start stops at Redis, before reading it
	env["CURSOR_SECRET"] = strings.Repeat("s", 32)
	err = run(context.Background(), envMap(env), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the Redis of the idempotency keys does not persist every write")
}
