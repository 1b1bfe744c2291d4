package txn_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/txn"
)

// newPool returns a pool in a fresh schema with room for maxConns
// connections, so that concurrency tests really run transactions side by
// side instead of queueing for testenv's default few connections.
func newPool(t *testing.T, maxConns int32) *pgxpool.Pool {
	t.Helper()
	base := testenv.Postgres(t)
	cfg := base.Config()
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

func mustExec(t *testing.T, q txn.Querier, sql string, args ...any) {
	t.Helper()
	_, err := q.Exec(context.Background(), sql, args...)
	require.NoError(t, err, sql)
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), sql, args...).Scan(&n), sql)
	return n
}

// barrier releases its waiters once n of them have arrived.
type barrier struct {
	n       int32
	arrived atomic.Int32
	once    sync.Once
	ch      chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: int32(n), ch: make(chan struct{})} }

func (b *barrier) wait(ctx context.Context) error {
	if b.arrived.Add(1) == b.n {
		b.once.Do(func() { close(b.ch) })
	}
	select {
	case <-b.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// isCommit recognises pgx's COMMIT: a simple-protocol Query message.
func isCommit(b []byte) bool {
	return len(b) > 5 && b[0] == 'Q' && strings.EqualFold(strings.TrimRight(string(b[5:]), "\x00"), "commit")
}

// connThrough opens a single connection to the test schema of pool through
// the proxy.
func connThrough(t *testing.T, pool *pgxpool.Pool, p *testenv.Proxy) *pgx.Conn {
	t.Helper()
	cfg := pool.Config().ConnConfig.Copy()
	host, port, err := net.SplitHostPort(p.Addr())
	require.NoError(t, err)
	cfg.Host = host
	var portN uint16
	for _, c := range port {
		portN = portN*10 + uint16(c-'0')
	}
	cfg.Port = portN
	cfg.Fallbacks = nil
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}
