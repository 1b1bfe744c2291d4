package testenv

import (
	"net"
	"sync"
	"sync/atomic"
)

// ClosedAddr returns a loopback address where nothing listens: a server
// that is down, whose connections are refused at once.
func ClosedAddr(t TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: listen: %v", err)
		return ""
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("testenv: close listener: %v", err)
	}
	return addr
}

// SilentServer returns the address of a server that accepts connections and
// never answers nor closes them, as a hung or partitioned server does: a
// client waits until its own deadline. The server stops, and its
// connections close, when the test ends.
func SilentServer(t TB) string {
	t.Helper()
	return listen(t, func(c net.Conn, keep func(net.Conn)) { keep(c) })
}

// HangUpServer returns the address of a server that accepts connections and
// closes each at once, as a server that crashes on every request does: a
// client fails fast with an EOF or a reset. The server stops when the test
// ends.
func HangUpServer(t TB) string {
	t.Helper()
	return listen(t, func(c net.Conn, _ func(net.Conn)) { _ = c.Close() })
}

// listen serves each connection with handle, which may keep it open until
// the test ends.
func listen(t TB, handle func(c net.Conn, keep func(net.Conn))) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: listen: %v", err)
		return ""
	}
	var mu sync.Mutex
	var held []net.Conn
	keep := func(c net.Conn) {
		mu.Lock()
		held = append(held, c)
		mu.Unlock()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(c, keep)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// Action is what a [Proxy] does with a chunk a client sent, as decided by
// the function given to [Proxy.Intercept].
type Action int

const (
	// Forward passes the chunk on to the server.
	Forward Action = iota
	// Drop closes the connection without passing the chunk on: the server
	// never sees it, as when the network fails just before it.
	Drop
	// DeliverAndCut passes the chunk on, then closes the connection before
	// any more of the server's reply reaches the client: the server acts on
	// it, the client never learns the outcome.
	DeliverAndCut
)

// Proxy forwards TCP connections to a real server and breaks them on
// demand, as a network failure, a partition or a server restart would. It
// is safe for concurrent use.
type Proxy struct {
	lnMu      sync.Mutex
	ln        net.Listener // nil while refusing
	addr      string
	target    string
	intercept atomic.Pointer[func([]byte) Action]
	gen       atomic.Int64 // generation of new connections
	frozen    atomic.Int64 // connections of earlier generations drop all data

	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

// NewProxy starts a proxy to target on a loopback port. It closes its
// listener and every connection when the test ends.
func NewProxy(t TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: listen: %v", err)
		return nil
	}
	p := &Proxy{ln: ln, addr: ln.Addr().String(), target: target}
	p.wg.Add(1)
	go p.accept(ln)
	t.Cleanup(func() {
		p.lnMu.Lock()
		if p.ln != nil {
			_ = p.ln.Close()
			p.ln = nil
		}
		p.lnMu.Unlock()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr returns the address clients dial instead of the server's.
func (p *Proxy) Addr() string { return p.addr }

// Refuse(true) closes the proxy's listener, so that every connection
// attempt is refused at once, as when the server is down; Cut closes the
// connections already made. Refuse(false) listens on the same address
// again, as a server that is back. It returns an error only when the
// address cannot be listened on again.
func (p *Proxy) Refuse(on bool) error {
	p.lnMu.Lock()
	defer p.lnMu.Unlock()
	if on {
		if p.ln != nil {
			_ = p.ln.Close()
			p.ln = nil
		}
		return nil
	}
	if p.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.ln = ln
	p.wg.Add(1)
	go p.accept(ln)
	return nil
}

// Cut closes every connection made so far, as a server restart does; new
// connections are still accepted.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// Freeze makes the connections made so far silently drop everything in both
// directions, as a network partition does: nothing fails, nothing arrives.
// New connections work.
func (p *Proxy) Freeze() {
	p.frozen.Store(p.gen.Add(1))
}

// Intercept makes fn decide the fate of every chunk a client sends from now
// on (a chunk is what one read returned: for a small protocol message, the
// whole message). A nil fn forwards everything again.
func (p *Proxy) Intercept(fn func(chunk []byte) Action) {
	if fn == nil {
		p.intercept.Store(nil)
		return
	}
	p.intercept.Store(&fn)
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		client, err := ln.Accept()
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
		c := &proxyConn{p: p, client: client, server: server, gen: p.gen.Load()}
		p.wg.Add(2)
		go c.upstream()
		go c.downstream()
	}
}

// proxyConn is one client connection and its connection to the server.
type proxyConn struct {
	p              *Proxy
	client, server net.Conn
	gen            int64
	cut            atomic.Bool // the server's reply must not reach the client
}

func (c *proxyConn) close() { _ = c.client.Close(); _ = c.server.Close() }

func (c *proxyConn) live() bool { return c.gen >= c.p.frozen.Load() }

func (c *proxyConn) upstream() {
	defer c.p.wg.Done()
	defer c.close()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.client.Read(buf)
		if n > 0 && c.live() {
			action := Forward
			if fn := c.p.intercept.Load(); fn != nil {
				action = (*fn)(buf[:n])
			}
			switch action {
			case Drop:
				return
			case DeliverAndCut:
				// A server reads and acts on what is already in its socket
				// before it notices the close.
				c.cut.Store(true)
				_, _ = c.server.Write(buf[:n])
				return
			}
			if _, werr := c.server.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (c *proxyConn) downstream() {
	defer c.p.wg.Done()
	defer c.close()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.server.Read(buf)
		if n > 0 && c.live() && !c.cut.Load() {
			if _, werr := c.client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
