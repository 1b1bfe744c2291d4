package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bedrock-go/bedrock/internal/backoff"
	"github.com/bedrock-go/bedrock/outbox"
	amqp "github.com/rabbitmq/amqp091-go"
)

// ConsumerConfig configures a [Consumer]. Queue is required; every other
// zero field has the documented default.
type ConsumerConfig struct {
	// Queue is the queue to consume, declared beforehand (see [Topology]).
	Queue string
	// Prefetch is how many unacknowledged messages the broker sends ahead
	// (basic.qos); 1 when zero. With 1, a message whose handler failed is
	// handled again before any later message of the queue, so per-key
	// order holds across handler failures; with more, the messages already
	// sent behind it are handled first. Raise it for throughput when
	// handlers rarely fail or order within a key does not matter.
	Prefetch int
	// RetryDelay is how long a message whose handler failed is held before
	// it is returned to the queue, so that a failing dependency is not
	// spun on; 1s when zero.
	RetryDelay time.Duration
	// Tag names this consumer to the broker; the client library makes one
	// up when empty.
	Tag string
	// DialTimeout, Heartbeat, ReconnectInitial and ReconnectMax are as in
	// [Config]: 10s, 10s, 100ms and 10s when zero.
	DialTimeout, Heartbeat         time.Duration
	ReconnectInitial, ReconnectMax time.Duration
	// Hooks observe the consumer.
	Hooks ConsumerHooks
}

// ConsumerHooks observe a [Consumer]. Every field may be nil; a nil hook
// costs nothing. Hooks run on the consumer's goroutine and must not block.
type ConsumerHooks struct {
	// OnError receives handler errors, malformed messages and connection
	// errors, which the consumer survives.
	OnError func(err error)
}

// Consumer reads a queue with manual acknowledgements: it hands each
// message to an outbox.Handler (typically [outbox.Inbox.Handle], which
// commits the side effect with the message id) and acknowledges it only
// after the handler returned nil, that is after its transaction committed.
// A handler error returns the message to the queue after RetryDelay; the
// queue's delivery limit (see [Topology]) dead-letters it once it has
// failed too often. A message without a message id is rejected at once,
// straight to the dead-letter exchange. Delivery is at least once; the
// inbox makes the effect exactly once. It handles one message at a time,
// in delivery order; for parallelism run several consumers, on several
// queues when per-key order matters. Its one method is [Consumer.Run].
type Consumer struct {
	cfg    ConsumerConfig
	dialer *dialer
}

// NewConsumer returns a Consumer of the broker at url, or an error wrapping
// ErrInvalidConfig. It does not connect: Run does.
func NewConsumer(url string, cfg ConsumerConfig) (*Consumer, error) {
	switch {
	case cfg.Queue == "":
		return nil, fmt.Errorf("%w: ConsumerConfig.Queue is required", ErrInvalidConfig)
	case cfg.Prefetch < 0 || cfg.Prefetch > 65535:
		return nil, fmt.Errorf("%w: Prefetch %d is outside 0..65535", ErrInvalidConfig, cfg.Prefetch)
	case cfg.RetryDelay < 0 || cfg.DialTimeout < 0 || cfg.Heartbeat < 0 || cfg.ReconnectInitial < 0 || cfg.ReconnectMax < 0:
		return nil, fmt.Errorf("%w: a negative duration", ErrInvalidConfig)
	}
	if cfg.Prefetch == 0 {
		cfg.Prefetch = 1
	}
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = time.Second
	}
	d, err := newDialer(url, cfg.DialTimeout, cfg.Heartbeat, cfg.ReconnectInitial, cfg.ReconnectMax, nil)
	if err != nil {
		return nil, err
	}
	return &Consumer{cfg: cfg, dialer: d}, nil
}

// Run consumes until ctx ends, then returns nil. When the connection or
// channel is lost it dials again with backoff; the messages it had not
// acknowledged are redelivered by the broker (to it or to another
// consumer), and the inbox drops the ones already handled. A queue that
// does not exist is reported through OnError and retried like a lost
// connection.
func (c *Consumer) Run(ctx context.Context, h outbox.Handler) error {
	if h == nil {
		return fmt.Errorf("%w: nil handler", ErrInvalidConfig)
	}
	for ctx.Err() == nil {
		err := c.session(ctx, h)
		if ctx.Err() != nil {
			break
		}
		c.report(err)
		d := c.dialer.retry.Delay(0, nil)
		c.dialer.mu.Lock()
		if wait := time.Until(c.dialer.retryAt); wait > d {
			d = wait
		}
		c.dialer.mu.Unlock()
		_ = backoff.Sleep(ctx, d)
	}
	return nil
}

// session consumes on one connection until it fails or ctx ends.
func (c *Consumer) session(ctx context.Context, h outbox.Handler) error {
	conn, err := c.dialer.dial(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.CloseDeadline(time.Now().Add(c.dialer.timeout)) }()
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Qos(c.cfg.Prefetch, 0, false)
	}
	var deliveries <-chan amqp.Delivery
	if err == nil {
		deliveries, err = ch.Consume(c.cfg.Queue, c.cfg.Tag, false, false, false, false, nil)
	}
	if err != nil {
		c.dialer.settle(err)
		return fmt.Errorf("%w: consume %q: %w", ErrUnavailable, c.cfg.Queue, err)
	}
	c.dialer.settle(nil)
	for {
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-deliveries:
			if !ok {
				return fmt.Errorf("%w: consumer of %q lost its channel", ErrUnavailable, c.cfg.Queue)
			}
			c.handle(ctx, h, &d)
		}
	}
}

func (c *Consumer) handle(ctx context.Context, h outbox.Handler, d *amqp.Delivery) {
	m, err := Decode(d)
	if err != nil {
		c.report(err)
		c.settle(d.Reject(false), m.ID) // to the dead-letter exchange
		return
	}
	if err := h(ctx, m); err != nil {
		c.report(fmt.Errorf("rabbitmq: handle %s: %w", m.ID, err))
		// Hold the message, then return it; a cancelled ctx returns it at
		// once, to whichever consumer is next.
		_ = backoff.Sleep(ctx, c.cfg.RetryDelay)
		c.settle(d.Nack(false, true), m.ID)
		return
	}
	c.settle(d.Ack(false), m.ID)
}

// settle reports a failed ack, nack or reject: the channel is gone, and the
// broker redelivers the message.
func (c *Consumer) settle(err error, id string) {
	if err != nil && !errors.Is(err, amqp.ErrClosed) {
		c.report(fmt.Errorf("rabbitmq: settle %s: %w", id, err))
	}
}

func (c *Consumer) report(err error) {
	if h := c.cfg.Hooks.OnError; h != nil && err != nil {
		h(err)
	}
}
