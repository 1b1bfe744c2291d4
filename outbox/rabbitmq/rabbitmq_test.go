package rabbitmq_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/outboxtest"
	"github.com/bedrock-go/bedrock/outbox/rabbitmq"
	"github.com/jackc/pgx/v5/pgxpool"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// broker is one test's corner of the real RabbitMQ: an exchange and a
// quorum queue bound to it with "#", with their dead-letter exchange and
// queue, all deleted when the test ends.
type broker struct {
	url  string
	conn *amqp.Connection
	topo rabbitmq.Topology
}

func newBroker(t testing.TB, topo rabbitmq.Topology) *broker {
	t.Helper()
	conn, url := testenv.RabbitMQ(t)
	name := testenv.UniqueName(t, "rabbit")
	if topo.Queue == "" {
		topo.Queue = name
	}
	if topo.Exchange == "" {
		topo.Exchange = name + ".x"
	}
	ch, err := conn.Channel()
	require.NoError(t, err)
	require.NoError(t, topo.Declare(ch))
	require.NoError(t, ch.Close())
	t.Cleanup(func() {
		conn, err := amqp.Dial(url)
		if err != nil {
			return
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			return
		}
		_, _ = ch.QueueDelete(topo.Queue, false, false, false)
		_, _ = ch.QueueDelete(topo.Queue+".dead", false, false, false)
		_ = ch.ExchangeDelete(topo.Exchange, false, false)
		_ = ch.ExchangeDelete(topo.Queue+".dlx", false, false)
	})
	return &broker{url: url, conn: conn, topo: topo}
}

// drain takes every message now in queue, in queue order.
func (b *broker) drain(t testing.TB, queue string) []amqp.Delivery {
	t.Helper()
	ch, err := b.conn.Channel()
	require.NoError(t, err)
	defer ch.Close()
	var out []amqp.Delivery
	for {
		d, ok, err := ch.Get(queue, true)
		require.NoError(t, err)
		if !ok {
			return out
		}
		out = append(out, d)
	}
}

// read decodes the queue's messages and drops the copies of a message id
// already seen, as a consumer with the inbox does: RabbitMQ itself keeps
// every copy the relay published.
func (b *broker) read(t testing.TB) []outbox.Message {
	t.Helper()
	seen := map[string]bool{}
	var out []outbox.Message
	for _, d := range b.drain(t, b.topo.Queue) {
		m, err := rabbitmq.Decode(&d)
		require.NoError(t, err)
		if !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, m)
		}
	}
	return out
}

func (b *broker) publisher(t testing.TB, cfg rabbitmq.Config) *rabbitmq.Publisher {
	t.Helper()
	if cfg.Exchange == "" {
		cfg.Exchange = b.topo.Exchange
	}
	pub, err := rabbitmq.New(b.url, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pub.Close() })
	return pub
}

func TestPublisher_Conforms(t *testing.T) {
	outboxtest.Run(t, outboxtest.Harness{
		New: func(t *testing.T) (outbox.Publisher, outboxtest.ReadFunc) {
			b := newBroker(t, rabbitmq.Topology{})
			return b.publisher(t, rabbitmq.Config{}), func(t *testing.T) []outbox.Message { return b.read(t) }
		},
		Pool: func(t *testing.T) *pgxpool.Pool { return testenv.Postgres(t) },
	})
}

func TestPublisher_SetsMessageIDAndPersistence(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  rabbitmq.Config
		mode uint8
	}{
		{"persistent by default", rabbitmq.Config{}, amqp.Persistent},
		{"transient on request", rabbitmq.Config{Transient: true}, amqp.Transient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBroker(t, rabbitmq.Topology{})
			m := outbox.Message{ID: outbox.NewID(), Topic: "orders.placed", Key: "o-1", Payload: []byte("x"),
				Headers: map[string]string{"traceparent": "00-1-2-01"}}
			require.NoError(t, b.publisher(t, tc.cfg).Publish(t.Context(), []outbox.Message{m}))
			ds := b.drain(t, b.topo.Queue)
			require.Len(t, ds, 1)
			assert.Equal(t, m.ID, ds[0].MessageId, "the message id is the event id")
			assert.Equal(t, tc.mode, ds[0].DeliveryMode)
			assert.Equal(t, "orders.placed", ds[0].RoutingKey, "the topic is the routing key")
			assert.Equal(t, "o-1", ds[0].Headers[rabbitmq.HeaderKey])
		})
	}
}

