// Package rabbitmq connects the outbox to RabbitMQ (AMQP 0-9-1).
//
// [Publisher] is an outbox.Publisher. It publishes on one channel in
// confirm mode with the mandatory flag set, and reports a message
// acknowledged only when the broker confirmed it (basic.ack) and did not
// return it as unroutable (basic.return): the relay then deletes the event
// from the outbox. A message no queue is bound for fails with an
// [*UnroutableError]; the relay retries it with its backoff and, after its
// MaxAttempts, dead-letters it in the outbox table, where
// [outbox.Relay.DeadLetters] lists it and [outbox.Relay.Requeue] sends it
// again once a queue is bound. Nothing is dropped silently.
//
//	pub, err := rabbitmq.New("amqp://guest:guest@127.0.0.1:5672/", rabbitmq.Config{Exchange: "events"})
//	relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{})
//	go relay.Run(ctx)
//
// # Messages
//
// The AMQP message id is the event id, so consumers drop the copies a
// relay publishes again after a crash ([outbox.Inbox] does it with the
// consumer's own transaction): RabbitMQ itself keeps every copy. The body is
// the payload unchanged, the topic and key travel in the outbox-topic and
// outbox-key headers next to the event's own headers, messages are
// persistent unless Config.Transient is set, and [Decode] rebuilds the
// event from a delivery.
//
// # Routing keys and per-key order
//
// A message goes to Config.Exchange with the routing key
// Config.RoutingKey(m), by default its topic: with a topic exchange, a queue
// bound with "orders.#" receives every topic under orders. The outbox key
// does not take part in routing unless RoutingKey uses it, for example
// topic+"."+key to partition a topic's keys over several queues by binding
// patterns, or the key alone with a consistent-hash exchange.
//
// Per-key order means: the events of one key reach every queue they are
// routed to in the order their transactions committed. The relay hands an
// event to the publisher only after the previous event of its key was
// confirmed, and the publisher sends a batch in slice order on one
// channel, so no queue can receive two events of one key out of order. A
// copy the relay publishes again after a crash may land behind later
// events of its key, but only after its first copy, which the broker had
// confirmed in order; the inbox drops the late copy. The order survives
// consumption when one consumer at a time reads a queue
// (Topology.SingleActiveConsumer) and, across handler failures, when its
// Prefetch is 1 (see [ConsumerConfig]).
//
// # Flow control and failures
//
// At most Config.MaxInFlight messages await confirmation at once; Publish
// waits for room, and a message that found none before its context ended
// fails unsent with ErrWindowFull. When the connection or channel closes,
// the messages awaiting confirmation fail with ErrUnavailable (the relay
// publishes them again) and the next Publish dials again, no sooner than
// the reconnect backoff (100ms doubling to 10s, with jitter) allows; while
// the broker is down Publish returns ErrUnavailable and the relay keeps the
// events pending. A message the broker nacks fails with ErrNacked.
//
// # Consuming
//
// [Consumer] reads a queue with manual acknowledgements and a configurable
// prefetch, hands each message to an outbox.Handler (typically
// [outbox.Inbox.Handle]) and acknowledges it only after the handler's
// transaction committed, so every event has exactly one effect. A handler
// error returns the message to the queue after RetryDelay. Poison messages
// are dead-lettered by the broker: [Topology] declares the queue as a
// quorum queue with x-delivery-limit and a dead-letter exchange, so a
// message returned more than DeliveryLimit times (by handler errors or by
// consumers that died holding it) goes to the dead-letter queue instead of
// blocking its queue; Topology's doc says why the broker's count was chosen
// over a count in headers. When the connection is lost the consumer dials
// again with backoff and the broker redelivers what it had not
// acknowledged.
package rabbitmq
