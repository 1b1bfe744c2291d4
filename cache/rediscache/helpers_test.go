package rediscache_test

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/internal/testenv"
)

// cluster is the real test Redis plus the key prefix of this test.
type cluster struct {
	base   *redis.Client
	prefix string
}

func newCluster(t *testing.T) cluster {
	t.Helper()
	client, prefix := testenv.Redis(t)
	return cluster{base: client, prefix: prefix}
}

// client returns a new client of its own, as a separate process would have,
// optionally dialling addr instead of the server.
func (c cluster) client(t *testing.T, addr string) *redis.Client {
	t.Helper()
	opts := testenv.RedisOptions(t)
	if addr != "" {
		opts.Addr = addr
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func (c cluster) store(t *testing.T, client *redis.Client, cfg rediscache.Config) *rediscache.Store {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = c.prefix
	}
	s, err := rediscache.New(client, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// process returns a cache with its own client, store and local tier.
func process[K comparable, V any](t *testing.T, c cluster, cfg cache.Config[K, V]) (*cache.Cache[K, V], *rediscache.Store) {
	t.Helper()
	s := c.store(t, c.client(t, ""), rediscache.Config{})
	return newCache(t, s, cfg), s
}

func newCache[K comparable, V any](t *testing.T, s cache.Store, cfg cache.Config[K, V]) *cache.Cache[K, V] {
	t.Helper()
	if cfg.Namespace == "" {
		cfg.Namespace = "t"
	}
	if cfg.StoreTimeout == 0 {
		// The shared test machine can be slow; the degradation tests set
		// their own budget.
		cfg.StoreTimeout = 5 * time.Second
	}
	c, err := cache.New(s, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// proxy forwards TCP connections to a real server, and can cut them all, as
// a network failure or a server restart would.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
	gen    atomic.Int64 // generation of new connections
	frozen atomic.Int64 // connections of earlier generations drop all data
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
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		p.wg.Add(2)
		gen := p.gen.Load()
		go p.pipe(in, out, gen)
		go p.pipe(out, in, gen)
	}
}

func (p *proxy) pipe(dst, src net.Conn, gen int64) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && gen >= p.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// freeze makes the connections made so far silently drop everything, as a
// network partition does; new connections work.
func (p *proxy) freeze() {
	p.frozen.Store(p.gen.Add(1))
}

// cut closes every connection made so far; new ones are still accepted.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}