func TestPublisher_RoutingKeyFromConfig(t *testing.T) {
	b := newBroker(t, rabbitmq.Topology{BindingKeys: []string{"orders.*"}})
	pub := b.publisher(t, rabbitmq.Config{RoutingKey: func(m outbox.Message) string { return m.Topic + "." + m.Key }})
	m := outbox.Message{ID: outbox.NewID(), Topic: "orders", Key: "o-7"}
	assert.Equal(t, "orders.o-7", pub.RoutingKey(m))
	require.NoError(t, pub.Publish(t.Context(), []outbox.Message{m}))
	ds := b.drain(t, b.topo.Queue)
	require.Len(t, ds, 1)
	assert.Equal(t, "orders.o-7", ds[0].RoutingKey)
}

// An unroutable message is an error for that message alone, never an
// acknowledgement: the broker returned it before confirming it.
func TestPublisher_UnroutableMessageFails(t *testing.T) {
	b := newBroker(t, rabbitmq.Topology{BindingKeys: []string{"orders.#"}})
	var returned []*rabbitmq.UnroutableError
	pub := b.publisher(t, rabbitmq.Config{Hooks: rabbitmq.Hooks{OnReturn: func(e *rabbitmq.UnroutableError) {
		returned = append(returned, e)
	}}})
	msgs := []outbox.Message{
		{ID: outbox.NewID(), Topic: "orders.placed"},
		{ID: outbox.NewID(), Topic: "nobody.listens"},
		{ID: outbox.NewID(), Topic: "orders.paid"},
	}
	err := pub.Publish(t.Context(), msgs)
	var pe *outbox.PublishError
	require.ErrorAs(t, err, &pe)
	require.Len(t, pe.Errs, 3)
	assert.NoError(t, pe.Errs[0])
	assert.NoError(t, pe.Errs[2])
	require.ErrorIs(t, pe.Errs[1], rabbitmq.ErrUnroutable)
	var ue *rabbitmq.UnroutableError
	require.ErrorAs(t, pe.Errs[1], &ue)
	assert.Equal(t, msgs[1].ID, ue.MessageID)
	assert.Equal(t, "nobody.listens", ue.RoutingKey)
	assert.EqualValues(t, amqp.NoRoute, ue.ReplyCode)
	require.Len(t, returned, 1, "OnReturn saw the return")
	assert.Len(t, b.read(t), 2)
}

// Through the relay, an unroutable event is retried, then dead-lettered in
// the outbox with the broker's reason, and published once a queue is bound
// and an operator requeues it.
func TestRelay_UnroutableEventIsDeadLetteredNotDropped(t *testing.T) {
	b := newBroker(t, rabbitmq.Topology{BindingKeys: []string{"orders.#"}})
	pool := testenv.Postgres(t)
	ctx := t.Context()
	require.NoError(t, outbox.Migrate(ctx, pool, outbox.MigrateConfig{}))
	pub := b.publisher(t, rabbitmq.Config{})
	relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{MaxAttempts: 2, RetryInitial: time.Millisecond, RetryMax: time.Millisecond})
	require.NoError(t, err)
	m := outbox.Message{ID: outbox.NewID(), Topic: "invoices.sent", Key: "i-1", Payload: []byte("1")}
	require.NoError(t, enqueue(ctx, pool, m))
	var dead []outbox.DeadLetter
	for attempt := 0; len(dead) == 0; attempt++ {
		require.Less(t, attempt, 100, "the event was never dead-lettered")
		_, err := relay.PublishBatch(ctx)
		require.NoError(t, err)
		dead, err = relay.DeadLetters(ctx, 10)
		require.NoError(t, err)
	}
	require.Len(t, dead, 1)
	assert.Equal(t, m.ID, dead[0].ID)
	assert.Equal(t, 2, dead[0].Attempts)
	assert.Contains(t, dead[0].LastError, "unroutable")

	ch, err := b.conn.Channel()
	require.NoError(t, err)
	require.NoError(t, ch.QueueBind(b.topo.Queue, "invoices.#", b.topo.Exchange, false, nil))
	n, err := relay.Requeue(ctx, m.ID)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	_, err = relay.PublishBatch(ctx)
	require.NoError(t, err)
	got := b.read(t)
	require.Len(t, got, 1)
	assert.Equal(t, m.ID, got[0].ID)
}

