package outboxobserve

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/outbox"
)

// Attribute keys of the outbox adapter.
const (
	attrOutboxRelay = attribute.Key("bedrock.outbox.relay")
	// attrDestination is the semantic-convention key for a message's
	// destination; the outbox's topic is one.
	attrDestination = attribute.Key("messaging.destination.name")
)

// topicKey is what a message event's attribute set depends on.
type topicKey struct{ topic, class string }

// Hooks returns hooks that record the work of the outbox Relay
// called name (a constant: it becomes the bedrock.outbox.relay attribute).
// Message ids, keys, payloads and error text are never recorded; topics
// are, as messaging.destination.name, because they are chosen in code. A
// nil mp means the global provider.
//
// Metrics:
//   - bedrock.outbox.claimed ({message}, counter): messages claimed for
//     publication.
//   - bedrock.outbox.published ({message}, counter): messages the broker
//     acknowledged, per topic.
//   - bedrock.outbox.lag (s, histogram): per topic, the time from a
//     message's commit to its claim, on the database's clock; the one
//     number to alert on when the relay falls behind.
//   - bedrock.outbox.failed ({message}, counter): publications that will be
//     retried, per topic, with error.type: canceled, deadline_exceeded or
//     _OTHER.
//   - bedrock.outbox.dead_lettered ({message}, counter): messages that used
//     their last attempt, per topic.
//   - bedrock.outbox.errors ({error}, counter): failures of the relay
//     itself (database down, listener lost), with error.type.
//
// Past 256 distinct topic and class pairs, further ones are recorded with
// the topic "_OTHER". It fails only if the instruments cannot be created.
func Hooks(mp metric.MeterProvider, name string) (outbox.Hooks, error) {
	b := otelhook.New(mp, "outboxobserve")
	claimed := b.Counter("bedrock.outbox.claimed", "{message}", "Outbox messages claimed for publication.")
	published := b.Counter("bedrock.outbox.published", "{message}", "Outbox messages acknowledged by the broker.")
	lag := b.Duration("bedrock.outbox.lag", "Time from an outbox message's commit to its claim.")
	failed := b.Counter("bedrock.outbox.failed", "{message}", "Outbox publications that failed and will be retried.")
	dead := b.Counter("bedrock.outbox.dead_lettered", "{message}", "Outbox messages dead-lettered after their last attempt.")
	relayErrors := b.Counter("bedrock.outbox.errors", "{error}", "Errors of the outbox relay itself.")
	if err := b.Check("outbox"); err != nil {
		return outbox.Hooks{}, err
	}
	n := attrOutboxRelay.String(name)
	plain := otelhook.OptsOf(n)
	classOf := func(err error) string {
		if err == nil {
			return ""
		}
		return otelhook.ErrorTypeOf(err)
	}
	sets := otelhook.NewBoundedSets(func(k topicKey) otelhook.Opts {
		if k.class == "" {
			return otelhook.OptsOf(n, attrDestination.String(k.topic))
		}
		return otelhook.OptsOf(n, attrDestination.String(k.topic), otelhook.AttrErrorType.String(k.class))
	}, func(k topicKey) topicKey { return topicKey{"_OTHER", k.class} })
	relayErr := otelhook.NewClassifier(otelhook.AttrErrorType, "_OTHER", otelhook.WithContextClasses(), n)
	return outbox.Hooks{
		OnClaim: func(count int) { claimed.Add(context.Background(), int64(count), plain.Add...) },
		OnPublish: func(m outbox.Message, d time.Duration) {
			o := sets.Get(topicKey{topic: m.Topic})
			published.Add(context.Background(), 1, o.Add...)
			lag.Record(context.Background(), d.Seconds(), o.Record...)
		},
		OnFailure: func(m outbox.Message, err error, _ time.Duration) {
			failed.Add(context.Background(), 1, sets.Get(topicKey{m.Topic, classOf(err)}).Add...)
		},
		OnDeadLetter: func(m outbox.Message, _ error) {
			dead.Add(context.Background(), 1, sets.Get(topicKey{topic: m.Topic}).Add...)
		},
		OnError: func(err error) { relayErrors.Add(context.Background(), 1, relayErr.Of(err).Add...) },
	}, nil
}
