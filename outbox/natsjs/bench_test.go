package natsjs_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/natsjs"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// BenchmarkRelay_EndToEnd measures keyless events per second from commit
// to JetStream ack and row deleted: one writer commits transactions of
// 50 events while a relay (two loops, batches of 500) publishes to the real
// NATS server, with Nats-Msg-Id set.
func BenchmarkRelay_EndToEnd(b *testing.B) {
	pool := testenv.Postgres(b)
	js, _, prefix := natsJetStream(b)
	ctx := b.Context()
	require.NoError(b, outbox.Migrate(ctx, pool, outbox.MigrateConfig{}))
	rp, err := natsjs.New(js, natsjs.Config{SubjectPrefix: prefix})
	require.NoError(b, err)
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

// BenchmarkConsumer_InboxThroughput measures messages per second that a
// consumer with its default configuration hands to an Inbox handler (one
// PostgreSQL transaction per message) and acknowledges, draining 2,000
// messages over 50 keys (issue 23, item 5).
func BenchmarkConsumer_InboxThroughput(b *testing.B) {
	pool := testenv.Postgres(b)
	js, stream, prefix := natsJetStream(b)
	ctx := b.Context()
	require.NoError(b, outbox.Migrate(ctx, pool, outbox.MigrateConfig{}))
	_, err := pool.Exec(ctx, "CREATE TABLE counts (key text PRIMARY KEY, n bigint NOT NULL)")
	require.NoError(b, err)
	in, err := outbox.NewInbox(outbox.InboxConfig{})
	require.NoError(b, err)
	pub, err := natsjs.New(js, natsjs.Config{SubjectPrefix: prefix})
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
		cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable: topic, AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: pub.Subject(topic),
		})
		require.NoError(b, err)
		c, err := natsjs.NewConsumer(cons, natsjs.ConsumerConfig{MaxWait: 100 * time.Millisecond})
		require.NoError(b, err)
		handled.Store(0)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		b.StartTimer()
		start := time.Now()
		go func() { done <- c.Run(runCtx, h) }()
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