// When the broker stops confirming, at most MaxInFlight messages are on the
// wire; the others wait for room and fail with ErrWindowFull when the
// context ends, unsent. The ones sent are not acknowledged either: only a
// confirm settles a message.
func TestPublisher_InFlightWindowIsBounded(t *testing.T) {
	b := newBroker(t, rabbitmq.Topology{})
	proxy := testenv.NewProxy(t, "127.0.0.1:5672")
	pub, err := rabbitmq.New(viaProxy(t, b.url, proxy), rabbitmq.Config{Exchange: b.topo.Exchange, MaxInFlight: 2, DialTimeout: 200 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pub.Close() })
	require.NoError(t, pub.Publish(t.Context(), []outbox.Message{{ID: outbox.NewID(), Topic: "warm"}}), "connected")

	proxy.Freeze()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	msgs := make([]outbox.Message, 5)
	for i := range msgs {
		msgs[i] = outbox.Message{ID: outbox.NewID(), Topic: "t"}
	}
	err = pub.Publish(ctx, msgs)
	var pe *outbox.PublishError
	require.ErrorAs(t, err, &pe)
	for i, e := range pe.Errs {
		require.Error(t, e, "message %d", i)
		assert.Equal(t, i >= 2, errors.Is(e, rabbitmq.ErrWindowFull), "message %d: %v", i, e)
		if i < 2 {
			assert.ErrorIs(t, e, context.DeadlineExceeded, "sent but never confirmed, so never acknowledged")
		}
	}
}

// After the connection is cut, Publish fails (the messages awaiting
// confirmation with ErrUnavailable), then dials again and succeeds.
func TestPublisher_RecoversAfterConnectionCut(t *testing.T) {
	b := newBroker(t, rabbitmq.Topology{})
	proxy := testenv.NewProxy(t, "127.0.0.1:5672")
	dials := make(chan error, 100)
	pub, err := rabbitmq.New(viaProxy(t, b.url, proxy), rabbitmq.Config{Exchange: b.topo.Exchange,
		ReconnectInitial: time.Millisecond, ReconnectMax: 5 * time.Millisecond,
		Hooks: rabbitmq.Hooks{OnDial: func(err error) { dials <- err }}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pub.Close() })
	first := outbox.Message{ID: outbox.NewID(), Topic: "t", Payload: []byte("1")}
	require.NoError(t, pub.Publish(t.Context(), []outbox.Message{first}))
	require.NoError(t, <-dials)

	proxy.Cut()
	second := outbox.Message{ID: outbox.NewID(), Topic: "t", Payload: []byte("2")}
	failures := 0
	for {
		err := pub.Publish(t.Context(), []outbox.Message{second})
		if err == nil {
			break
		}
		require.ErrorIs(t, err, rabbitmq.ErrUnavailable)
		failures++
		require.Less(t, failures, 1000, "never recovered: %v", err)
	}
	got := b.read(t)
	require.NotEmpty(t, got)
	assert.Equal(t, first.ID, got[0].ID)
	assert.Equal(t, second.ID, got[len(got)-1].ID)
}

func TestNew_RejectsBadConfig(t *testing.T) {
	good := testenv.DefaultRabbitMQURL
	for _, tc := range []struct {
		name string
		url  string
		cfg  rabbitmq.Config
		want string
	}{
		{"empty url", "", rabbitmq.Config{}, "empty URL"},
		{"not amqp", "http://guest:secret@h/", rabbitmq.Config{}, "not an amqp"},
		{"negative window", good, rabbitmq.Config{MaxInFlight: -1}, "MaxInFlight"},
		{"negative timeout", good, rabbitmq.Config{DialTimeout: -1}, "DialTimeout"},
		{"backoff upside down", good, rabbitmq.Config{ReconnectInitial: time.Second, ReconnectMax: time.Millisecond}, "ReconnectInitial"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rabbitmq.New(tc.url, tc.cfg)
			require.ErrorIs(t, err, rabbitmq.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "secret", "a config error never prints the password")
		})
	}
}

func TestPublisher_ClosedFailsAndUnreachableIsUnavailable(t *testing.T) {
	pub, err := rabbitmq.New("amqp://guest:guest@"+testenv.ClosedAddr(t)+"/", rabbitmq.Config{})
	require.NoError(t, err)
	err = pub.Publish(t.Context(), []outbox.Message{{ID: outbox.NewID(), Topic: "t"}})
	require.ErrorIs(t, err, rabbitmq.ErrUnavailable)
	err = pub.Publish(t.Context(), []outbox.Message{{ID: outbox.NewID(), Topic: "t"}})
	require.ErrorIs(t, err, rabbitmq.ErrUnavailable, "within the backoff, without dialling")
	assert.Contains(t, err.Error(), "reconnecting in")
	require.NoError(t, pub.Close())
	err = pub.Publish(t.Context(), []outbox.Message{{ID: outbox.NewID(), Topic: "t"}})
	require.ErrorIs(t, err, rabbitmq.ErrClosed)
}

