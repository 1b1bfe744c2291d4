package outboxobserve_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/observe/outboxobserve"
	"github.com/bedrock-go/bedrock/outbox"
)

var errBoom = errors.New("boom")

func TestHooks_RecordPublishedLagFailuresAndDeadLetters(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	require.NoError(t, outbox.Migrate(ctx, pool, outbox.MigrateConfig{}))
	m := otelhooktest.NewRecorder(t, "outboxobserve")
	hooks, err := outboxobserve.Hooks(m.MP, "main")
	require.NoError(t, err)
	pub := &outbox.MemoryPublisher{Fail: func(msg outbox.Message) error {
		if string(msg.Payload) == "poison" {
			return errBoom
		}
		return nil
	}}
	relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{
		Mode: outbox.ModePoll, MaxAttempts: 2, RetryInitial: time.Microsecond, RetryMax: time.Microsecond, Hooks: hooks,
	})
	require.NoError(t, err)
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, outbox.Enqueue(ctx, tx,
		outbox.Message{Topic: "orders.created", Key: "order-1", Payload: []byte("a")},
		outbox.Message{Topic: "orders.created", Key: "order-2", Payload: []byte("b")},
		outbox.Message{Topic: "payments.failed", Key: "pay-1", Payload: []byte("poison")},
	))
	require.NoError(t, tx.Commit(ctx))
	for range 3 {
		time.Sleep(time.Millisecond) // past the microsecond retry delay
		_, err := relay.PublishBatch(ctx)
		require.NoError(t, err)
	}
	require.Equal(t, 2, pub.Len())

	assert.Equal(t, map[string]int64{"bedrock.outbox.relay=main": 4}, // 3, then the poison's retry
		m.Counter(t, "bedrock.outbox.claimed", "{message}"))
	assert.Equal(t, map[string]int64{"bedrock.outbox.relay=main,messaging.destination.name=orders.created": 2},
		m.Counter(t, "bedrock.outbox.published", "{message}"))
	assert.Equal(t, map[string]uint64{"bedrock.outbox.relay=main,messaging.destination.name=orders.created": 2},
		m.HistogramCounts(t, "bedrock.outbox.lag"))
	assert.Equal(t, map[string]int64{"bedrock.outbox.relay=main,error.type=_OTHER,messaging.destination.name=payments.failed": 1},
		m.Counter(t, "bedrock.outbox.failed", "{message}"))
	assert.Equal(t, map[string]int64{"bedrock.outbox.relay=main,messaging.destination.name=payments.failed": 1},
		m.Counter(t, "bedrock.outbox.dead_lettered", "{message}"))
}

func BenchmarkHooks_Published(b *testing.B) {
	hooks, err := outboxobserve.Hooks(otelhooktest.NewRecorder(b, "outboxobserve").MP, "main")
	require.NoError(b, err)
	msg := outbox.Message{ID: outbox.NewID(), Topic: "orders.created", Key: "order-1"}
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnPublish(msg, 40*time.Millisecond)
	}
}
