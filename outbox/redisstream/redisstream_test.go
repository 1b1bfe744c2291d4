package redisstream_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/outboxtest"
	"github.com/bedrock-go/bedrock/outbox/redisstream"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func msg(topic, key, payload string) outbox.Message {
	return outbox.Message{ID: outbox.NewID(), Topic: topic, Key: key, Payload: []byte(payload),
		Headers: map[string]string{"traceparent": "00-1-2-01"}}
}

func TestPublisher_AppendsInOrderAndDeduplicates(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     redisstream.Config
		streams int
		dups    bool
	}{
		{"stream per topic", redisstream.Config{}, 2, false},
		{"one stream", redisstream.Config{Stream: "all"}, 1, false},
		{"dedupe disabled", redisstream.Config{DisableDedupe: true}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, prefix := testenv.Redis(t)
			tc.cfg.Prefix = prefix
			pub, err := redisstream.New(client, tc.cfg)
			require.NoError(t, err)
			msgs := []outbox.Message{msg("a", "k", "1"), msg("b", "k", "2"), msg("a", "", "3")}
			require.NoError(t, pub.Publish(t.Context(), msgs))
			require.NoError(t, pub.Publish(t.Context(), msgs[:2]), "a republished batch")

			var got []outbox.Message
			seen := map[string]bool{}
			for _, m := range msgs {
				key := pub.StreamKey(m.Topic)
				if seen[key] {
					continue
				}
				seen[key] = true
				entries, err := client.XRange(t.Context(), key, "-", "+").Result()
				require.NoError(t, err)
				for _, e := range entries {
					dm, err := redisstream.Decode(e.Values)
					require.NoError(t, err)
					got = append(got, dm)
				}
			}
			assert.Len(t, seen, tc.streams)
			if tc.dups {
				assert.Len(t, got, 5)
				return
			}
			require.Len(t, got, 3)
			byID := map[string]outbox.Message{}
			for _, m := range got {
				byID[m.ID] = m
			}
			for _, m := range msgs {
				assert.Equal(t, m.Payload, byID[m.ID].Payload)
				assert.Equal(t, m.Key, byID[m.ID].Key)
				assert.Equal(t, m.Topic, byID[m.ID].Topic)
				assert.Equal(t, "00-1-2-01", byID[m.ID].Headers["traceparent"])
			}
		})
	}
}

func TestPublisher_MaxLenTrims(t *testing.T) {
	client, prefix := testenv.Redis(t)
	pub, err := redisstream.New(client, redisstream.Config{Prefix: prefix, MaxLen: 10, DisableDedupe: true})
	require.NoError(t, err)
	for range 250 {
		require.NoError(t, pub.Publish(t.Context(), []outbox.Message{msg("t", "", "x")}))
	}
	n, err := client.XLen(t.Context(), pub.StreamKey("t")).Result()
	require.NoError(t, err)
	assert.Less(t, n, int64(250), "MAXLEN ~ trims by whole nodes of 100 entries")
}

func TestPublisher_ServerDown(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	defer client.Close()
	pub, err := redisstream.New(client, redisstream.Config{})
	require.NoError(t, err)
	err = pub.Publish(t.Context(), []outbox.Message{msg("t", "", "x"), msg("t", "", "y")})
	var pe *outbox.PublishError
	require.ErrorAs(t, err, &pe)
	assert.Len(t, pe.Errs, 2)
	assert.Error(t, pe.Errs[0])
}

func TestNew_RejectsBadConfig(t *testing.T) {
	client := redis.NewClient(&redis.Options{ContextTimeoutEnabled: true})
	defer client.Close()
	for name, cfg := range map[string]redisstream.Config{
		"negative MaxLen": {MaxLen: -1},
		"negative window": {DedupeWindow: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := redisstream.New(client, cfg)
			assert.ErrorIs(t, err, redisstream.ErrInvalidConfig)
		})
	}
	_, err := redisstream.New(nil, redisstream.Config{})
	assert.ErrorIs(t, err, redisstream.ErrInvalidConfig)
	_, err = redisstream.NewConsumer(client, redisstream.ConsumerConfig{Stream: "s"})
	assert.ErrorIs(t, err, redisstream.ErrInvalidConfig)
}

