package outbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/outbox"
)

// TestWriter_EachDestinationProgressesOnItsOwn: events written for two
// destinations, each table drained by its own relay; one broker hangs on
// every publish (a frozen connection: nothing fails, nothing arrives, each
// batch waits out its publish timeout), and the other still receives every
// event promptly, in per-key order (issue 23, item 3). With one relay
// fanning out to both brokers, the healthy one waited for the hung one's
// timeout on every batch.
func TestWriter_EachDestinationProgressesOnItsOwn(t *testing.T) {
	pool := setup(t)
	ctx := t.Context()
	for _, table := range []string{"events_redis", "events_nats"} {
		require.NoError(t, outbox.Migrate(ctx, pool, outbox.MigrateConfig{Table: table}))
	}
	w, err := outbox.NewWriter(outbox.WriterConfig{Tables: []string{"events_redis", "events_nats"}})
	require.NoError(t, err)

	healthy := &outbox.MemoryPublisher{}
	hung := &blockingPublisher{entered: make(chan struct{}), release: make(chan struct{})}
	run(t, newRelay(t, pool, healthy, outbox.RelayConfig{Table: "events_redis"}))
	run(t, newRelay(t, pool, hung, outbox.RelayConfig{Table: "events_nats", PublishTimeout: time.Hour}))

	const txs, perTx = 20, 5
	for i := range txs {
		msgs := make([]outbox.Message, perTx)
		for j := range msgs {
			msgs[j] = outbox.Message{Topic: "orders", Key: fmt.Sprintf("k%d", j), Payload: fmt.Appendf(nil, "%d", i)}
		}
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return w.Enqueue(ctx, tx, msgs...) }))
	}
	<-hung.entered
	waitLen(t, healthy, txs*perTx) // bounded: 10s, against the hung side's hour
	last := map[string]int{}
	for _, m := range healthy.Messages() {
		var n int
		_, err := fmt.Sscan(string(m.Payload), &n)
		require.NoError(t, err)
		if prev, ok := last[m.Key]; ok {
			assert.Greater(t, n, prev, "per-key order on %s", m.Key)
		}
		last[m.Key] = n
	}
	var pending int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM events_nats WHERE state = 0").Scan(&pending))
	assert.Equal(t, txs*perTx, pending, "the hung destination keeps its events until its broker is back")
	close(hung.release)
}

func TestWriter_TablesConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  outbox.WriterConfig
		ok   bool
	}{
		{"one table", outbox.WriterConfig{Tables: []string{"a_events"}}, true},
		{"two tables", outbox.WriterConfig{Tables: []string{"a_events", "b_events"}}, true},
		{"both Table and Tables", outbox.WriterConfig{Table: "a_events", Tables: []string{"b_events"}}, false},
		{"twice", outbox.WriterConfig{Tables: []string{"a_events", "a_events"}}, false},
		{"bad name", outbox.WriterConfig{Tables: []string{"a_events", "B events"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := outbox.NewWriter(tc.cfg)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, outbox.ErrInvalidConfig)
			}
		})
	}
}

// The same ID reaches every destination, so consumers of each can tell
// the events apart by ID alone.
func TestWriter_TablesShareIDs(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	require.NoError(t, outbox.Migrate(ctx, pool, outbox.MigrateConfig{Table: "second_events"}))
	w, err := outbox.NewWriter(outbox.WriterConfig{Tables: []string{outbox.DefaultTable, "second_events"}})
	require.NoError(t, err)
	msg := outbox.Message{Topic: "t", Key: "k"}
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return w.Enqueue(ctx, tx, msg) }))
	a, b := &outbox.MemoryPublisher{}, &outbox.MemoryPublisher{}
	drain(t, newRelay(t, pool, a, outbox.RelayConfig{}))
	drain(t, newRelay(t, pool, b, outbox.RelayConfig{Table: "second_events"}))
	require.Equal(t, 1, a.Len())
	require.Equal(t, 1, b.Len())
	assert.Equal(t, a.Messages()[0].ID, b.Messages()[0].ID)
}
