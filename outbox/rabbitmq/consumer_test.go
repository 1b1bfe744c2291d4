package rabbitmq_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/rabbitmq"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// effects is a consumer's side-effect table and the inbox that makes each
// effect happen once.
type effects struct {
	pool  *pgxpool.Pool
	inbox *outbox.Inbox
}

func newEffects(t testing.TB) *effects {
	t.Helper()
	pool := testenv.Postgres(t)
	require.NoError(t, outbox.Migrate(t.Context(), pool, outbox.MigrateConfig{}))
	_, err := pool.Exec(t.Context(), `CREATE TABLE effects (n bigserial PRIMARY KEY, id text NOT NULL, key text NOT NULL, payload text NOT NULL)`)
	require.NoError(t, err)
	inbox, err := outbox.NewInbox(outbox.InboxConfig{})
	require.NoError(t, err)
	return &effects{pool: pool, inbox: inbox}
}

// handler records m as an effect, after fail(m) allows it.
func (e *effects) handler(fail func(m outbox.Message) error) outbox.Handler {
	return e.inbox.Handle(e.pool, func(ctx context.Context, tx pgx.Tx, m outbox.Message) error {
		if err := fail(m); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO effects (id, key, payload) VALUES ($1, $2, $3)`, m.ID, m.Key, string(m.Payload))
		return err
	})
}

func (e *effects) count(t testing.TB) (n, distinct int) {
	t.Helper()
	require.NoError(t, e.pool.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT id) FROM effects`).Scan(&n, &distinct))
	return n, distinct
}

// order returns the payloads of each key's effects in the order they
// happened.
func (e *effects) order(t testing.TB) map[string][]string {
	t.Helper()
	rows, err := e.pool.Query(t.Context(), `SELECT key, payload FROM effects ORDER BY n`)
	require.NoError(t, err)
	out := map[string][]string{}
	for rows.Next() {
		var k, p string
		require.NoError(t, rows.Scan(&k, &p))
		out[k] = append(out[k], p)
	}
	require.NoError(t, rows.Err())
	return out
}

// run starts c and stops it when the test ends.
func run(t testing.TB, c *rabbitmq.Consumer, h outbox.Handler) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h) }()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done)
	})
}

func messages(keys, perKey int) []outbox.Message {
	var out []outbox.Message
	for i := range perKey {
		for k := range keys {
			out = append(out, outbox.Message{ID: outbox.NewID(), Topic: "orders.placed",
				Key: fmt.Sprint("key-", k), Payload: []byte(strconv.Itoa(i))})
		}
	}
	return out
}

func inOrder(keys, perKey int) map[string][]string {
	want := map[string][]string{}
	for k := range keys {
		for i := range perKey {
			want[fmt.Sprint("key-", k)] = append(want[fmt.Sprint("key-", k)], strconv.Itoa(i))
		}
	}
	return want
}

