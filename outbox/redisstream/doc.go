// Package redisstream connects the outbox to Redis Streams.
//
// [Publisher] is an outbox.Publisher: it appends each message with XADD
// (optionally MAXLEN ~), one pipelined round trip per batch, to a stream per
// topic or to one shared stream. Each append runs in a small Lua script that
// also remembers the message id for DedupeWindow, so that a batch the relay
// republishes after a crash is not appended twice.
//
// [Consumer] reads a stream through a consumer group, hands each message to
// an outbox.Handler (typically [outbox.Inbox.Handle], which commits the side
// effect and the inbox record together), acknowledges with XACK only after
// the handler succeeded, and claims entries that a crashed consumer left
// pending for longer than MinIdle.
//
// To keep up with a relay, the consumer reads up to Count entries (100) per
// call, handles them on Workers goroutines (8) partitioned by key, so that
// one key's entries stay in stream order while different keys proceed in
// parallel, and acknowledges each batch with one XACK. On a two-core
// machine, with a handler running one PostgreSQL transaction per entry
// through an Inbox, this took draining from about 1,050 to about 3,350
// entries a second (BenchmarkConsumer_InboxThroughput). [Consumer.Lag]
// reports the group's backlog (undelivered and unacknowledged entries) for
// a gauge.
//
// When Redis is down, Publish returns an *outbox.PublishError and the relay
// keeps the events pending and retries them; the consumer reports the error
// and retries its reads.
package redisstream
