package natsjs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/natsjs"
	"github.com/bedrock-go/bedrock/outbox/outboxtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// natsJetStream connects to BEDROCK_NATS_URL (default the local server) and
// creates a stream unique to the test, deleted at the end. Like testenv, it
// fails when the server is unreachable and CI is set, and skips otherwise.
func natsJetStream(t testing.TB) (jetstream.JetStream, jetstream.Stream, string) {
	t.Helper()
	nc, _ := testenv.NATS(t)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	name := testenv.UniqueName(t, "T")
	stream, err := js.CreateStream(t.Context(), jetstream.StreamConfig{
		Name: name, Subjects: []string{name + ".>"}, Duplicates: time.Minute, Storage: jetstream.MemoryStorage,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), name) })
	return js, stream, name + "."
}

func TestPublisher_DeduplicatesByMessageID(t *testing.T) {
	js, stream, prefix := natsJetStream(t)
	pub, err := natsjs.New(js, natsjs.Config{SubjectPrefix: prefix})
	require.NoError(t, err)
	msgs := []outbox.Message{
		{ID: outbox.NewID(), Topic: "orders", Key: "o1", Payload: []byte("a"), Headers: map[string]string{"traceparent": "00-1-2-01"}},
		{ID: outbox.NewID(), Topic: "users", Payload: []byte("b")},
	}
	require.NoError(t, pub.Publish(t.Context(), msgs))
	require.NoError(t, pub.Publish(t.Context(), msgs), "republished after a relay crash")
	info, err := stream.Info(t.Context())
	require.NoError(t, err)
	assert.EqualValues(t, 2, info.State.Msgs, "JetStream dropped the duplicates")

	raw, err := stream.GetMsg(t.Context(), 1)
	require.NoError(t, err)
	m, err := natsjs.Decode(raw.Subject, raw.Header, raw.Data)
	require.NoError(t, err)
	assert.Equal(t, msgs[0].ID, m.ID)
	assert.Equal(t, "orders", m.Topic)
	assert.Equal(t, "o1", m.Key)
	assert.Equal(t, "a", string(m.Payload))
	assert.Equal(t, map[string]string{"traceparent": "00-1-2-01"}, m.Headers)
}

func TestPublisher_NoStreamFailsEveryMessage(t *testing.T) {
	js, _, _ := natsJetStream(t)
	pub, err := natsjs.New(js, natsjs.Config{SubjectPrefix: "nostream-" + outbox.NewID()[:8] + "."})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	err = pub.Publish(ctx, []outbox.Message{{ID: outbox.NewID(), Topic: "t"}})
	var pe *outbox.PublishError
	require.ErrorAs(t, err, &pe)
	assert.Error(t, pe.Errs[0])
}

func TestDecode_RejectsMessagesWithoutID(t *testing.T) {
	for name, h := range map[string]nats.Header{
		"no headers": nil,
		"empty id":   {jetstream.MsgIDHeader: []string{""}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := natsjs.Decode("s", h, nil)
			assert.ErrorIs(t, err, natsjs.ErrMalformedMessage)
		})
	}
}

func TestNew_RejectsBadConfig(t *testing.T) {
	_, err := natsjs.New(nil, natsjs.Config{})
	assert.ErrorIs(t, err, natsjs.ErrInvalidConfig)
	_, err = natsjs.NewConsumer(nil, natsjs.ConsumerConfig{})
	assert.ErrorIs(t, err, natsjs.ErrInvalidConfig)
}