// Relay to RabbitMQ to consumer with the inbox: a handler that fails once
// for some events gets them again, every event has exactly one effect, and
// with Prefetch 1 each key's effects follow commit order.
func TestConsumer_EndToEndExactlyOnceInOrder(t *testing.T) {
	b := newBroker(t, rabbitmq.Topology{})
	fx := newEffects(t)
	ctx := t.Context()
	relay, err := outbox.NewRelay(fx.pool, b.publisher(t, rabbitmq.Config{}), outbox.RelayConfig{})
	require.NoError(t, err)
	const keys, perKey = 4, 6
	msgs := messages(keys, perKey)
	for _, m := range msgs {
		require.NoError(t, enqueue(ctx, fx.pool, m))
	}
	for {
		n, err := relay.PublishBatch(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	var mu sync.Mutex
	failed := map[string]bool{}
	var errs []error
	c, err := rabbitmq.NewConsumer(b.url, rabbitmq.ConsumerConfig{Queue: b.topo.Queue, RetryDelay: time.Millisecond,
		Hooks: rabbitmq.ConsumerHooks{OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }}})
	require.NoError(t, err)
	run(t, c, fx.handler(func(m outbox.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if m.Payload[0]%3 == 0 && !failed[m.ID] {
			failed[m.ID] = true
			return errors.New("transient")
		}
		return nil
	}))
	require.Eventually(t, func() bool { n, _ := fx.count(t); return n == len(msgs) }, 20*time.Second, 5*time.Millisecond)
	n, distinct := fx.count(t)
	assert.Equal(t, len(msgs), n)
	assert.Equal(t, n, distinct, "exactly once")
	assert.Equal(t, inOrder(keys, perKey), fx.order(t), "per-key commit order across handler failures")
	mu.Lock()
	assert.Len(t, errs, len(failed), "each handler failure was reported")
	mu.Unlock()
}

// A message whose handler always fails is handled DeliveryLimit+1 times and
// then moved by the broker to the dead-letter queue; the messages behind it
// are handled.
func TestConsumer_PoisonMessageIsDeadLettered(t *testing.T) {
	const limit = 2
	b := newBroker(t, rabbitmq.Topology{DeliveryLimit: limit})
	fx := newEffects(t)
	pub := b.publisher(t, rabbitmq.Config{})
	poison := outbox.Message{ID: outbox.NewID(), Topic: "orders.placed", Key: "bad", Payload: []byte("poison")}
	good := outbox.Message{ID: outbox.NewID(), Topic: "orders.placed", Key: "good", Payload: []byte("fine")}
	require.NoError(t, pub.Publish(t.Context(), []outbox.Message{poison, good}))
	var mu sync.Mutex
	attempts := 0
	c, err := rabbitmq.NewConsumer(b.url, rabbitmq.ConsumerConfig{Queue: b.topo.Queue, RetryDelay: time.Millisecond})
	require.NoError(t, err)
	run(t, c, fx.handler(func(m outbox.Message) error {
		if m.ID != poison.ID {
			return nil
		}
		mu.Lock()
		attempts++
		mu.Unlock()
		return errors.New("cannot handle this one")
	}))
	var dead []amqp.Delivery
	require.Eventually(t, func() bool {
		dead = append(dead, b.drain(t, b.topo.Queue+".dead")...)
		n, _ := fx.count(t)
		return len(dead) == 1 && n == 1
	}, 20*time.Second, 5*time.Millisecond)
	assert.Equal(t, poison.ID, dead[0].MessageId)
	m, err := rabbitmq.Decode(&dead[0])
	require.NoError(t, err)
	assert.Equal(t, "bad", m.Key, "the dead letter is the whole event")
	mu.Lock()
	assert.Equal(t, limit+1, attempts, "handled DeliveryLimit+1 times")
	mu.Unlock()
}

// A delivery without a message id is not an outbox message: it goes to the
// dead-letter queue at once and the handler never sees it.
func TestConsumer_MalformedMessageIsRejected(t *testing.T) {
	b := newBroker(t, rabbitmq.Topology{})
	ch, err := b.conn.Channel()
	require.NoError(t, err)
	require.NoError(t, ch.Publish(b.topo.Exchange, "orders.placed", false, false, amqp.Publishing{Body: []byte("?")}))
	reported := make(chan error, 10)
	c, err := rabbitmq.NewConsumer(b.url, rabbitmq.ConsumerConfig{Queue: b.topo.Queue,
		Hooks: rabbitmq.ConsumerHooks{OnError: func(err error) { reported <- err }}})
	require.NoError(t, err)
	run(t, c, func(context.Context, outbox.Message) error {
		t.Error("the handler saw a malformed message")
		return nil
	})
	require.ErrorIs(t, <-reported, rabbitmq.ErrMalformedMessage)
	var dead []amqp.Delivery
	require.Eventually(t, func() bool {
		dead = append(dead, b.drain(t, b.topo.Queue+".dead")...)
		return len(dead) == 1
	}, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, "?", string(dead[0].Body))
}

// The consumer's connection is cut while it works: it dials again, the
// broker redelivers what was not acknowledged, and the inbox keeps every
// effect single.
func TestConsumer_RecoversAfterConnectionCut(t *testing.T) {
	b := newBroker(t, rabbitmq.Topology{})
	fx := newEffects(t)
	pub := b.publisher(t, rabbitmq.Config{})
	proxy := testenv.NewProxy(t, "127.0.0.1:5672")
	msgs := messages(2, 10)
	require.NoError(t, pub.Publish(t.Context(), msgs[:10]))
	handled := make(chan string, 100)
	c, err := rabbitmq.NewConsumer(viaProxy(t, b.url, proxy), rabbitmq.ConsumerConfig{Queue: b.topo.Queue, Prefetch: 5,
		ReconnectInitial: time.Millisecond, ReconnectMax: 10 * time.Millisecond})
	require.NoError(t, err)
	run(t, c, fx.handler(func(m outbox.Message) error { handled <- m.ID; return nil }))
	<-handled
	proxy.Cut()
	require.NoError(t, pub.Publish(t.Context(), msgs[10:]))
	require.Eventually(t, func() bool { n, _ := fx.count(t); return n == len(msgs) }, 20*time.Second, 5*time.Millisecond)
	n, distinct := fx.count(t)
	assert.Equal(t, len(msgs), n)
	assert.Equal(t, n, distinct, "exactly once across the cut")
	ch, err := b.conn.Channel()
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		q, err := ch.QueueDeclarePassive(b.topo.Queue, true, false, false, false, mustArgs(t, b.topo))
		return err == nil && q.Messages == 0
	}, 10*time.Second, 5*time.Millisecond, "every message acknowledged")
}

