// Package outboxtest is the conformance suite every [outbox.Publisher]
// runs: a batch arrives whole, in order and unaltered, republishing is
// idempotent per message id, a cancelled publish is never reported as
// acknowledged, and, given a PostgreSQL pool, a relay through
// the publisher delivers every committed event once, in order per key, and
// never an event whose transaction rolled back. The in-memory publisher,
// redisstream, natsjs and rabbitmq run it.
//
//	func TestPublisher(t *testing.T) {
//		outboxtest.Run(t, outboxtest.Harness{
//			New: func(t *testing.T) (outbox.Publisher, outboxtest.ReadFunc) {
//				pub := newPublisher(t)
//				return pub, func(t *testing.T) []outbox.Message { return readAll(t) }
//			},
//			Pool: newPool, // optional
//		})
//	}
package outboxtest
