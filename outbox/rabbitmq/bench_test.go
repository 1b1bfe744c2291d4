package rabbitmq_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/rabbitmq"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// BenchmarkRelay_EndToEnd measures keyless events per second from commit
// to publisher confirm and row deleted: one writer commits transactions of
// 50 events while a relay (two loops, batches of 500) publishes persistent
// messages with the mandatory flag to a quorum queue on the real RabbitMQ,
// as the Redis Streams and NATS JetStream benchmarks do.
func BenchmarkRelay_EndToEnd(b *testing.B) {
	pool := testenv.Postgres(b)
	br := newBroker(b, rabbitmq.Topology{})
	ctx := b.Context()
	require.NoError(b, outbox.Migrate(ctx, pool, outbox.MigrateConfig{}))
	rp := br.publisher(b, rabbitmq.Config{})
	var acked atomic.Int64
	pub := outbox.PublisherFunc(func(ctx context.Context, msgs []outbox.Message) error {
		err := rp.Publish(ctx, msgs)
		if err == nil {
			acked.Add(int64(len(msgs)))
		}
		return err
	})
	relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{BatchSize: 500, Concurrency: 2, PollInterval: 10 * time.Millisecond})
	require.NoError(b, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- relay.Run(runCtx) }()
	msgs := make([]outbox.Message, 50)
	total := 0
	start := time.Now()
	for b.Loop() {
		for i := range msgs {
			msgs[i] = outbox.Message{Topic: "bench", Payload: []byte("payload-of-some-size")}
		}
		require.NoError(b, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return outbox.Enqueue(ctx, tx, msgs...) }))
		total += len(msgs)
	}
	require.Eventually(b, func() bool { return acked.Load() >= int64(total) }, 60*time.Second, time.Millisecond)
	elapsed := time.Since(start)
	stop()
	require.NoError(b, <-done)
	b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
}
