// Package outbox implements the transactional outbox: events are written in
// the same PostgreSQL transaction as the business change that causes them,
// and a relay publishes them to a broker after the commit, so that a change
// and its events are never out of step.
//
// # Writing
//
// [Enqueue] (or [Writer.Enqueue] for another table or to inject trace
// headers) inserts events inside the caller's pgx transaction. They become
// visible to relays if and only if the transaction commits. [Migrate]
// creates the tables; [Schema] holds the same SQL for other migration tools.
//
// A service writes its change and its event together:
//
//	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
//		if _, err := tx.Exec(ctx, "UPDATE orders SET status = 'paid' WHERE id = $1", id); err != nil {
//			return err
//		}
//		m, err := outbox.JSON("orders.paid", id, event)
//		if err != nil {
//			return err
//		}
//		return outbox.Enqueue(ctx, tx, m)
//	})
//
// and runs a relay next to it:
//
//	pub, _ := redisstream.New(redisClient, redisstream.Config{})
//	relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{})
//	go relay.Run(ctx)
//
// # Several destinations
//
// Events that go to several brokers are written once per destination: a
// [Writer] with WriterConfig.Tables inserts each event into one table per
// destination, in the caller's transaction and with the same ID, and each
// table has its own [Relay] with its own Publisher. Each destination then
// has its own progress, retries and dead letters, and a broker that is
// down delays only its own table. One relay whose Publisher fans out to two
// brokers does not have this property: it settles a batch only when both
// acknowledged it, so every batch waits out the dead broker's
// PublishTimeout and the healthy one falls behind with it.
//
//	w, _ := outbox.NewWriter(outbox.WriterConfig{Tables: []string{"events_redis", "events_nats"}})
//	redisRelay, _ := outbox.NewRelay(pool, redisPub, outbox.RelayConfig{Table: "events_redis"})
//	natsRelay, _ := outbox.NewRelay(pool, natsPub, outbox.RelayConfig{Table: "events_nats"})
//
// # Relaying
//
// A [Relay] claims batches of due events with SELECT ... FOR UPDATE SKIP
// LOCKED, hands them to a [Publisher], and deletes or marks them in the same
// transaction only after the broker acknowledged them. Delivery is at least
// once: a crash between the acknowledgement and the commit publishes the
// batch again, so duplicates per crash are bounded by the batch size.
// Several relays, in one process or many, serve one table safely.
//
// In [ModeNotify] (the default) Enqueue's pg_notify wakes the relays at
// commit and polling every PollInterval is the fallback; [ModePoll] only
// polls, for PgBouncer in transaction pooling mode. Failed events are retried
// with exponential backoff and jitter, then dead-lettered after MaxAttempts
// ([Relay.DeadLetters], [Relay.Requeue], [Relay.Discard]). Published events
// are deleted at once, or kept for Retention and deleted by [Relay.Cleanup]
// in bounded batches. [Relay.Run] returns after its context ends and the
// in-flight batches finish, or ShutdownTimeout passes, in which case they
// stay pending: nothing unacknowledged is ever marked. [Hooks] report
// claimed, published (with lag), failed and dead-lettered events and the
// relay's own errors; observe/outboxobserve counts them, and a service logs
// at least OnFailure and OnError, since a broker outage shows nowhere else.
//
// # Guarantees
//
//   - No skipped events. Relays find work by state, not by a cursor over
//     ids, so a transaction that commits after one with a later id is still
//     published (the id-order versus commit-order pitfall does not arise).
//   - Per-key commit order. Enqueue takes a transaction-scoped advisory lock
//     per aggregate key before the rows draw their sequence numbers, so
//     within a key sequence order is commit order. A relay claims an event
//     only if no earlier event of its key is still open, so at most one
//     event per key is in flight across all relays, and an event is handed
//     to the publisher only after its predecessor was acknowledged and
//     recorded. The price: writers of one key are serialised until commit,
//     and one key moves at one event per batch round trip (about a
//     thousand per second); distinct keys and keyless events flow in
//     parallel. The claim query walks pending events in sequence order and
//     skips those whose key is busy, so its cost grows with the number of
//     such waiting events ahead of the first BatchSize eligible ones: with
//     a backlog of 20,000 events on 40 keys a claim takes about 200ms; with
//     many keys (the usual aggregate ids) or a short backlog it stays under
//     a millisecond.
//   - Parking. A failing event is retried with exponential backoff and keeps
//     its key parked; after MaxAttempts it is dead-lettered and still parks
//     its key until an operator calls [Relay.Requeue] or [Relay.Discard].
//
// The broker side of the order holds if the publisher publishes a batch in
// slice order; the consumer side needs one consumer per key (or
// partitioning by key) and the [Inbox] to drop redeliveries.
//
// # Consuming
//
// [Inbox.Process] records a message id in the consumer's transaction, so a
// redelivered message has no second effect; [Inbox.Handle] wraps it into
// the Handler that the consumer helpers of the sub-packages
// outbox/redisstream, outbox/natsjs and outbox/rabbitmq call before
// acknowledging.
package outbox
