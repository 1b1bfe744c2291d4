package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setup returns a pool on a fresh schema with the outbox tables created.
func setup(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := testenv.Postgres(t)
	require.NoError(t, outbox.Migrate(t.Context(), pool, outbox.MigrateConfig{}))
	return pool
}

func enqueue(t testing.TB, pool *pgxpool.Pool, msgs ...outbox.Message) {
	t.Helper()
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		return outbox.Enqueue(context.Background(), tx, msgs...)
	})
	require.NoError(t, err)
}

func newRelay(t testing.TB, pool *pgxpool.Pool, pub outbox.Publisher, cfg outbox.RelayConfig) *outbox.Relay {
	t.Helper()
	r, err := outbox.NewRelay(pool, pub, cfg)
	require.NoError(t, err)
	return r
}

// drain publishes batches until one comes back empty.
func drain(t testing.TB, r *outbox.Relay) int {
	t.Helper()
	total := 0
	for {
		n, err := r.PublishBatch(context.Background())
		require.NoError(t, err)
		if n == 0 {
			return total
		}
		total += n
	}
}

func countRows(t testing.TB, pool *pgxpool.Pool, where string) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		"SELECT count(*) FROM outbox_events WHERE "+where).Scan(&n))
	return n
}

func TestRelay_OnlyCommittedEventsArrive(t *testing.T) {
	pool := setup(t)
	ctx := t.Context()
	enqueue(t, pool, outbox.Message{Topic: "orders", Key: "o1", Payload: []byte("committed"),
		Headers: map[string]string{"traceparent": "00-abc-def-01"}})

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, outbox.Enqueue(ctx, tx, outbox.Message{Topic: "orders", Key: "o2", Payload: []byte("rolled back")}))
	require.NoError(t, tx.Rollback(ctx))

	pub := &outbox.MemoryPublisher{}
	relay := newRelay(t, pool, pub, outbox.RelayConfig{})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- relay.Run(runCtx) }()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, pub.WaitLen(wctx, 1))
	stop()
	require.NoError(t, <-done)

	msgs := pub.Messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, "committed", string(msgs[0].Payload))
	assert.Equal(t, "o1", msgs[0].Key)
	assert.Equal(t, "00-abc-def-01", msgs[0].Headers["traceparent"])
	_, err = outbox.ParseID(msgs[0].ID)
	assert.NoError(t, err)
	assert.Zero(t, countRows(t, pool, "true"), "published events are deleted with zero retention")
}

func TestRelay_PerKeyOrderAndParking(t *testing.T) {
	pool := setup(t)
	var failKey2 = true
	pub := &outbox.MemoryPublisher{Fail: func(m outbox.Message) error {
		if failKey2 && m.Key == "k2" && string(m.Payload) == "0" {
			return errors.New("broker rejected")
		}
		return nil
	}}
	for i := range 5 {
		for _, k := range []string{"k1", "k2", ""} {
			enqueue(t, pool, outbox.Message{Topic: "t", Key: k, Payload: fmt.Appendf(nil, "%d", i)})
		}
	}
	relay := newRelay(t, pool, pub, outbox.RelayConfig{
		RetryInitial: time.Hour, RetryMax: time.Hour})

	// One event per key per batch: k1 advances one step per batch, k2 is
	// parked behind its failing head, keyless events flow at once.
	n, err := relay.PublishBatch(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 7, n, "heads of k1 and k2 plus five keyless events")
	drain(t, relay)
	byKey := map[string][]string{}
	for _, m := range pub.Messages() {
		byKey[m.Key] = append(byKey[m.Key], string(m.Payload))
	}
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, byKey["k1"])
	assert.Empty(t, byKey["k2"], "k2 is parked behind its failed head")
	assert.Len(t, byKey[""], 5)

	var attempts int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT attempts FROM outbox_events WHERE key = 'k2' ORDER BY seq LIMIT 1`).Scan(&attempts))
	assert.Equal(t, 1, attempts, "the head waits for its backoff before the next attempt")

	// Make the retry due now instead of in an hour.
	failKey2 = false
	_, err = pool.Exec(t.Context(), `UPDATE outbox_events SET available_at = now()`)
	require.NoError(t, err)
	drain(t, relay)
	byKey = map[string][]string{}
	for _, m := range pub.Messages() {
		byKey[m.Key] = append(byKey[m.Key], string(m.Payload))
	}
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, byKey["k2"])
}

func TestRelay_DeadLetterAndRequeue(t *testing.T) {
	pool := setup(t)
	broken := true
	pub := &outbox.MemoryPublisher{Fail: func(m outbox.Message) error {
		if broken && string(m.Payload) == "poison" {
			return errors.New("poison")
		}
		return nil
	}}
	var dead []string
	relay := newRelay(t, pool, pub, outbox.RelayConfig{
		MaxAttempts: 3, RetryInitial: time.Microsecond, RetryMax: time.Microsecond,
		Hooks: outbox.Hooks{OnDeadLetter: func(m outbox.Message, err error) { dead = append(dead, m.ID) }},
	})
	enqueue(t, pool,
		outbox.Message{Topic: "t", Key: "k", Payload: []byte("poison")},
		outbox.Message{Topic: "t", Key: "k", Payload: []byte("after")})
	for range 3 {
		time.Sleep(time.Millisecond)
		_, err := relay.PublishBatch(t.Context())
		require.NoError(t, err)
	}
	require.Len(t, dead, 1)
	assert.Zero(t, pub.Len(), "the key stays parked behind its dead letter")
	letters, err := relay.DeadLetters(t.Context(), 10)
	require.NoError(t, err)
	require.Len(t, letters, 1)
	assert.Equal(t, 3, letters[0].Attempts)
	assert.Equal(t, "poison", letters[0].LastError)

	broken = false
	n, err := relay.Requeue(t.Context(), dead[0], outbox.NewID())
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	drain(t, relay)
	msgs := pub.Messages()
	require.Len(t, msgs, 2)
	assert.Equal(t, "poison", string(msgs[0].Payload))
	assert.Equal(t, "after", string(msgs[1].Payload))

	_, err = relay.Requeue(t.Context(), "not-a-uuid")
	assert.ErrorIs(t, err, outbox.ErrInvalidID)
}
