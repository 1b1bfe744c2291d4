package redisobserve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/observe"
	"github.com/bedrock-go/bedrock/observe/redisobserve"
)

// closedAddr is an address nothing listens on: a listener that was
// closed.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestCheck_PassesWhileRedisAnswersAndFailsWhenItIsGone(t *testing.T) {
	srv := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	check := redisobserve.Check(rdb)
	require.NoError(t, check(context.Background()))

	srv.Close()
	assert.Error(t, check(context.Background()), "a stopped server fails the check")

	down := redis.NewClient(&redis.Options{Addr: closedAddr(t), ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	assert.Error(t, redisobserve.Check(down)(context.Background()))
}

func TestCheck_HonoursTheChecksDeadline(t *testing.T) {
	// A server that accepts connections and never answers: only the
	// context can end the PING.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), ContextTimeoutEnabled: true, MaxRetries: -1,
		ReadTimeout: time.Hour, WriteTimeout: time.Hour})
	t.Cleanup(func() { _ = rdb.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = redisobserve.Check(rdb)(ctx)
	// go-redis turns the context's deadline into the connection's.
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
}

func Example() {
	server, err := miniredis.Run() // stands in for a real Redis here
	if err != nil {
		panic(err)
	}
	defer server.Close()
	rdb := redis.NewClient(&redis.Options{Addr: server.Addr(), ContextTimeoutEnabled: true})
	defer rdb.Close()

	health := observe.NewHealth(observe.HealthConfig{Logger: slog.New(slog.DiscardHandler)})
	health.Register("redis", redisobserve.Check(rdb), observe.CheckOptions{})

	w := httptest.NewRecorder()
	health.Readyz().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var rep observe.Report
	_ = json.Unmarshal(w.Body.Bytes(), &rep)
	fmt.Println(w.Code, rep.Status, rep.Checks["redis"].Status)
	// Output: 200 ok ok
}
