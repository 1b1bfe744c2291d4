package txn_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/txn"
)

// poolAt returns a pool of the test database's settings that dials addr
// instead, and counts the attempts of a Runner on it.
func poolAt(t *testing.T, addr string) *pgxpool.Pool {
	t.Helper()
	cfg := testenv.Postgres(t).Config().Copy()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	portN, err := strconv.ParseUint(port, 10, 16)
	require.NoError(t, err)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, uint16(portN)
	cfg.ConnConfig.Fallbacks = nil
	cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	cfg.MinConns = 0
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// TestDo_DatabaseDownIsUnavailableAtOnce: with PostgreSQL unreachable, Do
// gives up after MaxConnectAttempts (not the whole retry budget, which took
// seconds) with an error matching ErrUnavailable that still wraps the
// driver's connect error, and never with ErrRetriesExhausted, which a
// service would report as contention (issue 23, item 9).
func TestDo_DatabaseDownIsUnavailableAtOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		maxConnect   int
		wantAttempts int
	}{
		{"default", 0, txn.DefaultMaxConnectAttempts},
		{"no retry", 1, 1},
		{"three", 3, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := poolAt(t, testenv.ClosedAddr(t))
			attempts := 0
			r, err := txn.New(pool, txn.Config{MaxConnectAttempts: tc.maxConnect, Hooks: txn.Hooks{
				OnAttempt: func(context.Context, txn.Attempt) { attempts++ },
			}})
			require.NoError(t, err)
			ran := false
			start := time.Now()
			err = r.Do(context.Background(), func(context.Context, pgx.Tx) error { ran = true; return nil })
			elapsed := time.Since(start)
			require.ErrorIs(t, err, txn.ErrUnavailable)
			assert.NotErrorIs(t, err, txn.ErrRetriesExhausted)
			var ue *txn.UnavailableError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, tc.wantAttempts, ue.Attempts)
			var ce *pgconn.ConnectError
			assert.ErrorAs(t, err, &ce, "the driver's error stays reachable")
			assert.Equal(t, tc.wantAttempts, attempts)
			assert.False(t, ran, "the function never runs without a transaction")
			assert.Less(t, elapsed, 2*time.Second, "a refused connection is reported fast")
		})
	}
}

// TestDo_HungDatabaseIsUnavailableAfterBeginTimeout: a server that accepts
// connections and never answers holds BEGIN until the begin timeout, then
// Do reports ErrUnavailable without retrying, while the caller's context is
// still alive (issue 23, item 9).
func TestDo_HungDatabaseIsUnavailableAfterBeginTimeout(t *testing.T) {
	t.Parallel()
	pool := poolAt(t, testenv.SilentServer(t))
	attempts := 0
	r, err := txn.New(pool, txn.Config{BeginTimeout: 50 * time.Millisecond, Hooks: txn.Hooks{
		OnAttempt: func(context.Context, txn.Attempt) { attempts++ },
	}})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = r.Do(ctx, func(context.Context, pgx.Tx) error { return nil })
	require.ErrorIs(t, err, txn.ErrUnavailable)
	assert.Equal(t, 1, attempts, "a begin that already waited is not retried")
	assert.NoError(t, ctx.Err())
}

// TestDo_CancelledContextIsNotUnavailable: the caller's own cancellation is
// never reported as a dependency outage.
func TestDo_CancelledContextIsNotUnavailable(t *testing.T) {
	t.Parallel()
	pool := poolAt(t, testenv.SilentServer(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := txn.Do(ctx, pool, func(context.Context, pgx.Tx) error { return nil })
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.Is(err, txn.ErrUnavailable))
}

func TestNew_RejectsNegativeConnectSettings(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	for _, cfg := range []txn.Config{{MaxConnectAttempts: -1}, {BeginTimeout: -time.Second}} {
		_, err := txn.New(pool, cfg)
		assert.ErrorIs(t, err, txn.ErrInvalidConfig)
	}
}

// Reads outside a transaction get the driver's errors; IsUnavailable tells
// an outage (503) from a bug (500) there too (issue 23, item 9).
func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	down := poolAt(t, testenv.ClosedAddr(t))
	_, queryErr := down.Exec(context.Background(), "SELECT 1")
	require.Error(t, queryErr)
	up := testenv.Postgres(t)
	_, syntaxErr := up.Exec(context.Background(), "SELEC 1")
	require.Error(t, syntaxErr)
	doErr := txn.Do(context.Background(), down, func(context.Context, pgx.Tx) error { return nil })
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"query on a database that is down", queryErr, true},
		{"Do on a database that is down", doErr, true},
		{"connection closed", pgconn.ErrConnClosed, true},
		{"admin shutdown", &pgconn.PgError{Severity: "FATAL", Code: "57P01"}, true},
		{"connection exception", &pgconn.PgError{Severity: "ERROR", Code: "08006"}, true},
		{"syntax error", syntaxErr, false},
		{"serialization failure", &pgconn.PgError{Severity: "ERROR", Code: "40001"}, false},
		{"canceled", context.Canceled, false},
		{"nil", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, txn.IsUnavailable(tc.err), "%v", tc.err)
		})
	}
}
