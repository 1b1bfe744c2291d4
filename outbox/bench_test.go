package outbox_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = outbox.NewID()
	}
}

func BenchmarkParseID(b *testing.B) {
	id := outbox.NewID()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = outbox.ParseID(id)
	}
}

// BenchmarkRelay_EndToEnd measures events per second from commit to
// publish acknowledged and row deleted, with the in-memory publisher: one
// writer commits transactions of 50 events while a relay (two claim loops,
// batches of 500) drains them. keys=0 means keyless events; otherwise events
// cycle over that many aggregate keys, each of which moves one event per
// batch.
func BenchmarkRelay_EndToEnd(b *testing.B) {
	for _, keys := range []int{0, 1000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			pool := testenv.Postgres(b)
			ctx := b.Context()
			require.NoError(b, outbox.Migrate(ctx, pool, outbox.MigrateConfig{}))
			pub := &outbox.MemoryPublisher{}
			relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{BatchSize: 500, Concurrency: 2, PollInterval: 10 * time.Millisecond})
			require.NoError(b, err)
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- relay.Run(runCtx) }()
			const perTx = 50
			msgs := make([]outbox.Message, perTx)
			total := 0
			start := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				for i := range msgs {
					msgs[i] = outbox.Message{Topic: "bench", Payload: []byte("payload-of-some-size")}
					if keys > 0 {
						msgs[i].Key = strconv.Itoa((total + i) % keys)
					}
				}
				require.NoError(b, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					return outbox.Enqueue(ctx, tx, msgs...)
				}))
				total += perTx
			}
			require.NoError(b, pub.WaitLen(ctx, total))
			elapsed := time.Since(start)
			stop()
			require.NoError(b, <-done)
			b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
		})
	}
}

// BenchmarkRelay_Latency offers 1,000 events/s for one second, each in its
// own transaction, to a relay in ModeNotify, and reports the time from the
// writer's Commit returning to the in-memory publish (p50, p99, max).
// Run it with -benchtime=1x: one iteration is one second of load.
func BenchmarkRelay_Latency(b *testing.B) {
	pool := testenv.Postgres(b)
	ctx := b.Context()
	require.NoError(b, outbox.Migrate(ctx, pool, outbox.MigrateConfig{}))
	const rate, seconds = 1000, 1
	const events = rate * seconds
	var mu sync.Mutex
	published := make([]time.Time, 0, events)
	var committed []time.Time
	pub := outbox.PublisherFunc(func(_ context.Context, msgs []outbox.Message) error {
		now := time.Now()
		mu.Lock()
		for _, m := range msgs {
			i, _ := strconv.Atoi(string(m.Payload))
			for len(published) <= i {
				published = append(published, time.Time{})
			}
			published[i] = now
		}
		mu.Unlock()
		return nil
	})
	relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{Mode: outbox.ModeNotify, PollInterval: time.Second, Concurrency: 2})
	require.NoError(b, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- relay.Run(runCtx) }()
	time.Sleep(50 * time.Millisecond) // let LISTEN start

	var lat []time.Duration
	for b.Loop() {
		mu.Lock()
		published = published[:0]
		mu.Unlock()
		committed = make([]time.Time, events)
		start := time.Now()
		const writers = 8
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := w; i < events; i += writers {
					time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
					err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
						return outbox.Enqueue(ctx, tx, outbox.Message{Topic: "lat", Payload: []byte(strconv.Itoa(i))})
					})
					if err != nil {
						b.Error(err)
						return
					}
					committed[i] = time.Now()
				}
			})
		}
		wg.Wait()
		require.Eventually(b, func() bool {
			mu.Lock()
			defer mu.Unlock()
			n := 0
			for _, t := range published {
				if !t.IsZero() {
					n++
				}
			}
			return n == events
		}, 10*time.Second, time.Millisecond)
		mu.Lock()
		for i := range events {
			lat = append(lat, max(0, published[i].Sub(committed[i])))
		}
		mu.Unlock()
	}
	stop()
	require.NoError(b, <-done)
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}
