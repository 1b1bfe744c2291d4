package servicetest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a server until Cut, which stands for
// an outage of that server: every connection through it is dropped and
// new ones are refused (its port is closed). Restore ends the outage.
type Proxy struct {
	t      testing.TB
	ln     net.Listener
	addr   string
	target string

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	cut   bool
	wg    sync.WaitGroup
}

// NewProxy starts a proxy on a loopback port to target (host:port); it
// stops when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("servicetest: proxy: %v", err)
	}
	p := &Proxy{t: t, ln: ln, addr: ln.Addr().String(), target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept(ln)
	t.Cleanup(p.Cut)
	return p
}

// Addr returns the proxy's address, host:port, the same after Restore.
func (p *Proxy) Addr() string { return p.addr }

// Restore opens the proxy's port again after Cut, on the same address.
func (p *Proxy) Restore() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("servicetest: proxy: reopen %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln, p.cut = ln, false
	p.mu.Unlock()
	p.wg.Add(1)
	go p.accept(ln)
}

// Cut closes the proxy's port and every connection through it, and waits
// for its goroutines. It may be called more than once.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
	ln := p.ln
	p.mu.Unlock()
	_ = ln.Close()
	p.wg.Wait()
}

// track records c, or closes it and reports false once the proxy is cut.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		in, err := ln.Accept()
		if err != nil {
			return
		}
		if !p.track(in) {
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			out, err := net.Dial("tcp", p.target)
			if err != nil || !p.track(out) {
				_ = in.Close()
				return
			}
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				_ = dst.Close()
				_ = src.Close()
				done <- struct{}{}
			}
			go pipe(out, in)
			go pipe(in, out)
			<-done
			<-done
		}()
	}
}
