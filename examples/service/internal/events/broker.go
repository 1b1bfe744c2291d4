package events

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/observe/natsjsobserve"
	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/natsjs"
	"github.com/bedrock-go/bedrock/outbox/rabbitmq"
	"github.com/bedrock-go/bedrock/outbox/redisstream"
)

// Brokers the service can send its events to (EVENTS_BROKER).
const (
	BrokerRedis    = "redis"
	BrokerNATS     = "nats"
	BrokerRabbitMQ = "rabbitmq"
)

// BrokerConfig names the broker order.placed goes to, and what reaching
// it takes.
type BrokerConfig struct {
	// Kind is BrokerRedis (Redis Streams, the default when empty),
	// BrokerNATS (JetStream) or BrokerRabbitMQ.
	Kind string
	// Redis is the service's Redis, the broker of BrokerRedis.
	Redis redis.UniversalClient
	// Prefix starts every name the service creates on the broker, as it
	// starts its Redis keys (REDIS_PREFIX): "shop:" gives the stream
	// SHOP_EVENTS and subjects shop.events.<topic> on NATS, the exchange
	// shop.events and the queue shop.order-effects on RabbitMQ.
	Prefix string
	// NATSURL and RabbitMQURL locate the broker of their kind.
	NATSURL, RabbitMQURL string
	Log                  *slog.Logger
	// MeterProvider counts the NATS connection's disconnections and
	// reconnections (the global provider when nil).
	MeterProvider metric.MeterProvider
}

// Broker is where order.placed goes and where its consumer reads it.
type Broker struct {
	Kind      string
	Publisher outbox.Publisher
	// Check reports whether the broker is reachable, for readiness; nil
	// when the broker's state shows elsewhere (Redis, checked as the
	// service's Redis; RabbitMQ, whose client reconnects on its own).
	Check func(ctx context.Context) error
	// consume hands each order.placed message to h until ctx ends.
	consume func(ctx context.Context, h outbox.Handler) error
	// lag reports the consumer group's backlog; nil when the broker's
	// consumer cannot tell (NATS, RabbitMQ).
	lag   func(ctx context.Context) (redisstream.Lag, error)
	close func()
}

// observeLag exports the consumer's backlog as the observable gauge
// shop.events.consumer.backlog, one series per state: "lag" (entries not
// yet delivered to the group) and "pending" (delivered, not yet
// acknowledged). A backlog that grows under steady load means the
// consumers do not keep up. It reads the backlog once per collection, not
// per event. It registers nothing for a broker whose consumer cannot tell.
func (b *Broker) observeLag(mp metric.MeterProvider) (metric.Registration, error) {
	if b.lag == nil {
		return nil, nil
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter("github.com/bedrock-go/bedrock/examples/service/internal/events")
	gauge, err := meter.Int64ObservableGauge("shop.events.consumer.backlog", metric.WithUnit("{event}"),
		metric.WithDescription("Events of order.placed the consumer group has not handled yet, by state: lag (not delivered) or pending (delivered, not acknowledged)."))
	if err != nil {
		return nil, err
	}
	lagged := metric.WithAttributeSet(attribute.NewSet(attribute.String("state", "lag"), attribute.String("broker", b.Kind)))
	pending := metric.WithAttributeSet(attribute.NewSet(attribute.String("state", "pending"), attribute.String("broker", b.Kind)))
	return meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		l, err := b.lag(ctx)
		if err != nil {
			return nil // no observation: a gap in the series, not a false zero
		}
		if l.Lag >= 0 {
			o.ObserveInt64(gauge, l.Lag, lagged)
		}
		o.ObserveInt64(gauge, l.Pending, pending)
		return nil
	}, gauge)
}

// Close releases the broker's connections.
func (b *Broker) Close() {
	if b.close != nil {
		b.close()
	}
}

// Connect reaches the broker of cfg, creating the stream, or the exchange
// and queues, the service's events need if they do not exist.
func Connect(ctx context.Context, cfg BrokerConfig) (*Broker, error) {
	warn := func(err error) { cfg.Log.Warn("order.placed consumer", slog.Any("error", err)) }
	switch cfg.Kind {
	case BrokerRedis, "":
		return connectRedis(cfg, warn)
	case BrokerNATS:
		return connectNATS(ctx, cfg, warn)
	case BrokerRabbitMQ:
		return connectRabbitMQ(cfg, warn)
	}
	return nil, fmt.Errorf("events: unknown broker %q", cfg.Kind)
}

func connectRedis(cfg BrokerConfig, warn func(error)) (*Broker, error) {
	pub, err := redisstream.New(cfg.Redis, redisstream.Config{Prefix: cfg.Prefix + "events:"})
	if err != nil {
		return nil, err
	}
	consumer, err := redisstream.NewConsumer(cfg.Redis, redisstream.ConsumerConfig{
		// Count and Workers are left at their defaults (100 entries a read,
		// 8 keys handled at once, each key's entries in order): the
		// handler is safe to run concurrently, see Start.
		// No Name: each instance consumes under a name of its own, so the
		// entries pending with a dead instance can be claimed by the others.
		Stream: pub.StreamKey(TopicOrderPlaced), Group: "order-effects",
		Hooks: redisstream.ConsumerHooks{OnError: warn},
	})
	if err != nil {
		return nil, err
	}
	return &Broker{Kind: BrokerRedis, Publisher: pub, consume: consumer.Run, lag: consumer.Lag}, nil
}

