// Package natsjs connects the outbox to NATS JetStream.
//
// [Publisher] is an outbox.Publisher: it publishes each message
// asynchronously on SubjectPrefix+topic with the Nats-Msg-Id header set to
// the message id, so that JetStream drops a batch the relay republishes
// after a crash (within the stream's Duplicates window), and returns only
// when every acknowledgement arrived. The topic and key travel in the
// Outbox-Topic and Outbox-Key headers, next to the message's own headers.
//
// [Consumer] drives a durable pull consumer: it hands each message to an
// outbox.Handler (typically [outbox.Inbox.Handle]) and acknowledges it only
// after the handler's transaction committed, naking it for redelivery when
// the handler fails. It pulls up to Batch messages (100) at a time and
// handles them on Workers goroutines (8) partitioned by key, so that one
// key's messages keep their order while different keys proceed in
// parallel (into an Inbox handler on a two-core machine, about 2,300
// messages a second where one at a time managed 900:
// BenchmarkConsumer_InboxThroughput); the consumer's NumPending and
// NumAckPending (jetstream ConsumerInfo) are its lag.
//
// When NATS is down, Publish returns an *outbox.PublishError and the relay
// keeps the events pending and retries them.
//
// # Connections that survive outages
//
// nats.go's defaults give up after 60 reconnection attempts (about two
// minutes), then close the connection for good: every later publish fails
// with "nats: connection closed" and the outbox only grows. Build the
// connection with [ConnOptions], which reconnects forever with backoff and
// jitter, notices a silent partition within seconds, and calls
// [ConnHooks] on every disconnection and reconnection so they can be logged
// and counted; and register [Publisher.Check] as a readiness check, so that
// the broker's state is visible in health.
package natsjs
