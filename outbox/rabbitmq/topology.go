package rabbitmq

import (
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Topology describes the exchange, queue and dead-letter exchange a
// consumer reads from, and declares them ([Topology.Declare]). Queue is
// required; every other zero field has the documented default.
//
// The queue is a quorum queue, because the broker then counts deliveries
// itself: a message delivered more than DeliveryLimit times (handler
// errors, consumers that crashed or lost their connection while handling
// it) is moved to DeadLetterExchange instead of being delivered again.
// Counting in a header instead would need the consumer to republish the
// message on every failure, which reorders it behind later messages, is not
// atomic with the ack, and cannot count a consumer that crashes before
// republishing. Dead-lettering is at-least-once (the broker keeps the
// message until the dead-letter queue confirmed it), which quorum queues
// support with overflow reject-publish: a publish to a queue at its length
// limit is nacked, and the outbox retries it.
type Topology struct {
	// Exchange is a durable exchange of ExchangeKind the queue is bound
	// to; "" binds nothing and leaves the queue on the default exchange
	// (publish with an empty Config.Exchange and the queue's name as
	// routing key).
	Exchange string
	// ExchangeKind is "topic" when empty; "direct", "fanout" and
	// "headers" are the others.
	ExchangeKind string
	// Queue is the durable quorum queue consumers read.
	Queue string
	// BindingKeys bind Queue to Exchange; "#" (everything) when empty and
	// Exchange is set.
	BindingKeys []string
	// DeliveryLimit is how many times a message is returned to the queue
	// (x-delivery-limit) before it is dead-lettered: a message is handled
	// at most DeliveryLimit+1 times. 5 when zero; negative is invalid.
	DeliveryLimit int
	// DeadLetterExchange receives poison messages; Queue+".dlx" when
	// empty. It is a durable fanout exchange bound to DeadLetterQueue.
	DeadLetterExchange string
	// DeadLetterQueue keeps poison messages for an operator; Queue+".dead"
	// when empty.
	DeadLetterQueue string
	// SingleActiveConsumer makes the broker deliver to one consumer at a
	// time (x-single-active-consumer), the others standing by: per-key
	// order then holds with several consumer processes.
	SingleActiveConsumer bool
}

func (t Topology) withDefaults() (Topology, error) {
	switch {
	case t.Queue == "":
		return t, fmt.Errorf("%w: Topology.Queue is required", ErrInvalidConfig)
	case t.DeliveryLimit < 0:
		return t, fmt.Errorf("%w: Topology.DeliveryLimit %d is negative", ErrInvalidConfig, t.DeliveryLimit)
	}
	if t.ExchangeKind == "" {
		t.ExchangeKind = amqp.ExchangeTopic
	}
	switch t.ExchangeKind {
	case amqp.ExchangeTopic, amqp.ExchangeDirect, amqp.ExchangeFanout, amqp.ExchangeHeaders:
	default:
		return t, fmt.Errorf("%w: Topology.ExchangeKind %q is not topic, direct, fanout or headers", ErrInvalidConfig, t.ExchangeKind)
	}
	if t.Exchange != "" && len(t.BindingKeys) == 0 {
		t.BindingKeys = []string{"#"}
	}
	if t.DeliveryLimit == 0 {
		t.DeliveryLimit = 5
	}
	if t.DeadLetterExchange == "" {
		t.DeadLetterExchange = t.Queue + ".dlx"
	}
	if t.DeadLetterQueue == "" {
		t.DeadLetterQueue = t.Queue + ".dead"
	}
	return t, nil
}

// QueueArgs returns the arguments Declare gives the queue, or an error
// wrapping ErrInvalidConfig.
func (t Topology) QueueArgs() (amqp.Table, error) {
	t, err := t.withDefaults()
	if err != nil {
		return nil, err
	}
	args := amqp.Table{
		amqp.QueueTypeArg:            amqp.QueueTypeQuorum,
		"x-delivery-limit":           int64(t.DeliveryLimit),
		"x-dead-letter-exchange":     t.DeadLetterExchange,
		"x-dead-letter-strategy":     "at-least-once",
		amqp.QueueOverflowArg:        amqp.QueueOverflowRejectPublish,
		amqp.SingleActiveConsumerArg: t.SingleActiveConsumer,
	}
	return args, nil
}

// Declare declares the exchange, the queue with its bindings, and the
// dead-letter exchange and queue on ch. It is idempotent; declaring an
// existing queue with other arguments fails with the broker's
// PRECONDITION_FAILED, which closes ch.
func (t Topology) Declare(ch *amqp.Channel) error {
	args, err := t.QueueArgs()
	if err != nil {
		return err
	}
	t, _ = t.withDefaults()
	if err := ch.ExchangeDeclare(t.DeadLetterExchange, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
		return fmt.Errorf("rabbitmq: declare exchange %q: %w", t.DeadLetterExchange, err)
	}
	if _, err := ch.QueueDeclare(t.DeadLetterQueue, true, false, false, false,
		amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum}); err != nil {
		return fmt.Errorf("rabbitmq: declare queue %q: %w", t.DeadLetterQueue, err)
	}
	if err := ch.QueueBind(t.DeadLetterQueue, "", t.DeadLetterExchange, false, nil); err != nil {
		return fmt.Errorf("rabbitmq: bind queue %q: %w", t.DeadLetterQueue, err)
	}
	if _, err := ch.QueueDeclare(t.Queue, true, false, false, false, args); err != nil {
		return fmt.Errorf("rabbitmq: declare queue %q: %w", t.Queue, err)
	}
	if t.Exchange == "" {
		return nil
	}
	if err := ch.ExchangeDeclare(t.Exchange, t.ExchangeKind, true, false, false, false, nil); err != nil {
		return fmt.Errorf("rabbitmq: declare exchange %q: %w", t.Exchange, err)
	}
	for _, k := range t.BindingKeys {
		if err := ch.QueueBind(t.Queue, k, t.Exchange, false, nil); err != nil {
			return fmt.Errorf("rabbitmq: bind queue %q to %q with %q: %w", t.Queue, t.Exchange, k, err)
		}
	}
	return nil
}
