package redisstream_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/redisstream"
)

// BenchmarkConsumer_InboxThroughput measures events per second that a
// consumer with its default configuration hands to an Inbox handler (one
// PostgreSQL transaction per event: record the id, bump a counter row per
// key) and acknowledges, draining a stream of 2,000 events over 50 keys, as
// the order service does (issue 23, item 5).
func BenchmarkConsumer_InboxThroughput(b *testing.B) {
	pool := testenv.Postgres(b)
	client, prefix := testenv.Redis(b)
	ctx := b.Context()
	require.NoError(b, outbox.Migrate(ctx, pool, outbox.MigrateConfig{}))
	_, err := pool.Exec(ctx, "CREATE TABLE counts (key text PRIMARY KEY, n bigint NOT NULL)")
	require.NoError(b, err)
	in, err := outbox.NewInbox(outbox.InboxConfig{})
	require.NoError(b, err)
	pub, err := redisstream.New(client, redisstream.Config{Prefix: prefix, DisableDedupe: true})
	require.NoError(b, err)
	const events, keys = 2000, 50
	var handled atomic.Int64
	h := in.Handle(pool, func(ctx context.Context, tx pgx.Tx, m outbox.Message) error {
		_, err := tx.Exec(ctx, `INSERT INTO counts VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET n = counts.n + 1`, m.Key)
		if err == nil {
			handled.Add(1)
		}
		return err
	})
	total, round := 0, 0
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		round++
		topic := fmt.Sprintf("bench%d", round)
		msgs := make([]outbox.Message, 0, 500)
		for i := range events {
			msgs = append(msgs, outbox.Message{ID: outbox.NewID(), Topic: topic, Key: fmt.Sprintf("k%d", i%keys), Payload: []byte("payload-of-some-size")})
			if len(msgs) == cap(msgs) {
				require.NoError(b, pub.Publish(ctx, msgs))
				msgs = msgs[:0]
			}
		}
		cons, err := redisstream.NewConsumer(client, redisstream.ConsumerConfig{Stream: pub.StreamKey(topic), Group: "g"})
		require.NoError(b, err)
		handled.Store(0)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		b.StartTimer()
		start := time.Now()
		go func() { done <- cons.Run(runCtx, h) }()
		require.Eventually(b, func() bool { return handled.Load() >= events }, 120*time.Second, time.Millisecond)
		elapsed += time.Since(start)
		b.StopTimer()
		stop()
		require.NoError(b, <-done)
		total += events
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
}