// TestEndToEnd relays from PostgreSQL to JetStream and consumes with a
// durable pull consumer and the inbox; a failing handler is redelivered and
// every event has exactly one effect.
func TestEndToEnd_OutboxRelayConsumerInbox(t *testing.T) {
	js, stream, prefix := natsJetStream(t)
	pool := testenv.Postgres(t)
	ctx := t.Context()
	require.NoError(t, outbox.Migrate(ctx, pool, outbox.MigrateConfig{}))
	_, err := pool.Exec(ctx, `CREATE TABLE effects (id text PRIMARY KEY)`)
	require.NoError(t, err)
	pub, err := natsjs.New(js, natsjs.Config{SubjectPrefix: prefix})
	require.NoError(t, err)
	relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{})
	require.NoError(t, err)
	const events = 20
	for i := range events {
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return outbox.Enqueue(ctx, tx, outbox.Message{Topic: "orders", Key: fmt.Sprint(i % 4), Payload: []byte{byte(i)}})
		}))
	}
	for {
		n, err := relay.PublishBatch(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}

	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy})
	require.NoError(t, err)
	inbox, err := outbox.NewInbox(outbox.InboxConfig{})
	require.NoError(t, err)
	var mu sync.Mutex
	failed := map[string]bool{}
	handler := inbox.Handle(pool, func(ctx context.Context, tx pgx.Tx, m outbox.Message) error {
		mu.Lock()
		first := !failed[m.ID] && m.Payload[0]%5 == 0
		failed[m.ID] = true
		mu.Unlock()
		if first {
			return errors.New("transient")
		}
		_, err := tx.Exec(ctx, `INSERT INTO effects VALUES ($1)`, m.ID)
		return err
	})
	c, err := natsjs.NewConsumer(cons, natsjs.ConsumerConfig{MaxWait: 50 * time.Millisecond, NakDelay: time.Millisecond})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx, handler) }()
	require.Eventually(t, func() bool {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM effects`).Scan(&n)
		info, err := cons.Info(ctx)
		return n == events && err == nil && info.NumAckPending == 0 && info.NumPending == 0
	}, 10*time.Second, 5*time.Millisecond)
	stop()
	require.NoError(t, <-done)
}

func FuzzDecode(f *testing.F) {
	f.Add("s", "0190f3a4-5b6c-7d8e-9f01-23456789abcd", "t", "k", "h", "v", []byte("data"))
	f.Add("", "", "", "", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, subject, id, topic, key, hk, hv string, data []byte) {
		h := nats.Header{}
		if id != "" {
			h[jetstream.MsgIDHeader] = []string{id}
		}
		h[natsjs.HeaderTopic] = []string{topic}
		h[natsjs.HeaderKey] = []string{key}
		if hk != "" && h[hk] == nil {
			h[hk] = []string{hv}
		}
		m, err := natsjs.Decode(subject, h, data)
		if err != nil {
			require.ErrorIs(t, err, natsjs.ErrMalformedMessage)
			require.Empty(t, id)
			return
		}
		require.Equal(t, id, m.ID)
		if topic != "" {
			require.Equal(t, topic, m.Topic)
		} else {
			require.Equal(t, subject, m.Topic, "the subject stands in for a missing topic")
		}
		require.Equal(t, data, m.Payload)
	})
}

func TestPublisher_Conforms(t *testing.T) {
	outboxtest.Run(t, outboxtest.Harness{
		New: func(t *testing.T) (outbox.Publisher, outboxtest.ReadFunc) {
			js, stream, prefix := natsJetStream(t)
			pub, err := natsjs.New(js, natsjs.Config{SubjectPrefix: prefix})
			require.NoError(t, err)
			return pub, func(t *testing.T) []outbox.Message {
				info, err := stream.Info(t.Context())
				require.NoError(t, err)
				var msgs []outbox.Message
				for seq := info.State.FirstSeq; seq != 0 && seq <= info.State.LastSeq; seq++ {
					raw, err := stream.GetMsg(t.Context(), seq)
					require.NoError(t, err)
					m, err := natsjs.Decode(raw.Subject, raw.Header, raw.Data)
					require.NoError(t, err)
					msgs = append(msgs, m)
				}
				return msgs
			}
		},
		Pool: func(t *testing.T) *pgxpool.Pool { return testenv.Postgres(t) },
	})
}