// Names returns the names the service gives its events on NATS and
// RabbitMQ for a prefix: the JetStream stream and the start of its
// subjects, and the RabbitMQ exchange and queue.
func Names(prefix string) (stream, subjectPrefix, exchange, queue string) {
	base := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, strings.TrimSuffix(prefix, ":"))
	return strings.ToUpper(base) + "_EVENTS", base + ".events.", base + ".events", base + ".order-effects"
}

// DialNATS connects to the NATS server at url as every connection of the
// service does: reconnecting forever with backoff (natsjs.ConnOptions),
// each disconnection, failed attempt and reconnection logged and counted
// (natsjsobserve, under the name "events"), and the first connection
// bounded to 3 s.
func DialNATS(url string, mp metric.MeterProvider, log *slog.Logger) (*nats.Conn, error) {
	hooks, err := natsjsobserve.ConnHooks(mp, "events")
	if err != nil {
		return nil, err
	}
	opts, err := natsjs.ConnOptions(natsjs.ConnConfig{Hooks: natsjsobserve.Logged(hooks, log, "events")})
	if err != nil {
		return nil, err
	}
	return nats.Connect(url, append(opts, nats.Timeout(3*time.Second))...)
}

func connectNATS(ctx context.Context, cfg BrokerConfig, warn func(error)) (*Broker, error) {
	nc, err := DialNATS(cfg.NATSURL, cfg.MeterProvider, cfg.Log)
	if err != nil {
		return nil, fmt.Errorf("NATS at %s is unreachable (%v); start it (e.g. `docker run -d -p 4222:4222 nats -js`)", RedactNATS(cfg.NATSURL), err)
	}
	b, err := natsBroker(ctx, nc, cfg.Prefix, warn)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return b, nil
}

func natsBroker(ctx context.Context, nc *nats.Conn, prefix string, warn func(error)) (*Broker, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	stream, subjects, _, _ := Names(prefix)
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{subjects + ">"}}); err != nil {
		return nil, fmt.Errorf("NATS JetStream stream %s: %w", stream, err)
	}
	pub, err := natsjs.New(js, natsjs.Config{SubjectPrefix: subjects})
	if err != nil {
		return nil, err
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable: "order-effects", FilterSubject: pub.Subject(TopicOrderPlaced), AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("NATS JetStream consumer: %w", err)
	}
	consumer, err := natsjs.NewConsumer(cons, natsjs.ConsumerConfig{Hooks: natsjs.ConsumerHooks{OnError: warn}})
	if err != nil {
		return nil, err
	}
	return &Broker{Kind: BrokerNATS, Publisher: pub, Check: pub.Check, consume: consumer.Run, close: nc.Close}, nil
}

func connectRabbitMQ(cfg BrokerConfig, warn func(error)) (*Broker, error) {
	_, _, exchange, queue := Names(cfg.Prefix)
	if err := declareRabbitMQ(cfg.RabbitMQURL, exchange, queue); err != nil {
		return nil, err
	}
	pub, err := rabbitmq.New(cfg.RabbitMQURL, rabbitmq.Config{Exchange: exchange})
	if err != nil {
		return nil, err
	}
	consumer, err := rabbitmq.NewConsumer(cfg.RabbitMQURL, rabbitmq.ConsumerConfig{Queue: queue, Prefetch: 1,
		Hooks: rabbitmq.ConsumerHooks{OnError: warn}})
	if err != nil {
		_ = pub.Close()
		return nil, err
	}
	return &Broker{Kind: BrokerRabbitMQ, Publisher: pub, consume: consumer.Run, close: func() { _ = pub.Close() }}, nil
}

// declareRabbitMQ declares the topic exchange of the events and the
// consumer's quorum queue, bound to order.placed, with its dead-letter
// queue: one consumer at a time and prefetch 1 keep the order of each key.
func declareRabbitMQ(url, exchange, queue string) error {
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(3 * time.Second)})
	if err != nil {
		return fmt.Errorf("RabbitMQ at %s is unreachable (%v); start it (`rabbitmq-server -detached`)", redactURL(url), err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	err = rabbitmq.Topology{Exchange: exchange, Queue: queue, BindingKeys: []string{TopicOrderPlaced},
		SingleActiveConsumer: true}.Declare(ch)
	if err != nil {
		return fmt.Errorf("RabbitMQ topology: %w", err)
	}
	return nil
}

// RedactNATS hides the credentials of a NATS URL (or comma-separated list
// of URLs), for error messages and logs: a password becomes xxxxx, and so
// does a user without one, since NATS reads nats://<token>@host as a token.
func RedactNATS(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		switch {
		case err != nil:
			parts[i] = "(an invalid URL)"
		case u.User == nil:
			parts[i] = u.String()
		default:
			if _, hasPassword := u.User.Password(); hasPassword {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			} else {
				u.User = url.User("xxxxx")
			}
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

// redactURL drops the password of an AMQP URL, for error messages.
func redactURL(u string) string {
	uri, err := amqp.ParseURI(u)
	if err != nil {
		return "(an invalid URL)"
	}
	if uri.Password != "" {
		uri.Password = "xxxxx"
	}
	return uri.String()
}
