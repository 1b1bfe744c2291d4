package testenv

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoServer answers every chunk with the same bytes, and records what it
// received.
type echoServer struct {
	ln   net.Listener
	mu   sync.Mutex
	got  bytes.Buffer
	seen chan struct{} // receives after each chunk
}

func newEchoServer(t *testing.T) *echoServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	e := &echoServer{ln: ln, seen: make(chan struct{}, 16)}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				buf := make([]byte, 1024)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						e.mu.Lock()
						e.got.Write(buf[:n])
						e.mu.Unlock()
						e.seen <- struct{}{}
						_, _ = c.Write(buf[:n])
					}
					if err != nil {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	return e
}

func (e *echoServer) received() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.got.String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip writes msg and reads the echo.
func roundTrip(t *testing.T, c net.Conn, msg string) (string, error) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	buf := make([]byte, len(msg))
	_, err := io.ReadFull(c, buf)
	return string(buf), err
}

// timesOut reports whether a read on c waits until a short deadline: a
// connection where nothing arrives. Data or a close fails it at once.
func timesOut(t *testing.T, c net.Conn) bool {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
	defer func() { _ = c.SetReadDeadline(time.Time{}) }()
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, os.ErrDeadlineExceeded)
}

func TestClosedAddr_RefusesConnections(t *testing.T) {
	_, err := net.Dial("tcp", ClosedAddr(t))
	assert.Error(t, err)
}

func TestSilentServer_AcceptsAndNeverAnswers(t *testing.T) {
	c := dial(t, SilentServer(t))
	_, err := c.Write([]byte("PING\r\n"))
	require.NoError(t, err)
	assert.True(t, timesOut(t, c), "nothing arrives and the connection stays open")
}

func TestHangUpServer_ClosesEveryConnection(t *testing.T) {
	c := dial(t, HangUpServer(t))
	_, err := c.Read(make([]byte, 1))
	assert.Error(t, err, "EOF or reset")
	assert.False(t, errors.Is(err, os.ErrDeadlineExceeded))
}

func TestProxy_ForwardsBothWays(t *testing.T) {
	e := newEchoServer(t)
	p := NewProxy(t, e.ln.Addr().String())
	got, err := roundTrip(t, dial(t, p.Addr()), "hello")
	require.NoError(t, err)
	assert.Equal(t, "hello", got)
}

func TestProxy_CutClosesEarlierConnectionsOnly(t *testing.T) {
	e := newEchoServer(t)
	p := NewProxy(t, e.ln.Addr().String())
	old := dial(t, p.Addr())
	_, err := roundTrip(t, old, "a")
	require.NoError(t, err)
	p.Cut()
	_, err = old.Read(make([]byte, 1))
	assert.Error(t, err, "the earlier connection is closed")
	got, err := roundTrip(t, dial(t, p.Addr()), "b")
	require.NoError(t, err, "a new connection works")
	assert.Equal(t, "b", got)
}

func TestProxy_FreezeSilencesEarlierConnectionsOnly(t *testing.T) {
	e := newEchoServer(t)
	p := NewProxy(t, e.ln.Addr().String())
	old := dial(t, p.Addr())
	_, err := roundTrip(t, old, "a")
	require.NoError(t, err)
	p.Freeze()
	_, err = old.Write([]byte("lost"))
	require.NoError(t, err, "writing still succeeds, as on a partitioned network")
	assert.True(t, timesOut(t, old), "nothing comes back")
	got, err := roundTrip(t, dial(t, p.Addr()), "b")
	require.NoError(t, err, "a new connection works")
	assert.Equal(t, "b", got)
	assert.Equal(t, "ab", e.received(), "the frozen chunk never reached the server")
}

func TestProxy_Intercept(t *testing.T) {
	e := newEchoServer(t)
	p := NewProxy(t, e.ln.Addr().String())
	p.Intercept(func(chunk []byte) Action {
		switch string(chunk) {
		case "drop":
			return Drop
		case "deliver":
			return DeliverAndCut
		}
		return Forward
	})
	t.Run("forward", func(t *testing.T) {
		got, err := roundTrip(t, dial(t, p.Addr()), "x")
		require.NoError(t, err)
		assert.Equal(t, "x", got)
	})
	t.Run("drop", func(t *testing.T) {
		before := e.received()
		_, err := roundTrip(t, dial(t, p.Addr()), "drop")
		assert.Error(t, err, "the client's connection is closed")
		assert.Equal(t, before, e.received(), "the server never saw the chunk")
	})
	t.Run("deliver and cut", func(t *testing.T) {
		_, err := roundTrip(t, dial(t, p.Addr()), "deliver")
		assert.Error(t, err, "the reply never reaches the client")
		for !strings.Contains(e.received(), "deliver") {
			<-e.seen // the server gets it, however late
		}
	})
	p.Intercept(nil)
	got, err := roundTrip(t, dial(t, p.Addr()), "drop")
	require.NoError(t, err, "a nil function forwards everything again")
	assert.Equal(t, "drop", got)
}

func TestProxy_RefuseIsAServerDownThenBack(t *testing.T) {
	e := newEchoServer(t)
	p := NewProxy(t, e.ln.Addr().String())
	require.NoError(t, p.Refuse(true))
	_, err := net.Dial("tcp", p.Addr())
	require.Error(t, err, "refused while down")
	require.NoError(t, p.Refuse(false))
	got, err := roundTrip(t, dial(t, p.Addr()), "up")
	require.NoError(t, err, "accepted again on the same address")
	assert.Equal(t, "up", got)
}