// TestEndToEnd enqueues in PostgreSQL, relays to Redis, and consumes with
// the inbox; a handler failure and a crashed consumer's pending entry are
// both recovered, and every event has exactly one effect.
func TestEndToEnd_OutboxRelayConsumerInbox(t *testing.T) {
	pool := testenv.Postgres(t)
	client, prefix := testenv.Redis(t)
	ctx := t.Context()
	require.NoError(t, outbox.Migrate(ctx, pool, outbox.MigrateConfig{}))
	_, err := pool.Exec(ctx, `CREATE TABLE effects (id text PRIMARY KEY, key text, payload text)`)
	require.NoError(t, err)

	pub, err := redisstream.New(client, redisstream.Config{Prefix: prefix})
	require.NoError(t, err)
	relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{})
	require.NoError(t, err)
	const events = 30
	for i := range events {
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return outbox.Enqueue(ctx, tx, outbox.Message{Topic: "orders", Key: fmt.Sprint(i % 3), Payload: fmt.Appendf(nil, "%d", i)})
		}))
	}
	for {
		n, err := relay.PublishBatch(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}

	// A consumer that reads one entry and dies before acknowledging it.
	stream := pub.StreamKey("orders")
	_, err = client.XGroupCreateMkStream(ctx, stream, "g", "0").Result()
	require.NoError(t, err)
	_, err = client.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "dead", Streams: []string{stream, ">"}, Count: 1}).Result()
	require.NoError(t, err)

	inbox, err := outbox.NewInbox(outbox.InboxConfig{})
	require.NoError(t, err)
	var mu sync.Mutex
	failedOnce := map[string]bool{}
	handler := inbox.Handle(pool, func(ctx context.Context, tx pgx.Tx, m outbox.Message) error {
		mu.Lock()
		first := !failedOnce[m.ID] && m.Payload[0] == '7'
		failedOnce[m.ID] = true
		mu.Unlock()
		if first {
			return errors.New("transient")
		}
		_, err := tx.Exec(ctx, `INSERT INTO effects VALUES ($1, $2, $3)`, m.ID, m.Key, string(m.Payload))
		return err
	})
	cons, err := redisstream.NewConsumer(client, redisstream.ConsumerConfig{
		Stream: stream, Group: "g", Name: "live", MinIdle: 5 * time.Millisecond, Block: 5 * time.Millisecond,
	})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cons.Run(runCtx, handler) }()
	require.Eventually(t, func() bool {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM effects`).Scan(&n)
		pending, _ := client.XPending(ctx, stream, "g").Result()
		return n == events && pending != nil && pending.Count == 0
	}, 10*time.Second, 5*time.Millisecond)
	stop()
	require.NoError(t, <-done)
}

func TestPublisher_Conforms(t *testing.T) {
	outboxtest.Run(t, outboxtest.Harness{
		New: func(t *testing.T) (outbox.Publisher, outboxtest.ReadFunc) {
			client, prefix := testenv.Redis(t)
			pub, err := redisstream.New(client, redisstream.Config{Prefix: prefix, Stream: "all"})
			require.NoError(t, err)
			return pub, func(t *testing.T) []outbox.Message {
				entries, err := client.XRange(t.Context(), pub.StreamKey(""), "-", "+").Result()
				require.NoError(t, err)
				msgs := make([]outbox.Message, len(entries))
				for i, e := range entries {
					msgs[i], err = redisstream.Decode(e.Values)
					require.NoError(t, err)
				}
				return msgs
			}
		},
		Pool: func(t *testing.T) *pgxpool.Pool { return testenv.Postgres(t) },
	})
}
