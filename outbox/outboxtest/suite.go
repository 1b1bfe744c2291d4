package outboxtest

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/outbox"
)

// ReadFunc returns every message the broker holds for one test's
// publisher, in the order the broker received them, after de-duplication
// by message id: the broker's own, or, for a broker that keeps every copy
// (RabbitMQ), the one its consumers do with the inbox.
type ReadFunc func(t *testing.T) []outbox.Message

// Harness tells the suite how to reach the broker.
type Harness struct {
	// New returns a publisher to an empty destination, unique to one test,
	// and the function that reads that destination back.
	New func(t *testing.T) (outbox.Publisher, ReadFunc)
	// Pool, when set, returns a PostgreSQL pool in a fresh schema for one
	// test; the relay tests run only then.
	Pool func(t *testing.T) *pgxpool.Pool
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	t.Run("a batch arrives whole, in order and unaltered", func(t *testing.T) {
		pub, read := h.New(t)
		msgs := []outbox.Message{
			{ID: outbox.NewID(), Topic: "orders.placed", Key: "o-1", Payload: []byte(`{"total":1999}`),
				Headers: map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
			{ID: outbox.NewID(), Topic: "users.created", Payload: []byte("binary\x00\xff bytes")},
			{ID: outbox.NewID(), Topic: "orders.placed", Key: "o-1", Payload: nil},
		}
		require.NoError(t, pub.Publish(t.Context(), msgs))
		assertMessages(t, msgs, read(t))
	})
	t.Run("republishing is idempotent per message id", func(t *testing.T) {
		pub, read := h.New(t)
		first := []outbox.Message{message("a", "k", 1), message("b", "k", 2)}
		require.NoError(t, pub.Publish(t.Context(), first))
		again := append(first[:2:2], message("a", "", 3))
		require.NoError(t, pub.Publish(t.Context(), again), "the relay republishes a batch after a crash")
		assertMessages(t, again, read(t))
	})
	t.Run("an empty batch publishes nothing", func(t *testing.T) {
		pub, read := h.New(t)
		require.NoError(t, pub.Publish(t.Context(), nil))
		assert.Empty(t, read(t))
	})
	t.Run("a cancelled context is never reported as acknowledged", func(t *testing.T) {
		pub, read := h.New(t)
		msgs := []outbox.Message{message("a", "", 1)}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		// The message may or may not have left (an asynchronous publisher
		// sends before it waits for acknowledgements), but the relay must
		// not mark it published: it publishes it again, once.
		assert.Error(t, pub.Publish(ctx, msgs))
		require.NoError(t, pub.Publish(t.Context(), msgs))
		assertMessages(t, msgs, read(t))
	})
	t.Run("a relay delivers committed events once, in order per key", func(t *testing.T) {
		if h.Pool == nil {
			t.Skip("no PostgreSQL pool in the harness")
		}
		runRelay(t, h)
	})
}

func message(topic, key string, n int) outbox.Message {
	return outbox.Message{ID: outbox.NewID(), Topic: topic, Key: key, Payload: []byte(strconv.Itoa(n))}
}

// assertMessages compares what the broker holds with what was published,
// field by field; empty and absent payloads and headers are the same.
func assertMessages(t *testing.T, want, got []outbox.Message) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].ID, got[i].ID, "message %d", i)
		assert.Equal(t, want[i].Topic, got[i].Topic, "message %d", i)
		assert.Equal(t, want[i].Key, got[i].Key, "message %d", i)
		assert.Equal(t, string(want[i].Payload), string(got[i].Payload), "message %d", i)
		assert.Equal(t, len(want[i].Headers), len(got[i].Headers), "message %d", i)
		for k, v := range want[i].Headers {
			assert.Equal(t, v, got[i].Headers[k], "message %d header %s", i, k)
		}
	}
}

func runRelay(t *testing.T, h Harness) {
	pool := h.Pool(t)
	ctx := t.Context()
	require.NoError(t, outbox.Migrate(ctx, pool, outbox.MigrateConfig{}))
	pub, read := h.New(t)
	const keys, perKey = 4, 5
	var committed []outbox.Message
	for i := range perKey {
		for k := range keys {
			m := message("t", fmt.Sprint("key-", k), i)
			require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				return outbox.Enqueue(ctx, tx, m)
			}))
			committed = append(committed, m)
		}
	}
	rolledBack := message("t", "key-0", 99)
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := outbox.Enqueue(ctx, tx, rolledBack); err != nil {
			return err
		}
		return errRollback
	})
	require.ErrorIs(t, err, errRollback)

	relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{BatchSize: 3})
	require.NoError(t, err)
	for {
		n, err := relay.PublishBatch(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	got := read(t)
	require.Len(t, got, len(committed), "every committed event, once")
	order := map[string][]string{}
	for _, m := range got {
		assert.NotEqual(t, rolledBack.ID, m.ID, "a rolled-back event is never published")
		order[m.Key] = append(order[m.Key], string(m.Payload))
	}
	for k := range keys {
		key := fmt.Sprint("key-", k)
		want := make([]string, perKey)
		for i := range perKey {
			want[i] = strconv.Itoa(i)
		}
		assert.Equal(t, want, order[key], "the events of %s in commit order", key)
	}
}

type rollbackError struct{}

func (rollbackError) Error() string { return "outboxtest: roll back" }

var errRollback error = rollbackError{}