// viaProxy rewrites url to go through proxy.
func viaProxy(t testing.TB, raw string, proxy *testenv.Proxy) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	u.Host = proxy.Addr()
	return u.String()
}

func FuzzDecode(f *testing.F) {
	f.Add("0190f3a4-5b6c-7d8e-9f01-23456789abcd", "rk", "t", "k", "h", "v", []byte("data"))
	f.Add("", "", "", "", "", "", []byte(nil))
	f.Add("x", "rk", "", "", "x-delivery-count", "3", []byte{0xff})
	f.Fuzz(func(t *testing.T, id, routingKey, topic, key, hk, hv string, body []byte) {
		d := amqp.Delivery{MessageId: id, RoutingKey: routingKey, Body: body,
			Headers: amqp.Table{rabbitmq.HeaderTopic: topic, rabbitmq.HeaderKey: key, "n": int32(1)}}
		if _, taken := d.Headers[hk]; !taken {
			d.Headers[hk] = hv
		}
		m, err := rabbitmq.Decode(&d)
		if err != nil {
			require.ErrorIs(t, err, rabbitmq.ErrMalformedMessage)
			require.Empty(t, id)
			return
		}
		require.Equal(t, id, m.ID)
		require.Equal(t, key, m.Key)
		if topic != "" {
			require.Equal(t, topic, m.Topic)
		} else {
			require.Equal(t, routingKey, m.Topic, "the routing key stands in for a missing topic")
		}
		require.Equal(t, body, m.Payload)
		_, hasN := m.Headers["n"]
		require.False(t, hasN, "a header that is not a string is not a message header")
		_, hasTopic := m.Headers[rabbitmq.HeaderTopic]
		require.False(t, hasTopic)
	})
}

// A queue at its length limit with overflow reject-publish makes the broker
// nack the message: it fails with ErrNacked, the others of the batch pass.
func TestPublisher_NackedMessageFails(t *testing.T) {
	b := newBroker(t, rabbitmq.Topology{BindingKeys: []string{"other"}})
	ch, err := b.conn.Channel()
	require.NoError(t, err)
	full := b.topo.Queue + "-full"
	_, err = ch.QueueDeclare(full, false, false, true, false, amqp.Table{"x-max-length": int64(1), "x-overflow": "reject-publish"}) // exclusive: gone with the connection
	require.NoError(t, err)
	require.NoError(t, ch.QueueBind(full, "orders.#", b.topo.Exchange, false, nil))
	msgs := []outbox.Message{{ID: outbox.NewID(), Topic: "orders.placed"}, {ID: outbox.NewID(), Topic: "orders.placed"}}
	err = b.publisher(t, rabbitmq.Config{}).Publish(t.Context(), msgs)
	var pe *outbox.PublishError
	require.ErrorAs(t, err, &pe)
	assert.NoError(t, pe.Errs[0])
	assert.ErrorIs(t, pe.Errs[1], rabbitmq.ErrNacked)
	assert.NotErrorIs(t, pe.Errs[1], rabbitmq.ErrUnroutable)
}

// A missing exchange makes the broker close the channel: the message fails
// with ErrUnavailable naming the broker's NOT_FOUND, and the publisher
// works again once the exchange exists.
func TestPublisher_MissingExchangeFailsThenRecovers(t *testing.T) {
	b := newBroker(t, rabbitmq.Topology{})
	missing := b.topo.Exchange + "-later"
	pub := b.publisher(t, rabbitmq.Config{Exchange: missing, ReconnectInitial: time.Millisecond, ReconnectMax: time.Millisecond})
	m := outbox.Message{ID: outbox.NewID(), Topic: "orders.placed"}
	err := pub.Publish(t.Context(), []outbox.Message{m})
	require.ErrorIs(t, err, rabbitmq.ErrUnavailable)
	assert.Contains(t, err.Error(), "NOT_FOUND")

	ch, err := b.conn.Channel()
	require.NoError(t, err)
	require.NoError(t, ch.ExchangeDeclare(missing, amqp.ExchangeTopic, false, true, false, false, nil))
	require.NoError(t, ch.ExchangeBind(b.topo.Exchange, "#", missing, false, nil))
	for attempt := 0; ; attempt++ {
		err := pub.Publish(t.Context(), []outbox.Message{m})
		if err == nil {
			break
		}
		require.ErrorIs(t, err, rabbitmq.ErrUnavailable)
		require.Less(t, attempt, 1000, "never recovered: %v", err)
	}
	got := b.read(t)
	require.Len(t, got, 1)
	assert.Equal(t, m.ID, got[0].ID)
}
