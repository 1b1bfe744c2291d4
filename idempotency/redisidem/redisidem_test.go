package redisidem_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/idempotency/idempotencytest"
	"github.com/bedrock-go/bedrock/idempotency/redisidem"
	"github.com/bedrock-go/bedrock/internal/testenv"
)

// TestStore_ConformanceOnRealRedis runs the suite against the real server,
// whose clock decides expiry, so the suite sleeps for real (2 x 30ms).
func TestStore_ConformanceOnRealRedis(t *testing.T) {
	idempotencytest.Run(t, idempotencytest.Harness{
		NewStore: func(t *testing.T) idempotency.Store {
			client, prefix := testenv.Redis(t)
			s, err := redisidem.New(client, redisidem.Config{Prefix: prefix})
			require.NoError(t, err)
			return s
		},
		Sleep: time.Sleep,
	})
}

// TestStore_ConformanceOnMiniredis runs the same suite on miniredis, whose
// clock the test moves, as a fast check of the scripts' logic.
func TestStore_ConformanceOnMiniredis(t *testing.T) {
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	n := 0
	idempotencytest.Run(t, idempotencytest.Harness{
		NewStore: func(t *testing.T) idempotency.Store {
			n++
			s, err := redisidem.New(client, redisidem.Config{Prefix: strings.Repeat("p", n) + ":"})
			require.NoError(t, err)
			return s
		},
		Sleep: mr.FastForward,
	})
}

func TestStore_UnreachableRedis(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
	t.Cleanup(func() { client.Close() })
	s, err := redisidem.New(client, redisidem.Config{})
	require.NoError(t, err)
	idempotencytest.Unreachable(t, s)
}

func TestStore_KeysCarryPrefixAndHashTagAndExpire(t *testing.T) {
	client, prefix := testenv.Redis(t)
	s, err := redisidem.New(client, redisidem.Config{Prefix: prefix})
	require.NoError(t, err)
	ctx := context.Background()
	look, err := s.Begin(ctx, "abc", idempotency.Fingerprint{1}, time.Minute)
	require.NoError(t, err)
	keys, err := client.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	require.Equal(t, []string{prefix + "{abc}"}, keys)
	ttl, err := client.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.InDelta(t, time.Minute.Seconds(), ttl.Seconds(), 2, "the lock has the lock TTL")

	require.NoError(t, s.Complete(ctx, "abc", look.Token, &idempotency.Response{Status: 200, Header: http.Header{}}, 24*time.Hour))
	ttl, err = client.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.InDelta(t, (24 * time.Hour).Seconds(), ttl.Seconds(), 2, "the record has the retention TTL")
	token, err := client.HGet(ctx, keys[0], "t").Result()
	assert.ErrorIs(t, err, redis.Nil, "the token is dropped on completion: %q", token)
}

func TestStore_ScriptsSurviveAScriptFlush(t *testing.T) {
	// miniredis only: flushing the shared server's scripts would disturb
	// other packages' tests running beside this one.
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	s, err := redisidem.New(client, redisidem.Config{})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = s.Begin(ctx, "a", idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err)
	// A SCRIPT FLUSH (or a failover to a fresh replica) empties the script
	// cache; EVALSHA then fails with NOSCRIPT and the store must fall back.
	require.NoError(t, client.ScriptFlush(ctx).Err())
	look, err := s.Begin(ctx, "b", idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, idempotency.Acquired, look.State)
	again, err := s.Begin(ctx, "a", idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, idempotency.InProgress, again.State, "state survived the flush")
}

func TestStore_CorruptRecordIsATypedError(t *testing.T) {
	client, prefix := testenv.Redis(t)
	s, err := redisidem.New(client, redisidem.Config{Prefix: prefix})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, client.HSet(ctx, prefix+"{bad}", "s", "D", "f", strings.Repeat("x", 32), "r", "garbage").Err())
	_, err = s.Begin(ctx, "bad", idempotency.Fingerprint{}, time.Minute)
	assert.ErrorIs(t, err, idempotency.ErrCorruptRecord)
}

func TestNew_RejectsNilClient(t *testing.T) {
	_, err := redisidem.New(nil, redisidem.Config{})
	assert.ErrorIs(t, err, redisidem.ErrInvalidConfig)
}

func Example() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store, err := redisidem.New(client, redisidem.Config{Prefix: "shop:idem:"})
	if err != nil {
		panic(err)
	}
	mw, err := idempotency.NewMiddleware(store, idempotency.Config{Required: true})
	if err != nil {
		panic(err)
	}
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}))
	r := httptest.NewRequest(http.MethodPost, "/orders", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r) // no Idempotency-Key on a route that requires one
	_ = w.Code
}

func BenchmarkMiddleware_Redis(b *testing.B) {
	client, prefix := testenv.Redis(b)
	store, err := redisidem.New(client, redisidem.Config{Prefix: prefix})
	require.NoError(b, err)
	mw, err := idempotency.NewMiddleware(store, idempotency.Config{})
	require.NoError(b, err)
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"ord_123"}`))
	}))
	req := func(key string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(`{"sku":"tea"}`))
		r.Header.Set(idempotency.KeyHeader, key)
		return r
	}
	b.Run("replay", func(b *testing.B) {
		h.ServeHTTP(httptest.NewRecorder(), req("k"))
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(httptest.NewRecorder(), req("k"))
		}
	})
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			h.ServeHTTP(httptest.NewRecorder(), req(fmt.Sprint("first-", i)))
		}
	})
}
