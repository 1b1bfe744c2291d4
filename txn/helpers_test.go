package txn_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/txn"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
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

// proxy forwards TCP between a client and PostgreSQL and can break the
// connection around the client's COMMIT, to produce a commit whose outcome
// the client cannot know.
type proxy struct {
	ln     net.Listener
	target string
	// mode: 0 forward everything; 1 drop COMMIT and close; 2 forward
	// COMMIT, then close before the reply reaches the client.
	mode atomic.Int32
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Add(2)
		var cut atomic.Bool
		closeBoth := func() { _ = client.Close(); _ = server.Close() }
		go func() { // client -> server
			defer p.wg.Done()
			defer closeBoth()
			buf := make([]byte, 64<<10)
			for {
				n, err := client.Read(buf)
				if n > 0 {
					chunk := buf[:n]
					if isCommit(chunk) {
						switch p.mode.Load() {
						case 1:
							return
						case 2:
							// PostgreSQL reads and executes the COMMIT
							// already in its socket before it notices the
							// close; the client never sees the reply.
							cut.Store(true)
							_, _ = server.Write(chunk)
							return
						}
					}
					if _, err := server.Write(chunk); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() { // server -> client
			defer p.wg.Done()
			defer closeBoth()
			buf := make([]byte, 64<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && !cut.Load() {
					if _, werr := client.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// isCommit recognises pgx's COMMIT: a simple-protocol Query message.
func isCommit(b []byte) bool {
	return len(b) > 5 && b[0] == 'Q' && strings.EqualFold(strings.TrimRight(string(b[5:]), "\x00"), "commit")
}

// connThrough opens a single connection to the test schema of pool through
// the proxy.
func connThrough(t *testing.T, pool *pgxpool.Pool, p *proxy) *pgx.Conn {
	t.Helper()
	cfg := pool.Config().ConnConfig.Copy()
	host, port, err := net.SplitHostPort(p.addr())
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
