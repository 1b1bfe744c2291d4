package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/examples/service/internal/events"
	"github.com/bedrock-go/bedrock/examples/service/internal/servicetest"
)

// TestOrderEventsReachEachBroker runs the event flow end to end once per
// EVENTS_BROKER, against the real broker: an order's order.placed goes
// through the outbox to that broker, and its consumer, behind the inbox,
// adds the order to units_sold exactly once.
func TestOrderEventsReachEachBroker(t *testing.T) {
	for _, broker := range []string{events.BrokerRedis, events.BrokerNATS, events.BrokerRabbitMQ} {
		t.Run(broker, func(t *testing.T) {
			env := map[string]string{"EVENTS_BROKER": broker}
			var prefix string // set once the service started; the cleanups below run after it stopped
			switch broker {
			case events.BrokerNATS:
				nc, u := servicetest.NATS(t)
				env["NATS_URL"] = u
				t.Cleanup(func() {
					if js, err := jetstream.New(nc); err == nil && prefix != "" {
						stream, _, _, _ := events.Names(prefix)
						_ = js.DeleteStream(context.Background(), stream)
					}
				})
			case events.BrokerRabbitMQ:
				conn, u := servicetest.RabbitMQ(t)
				env["RABBITMQ_URL"] = u
				t.Cleanup(func() {
					ch, err := conn.Channel()
					if err != nil || prefix == "" {
						return
					}
					defer ch.Close()
					_, _, exchange, queue := events.Names(prefix)
					_, _ = ch.QueueDelete(queue, false, false, false)
					_, _ = ch.QueueDelete(queue+".dead", false, false, false)
					_ = ch.ExchangeDelete(exchange, false, false)
					_ = ch.ExchangeDelete(queue+".dlx", false, false)
				})
			}
			s := startServiceEnv(t, env, nil)
			prefix = s.prefix

			_, path := adminWithProduct(s, broker+"-admin@example.test")
			id := s.do("GET", path, nil).json(t)["id"]
			s.signup(broker+"-buyer@example.test", "Buyer")
			buyer := s.login(broker + "-buyer@example.test")
			order := map[string]any{"items": []any{map[string]any{"product_id": id, "quantity": 2}}}
			for range 2 { // a replay is the same order: one event
				r := s.do("POST", "/v1/orders", order, append(bearer(buyer.Access), "Idempotency-Key", "events-"+broker)...)
				require.Equal(t, http.StatusCreated, r.StatusCode, "%s", r.body)
			}
			s.eventuallyUnitsSold(id, 2)

			// The event went through the broker chosen, and only through it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			streams, err := s.rdb.Keys(ctx, s.prefix+"events:*").Result()
			require.NoError(t, err)
			switch broker {
			case events.BrokerRedis:
				assert.NotEmpty(t, streams, "order.placed is on a Redis stream")
			case events.BrokerNATS:
				assert.Empty(t, streams, "no Redis stream with another broker")
				nc, _ := servicetest.NATS(t)
				js, err := jetstream.New(nc)
				require.NoError(t, err)
				stream, subjects, _, _ := events.Names(s.prefix)
				info, err := js.Stream(ctx, stream)
				require.NoError(t, err)
				st, err := info.Info(ctx, jetstream.WithSubjectFilter(subjects+events.TopicOrderPlaced))
				require.NoError(t, err)
				assert.Equal(t, uint64(1), st.State.Msgs, "one order.placed on JetStream")
			case events.BrokerRabbitMQ:
				assert.Empty(t, streams, "no Redis stream with another broker")
				conn, _ := servicetest.RabbitMQ(t)
				ch, err := conn.Channel()
				require.NoError(t, err)
				defer ch.Close()
				_, _, _, queue := events.Names(s.prefix)
				q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
				require.NoError(t, err, "the consumer's queue exists")
				assert.Equal(t, 0, q.Messages, "order.placed was consumed and acknowledged")
				assert.Equal(t, 1, q.Consumers)
			}
		})
	}
}

// TestBrokerUnreachable stops the start with one line naming the broker,
// and never the password of its URL.
func TestBrokerUnreachable(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, cfg := range []events.BrokerConfig{
		{Kind: events.BrokerRabbitMQ, RabbitMQURL: "amqp://shop:s3cret@127.0.0.1:1/", Log: log},
		{Kind: events.BrokerNATS, NATSURL: "nats://shop:s3cret@127.0.0.1:1", Log: log},
	} {
		t.Run(cfg.Kind, func(t *testing.T) {
			_, err := events.Connect(context.Background(), cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "unreachable")
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
	_, err := events.Connect(context.Background(), events.BrokerConfig{Kind: "kafka", Log: log})
	assert.ErrorContains(t, err, `unknown broker "kafka"`)
}

// TestRunWithEachEventsBroker runs main's own path with EVENTS_BROKER set:
// the start reaches the broker, serves, and stops gracefully.
func TestRunWithEachEventsBroker(t *testing.T) {
	for _, broker := range []string{events.BrokerNATS, events.BrokerRabbitMQ} {
		t.Run(broker, func(t *testing.T) {
			env := runEnv(t)
			env["EVENTS_BROKER"] = broker
			stream, _, exchange, queue := events.Names(env["REDIS_PREFIX"])
			switch broker {
			case events.BrokerNATS:
				nc, u := servicetest.NATS(t)
				env["NATS_URL"] = u
				t.Cleanup(func() {
					if js, err := jetstream.New(nc); err == nil {
						_ = js.DeleteStream(context.Background(), stream)
					}
				})
			case events.BrokerRabbitMQ:
				conn, u := servicetest.RabbitMQ(t)
				env["RABBITMQ_URL"] = u
				t.Cleanup(func() {
					if ch, err := conn.Channel(); err == nil {
						_, _ = ch.QueueDelete(queue, false, false, false)
						_, _ = ch.QueueDelete(queue+".dead", false, false, false)
						_ = ch.ExchangeDelete(exchange, false, false)
						_ = ch.ExchangeDelete(queue+".dlx", false, false)
						_ = ch.Close()
					}
				})
			}
			base, stop := startRun(t, env, nil)
			defer stop()
			resp, err := http.Get(base + "/readyz")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}
