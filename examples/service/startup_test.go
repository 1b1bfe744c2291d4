package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/password"

	"github.com/bedrock-go/bedrock/examples/service/internal/app"
	"github.com/bedrock-go/bedrock/examples/service/internal/config"
	"github.com/bedrock-go/bedrock/examples/service/internal/servicetest"
)

// startInstances builds n instances of the service at once, each with a
// pool of its own, on the database of dbURL, as n processes of one
// deployment starting together would, and returns each one's error. The
// instances still running are closed when the test ends.
func startInstances(t *testing.T, n int, dbURL string) []error {
	t.Helper()
	rdb, prefix := servicetest.Redis(t)
	cfg, err := config.Load(envMap(nil))
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	errs := make([]error, n)
	apps := make([]*app.App, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		pool, err := pgxpool.New(context.Background(), dbURL)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start // all at once, not in the order the pools were made
			apps[i], errs[i] = app.New(context.Background(), cfg, pool, rdb, log, app.Options{
				RedisPrefix:    prefix,
				PasswordParams: password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
			})
		}()
	}
	close(start)
	wg.Wait()
	for _, a := range apps {
		if a != nil {
			t.Cleanup(func() { assert.NoError(t, a.Close()) })
		}
	}
	return errs
}

// schema describes the tables, columns, indexes and constraints of the
// public schema of the database of pool, one line each, sorted, and the
// migrations recorded as applied.
func schema(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
		  FROM information_schema.columns WHERE table_schema = 'public'
		UNION ALL
		SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
		UNION ALL
		SELECT 'constraint ' || conrelid::regclass::text || ' ' || pg_get_constraintdef(oid)
		  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
		UNION ALL
		SELECT 'migration ' || name FROM schema_migrations
		ORDER BY 1`)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return lines
}

// TestInstancesStartTogether starts ten instances at once on one empty
// database (issue 23, item 7: 30 of 60 instances started together used to
// exit on the migrations of the sessions and the outbox). Every one must
// start, and the schema must be the one a single instance makes.
func TestInstancesStartTogether(t *testing.T) {
	const n = 10
	pool, dbURL := servicetest.Database(t)
	errs := startInstances(t, n, dbURL)
	for i, err := range errs {
		assert.NoError(t, err, "instance %d of %d", i+1, n)
	}

	refPool, refURL := servicetest.Database(t)
	require.NoError(t, startInstances(t, 1, refURL)[0])
	want := schema(t, refPool)
	require.NotEmpty(t, want)
	for _, table := range []string{"users", "api_keys", "products", "orders", "order_items",
		"session_families", "session_tokens", "outbox_events", "outbox_inbox", "schema_migrations"} {
		assert.True(t, containsPrefix(want, "column "+table+"."), "the schema has the table %s", table)
	}
	assert.Equal(t, want, schema(t, pool), "the schema of %d instances started together is the schema of one", n)
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// TestUnreachableNATSErrorHidesCredentials: the error that stops the start
// when the second destination's NATS is down names the server without its
// password or token, since it reaches logs and terminals.
func TestUnreachableNATSErrorHidesCredentials(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there any more
	for _, url := range []string{"nats://bob:s3cret@" + addr, "nats://t0ken@" + addr} {
		_, err := connectNATS(t.Context(), url, nil, slog.New(slog.DiscardHandler))
		require.Error(t, err)
		assert.Contains(t, err.Error(), addr, "the error names the server")
		assert.NotContains(t, err.Error(), "s3cret")
		assert.NotContains(t, err.Error(), "t0ken")
	}
}