func mustArgs(t testing.TB, topo rabbitmq.Topology) amqp.Table {
	args, err := topo.QueueArgs()
	require.NoError(t, err)
	return args
}

func TestNewConsumer_RejectsBadConfig(t *testing.T) {
	good := testenv.DefaultRabbitMQURL
	for _, tc := range []struct {
		name string
		url  string
		cfg  rabbitmq.ConsumerConfig
		want string
	}{
		{"no queue", good, rabbitmq.ConsumerConfig{}, "Queue is required"},
		{"negative prefetch", good, rabbitmq.ConsumerConfig{Queue: "q", Prefetch: -1}, "Prefetch"},
		{"prefetch too large", good, rabbitmq.ConsumerConfig{Queue: "q", Prefetch: 70000}, "Prefetch"},
		{"negative delay", good, rabbitmq.ConsumerConfig{Queue: "q", RetryDelay: -1}, "negative"},
		{"bad url", "nats://x", rabbitmq.ConsumerConfig{Queue: "q"}, "URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rabbitmq.NewConsumer(tc.url, tc.cfg)
			require.ErrorIs(t, err, rabbitmq.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	for _, tc := range []struct {
		name string
		topo rabbitmq.Topology
	}{
		{"no queue", rabbitmq.Topology{}},
		{"negative limit", rabbitmq.Topology{Queue: "q", DeliveryLimit: -1}},
		{"unknown kind", rabbitmq.Topology{Queue: "q", ExchangeKind: "x-weird"}},
	} {
		t.Run("topology "+tc.name, func(t *testing.T) {
			_, err := tc.topo.QueueArgs()
			require.ErrorIs(t, err, rabbitmq.ErrInvalidConfig)
		})
	}
}

// With the broker unreachable, Run keeps trying with backoff, reports
// ErrUnavailable through OnError, and returns nil when its context ends.
func TestConsumer_BrokerDownIsReportedAndRetried(t *testing.T) {
	reported := make(chan error, 100)
	c, err := rabbitmq.NewConsumer("amqp://guest:guest@"+testenv.ClosedAddr(t)+"/", rabbitmq.ConsumerConfig{Queue: "q",
		ReconnectInitial: time.Millisecond, ReconnectMax: time.Millisecond,
		Hooks: rabbitmq.ConsumerHooks{OnError: func(err error) {
			select {
			case reported <- err:
			default:
			}
		}}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, func(context.Context, outbox.Message) error { return nil }) }()
	for range 3 {
		require.ErrorIs(t, <-reported, rabbitmq.ErrUnavailable)
	}
	cancel()
	require.NoError(t, <-done)
}

// A queue that does not exist is reported and retried, not a crash.
func TestConsumer_MissingQueueIsRetried(t *testing.T) {
	_, url := testenv.RabbitMQ(t)
	reported := make(chan error, 100)
	c, err := rabbitmq.NewConsumer(url, rabbitmq.ConsumerConfig{Queue: testenv.UniqueName(t, "missing"),
		ReconnectInitial: time.Millisecond, ReconnectMax: 5 * time.Millisecond,
		Hooks: rabbitmq.ConsumerHooks{OnError: func(err error) {
			select {
			case reported <- err:
			default:
			}
		}}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, func(context.Context, outbox.Message) error { return nil }) }()
	for range 2 {
		err := <-reported
		require.ErrorIs(t, err, rabbitmq.ErrUnavailable)
		assert.Contains(t, err.Error(), "NOT_FOUND")
	}
	cancel()
	require.NoError(t, <-done)
}
