package rabbitmq

import (
	"fmt"
	"time"

	"github.com/bedrock-go/bedrock/outbox"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Headers that carry the outbox fields an AMQP message has no property for.
const (
	HeaderTopic = "outbox-topic"
	HeaderKey   = "outbox-key"
)

// brokerHeaders are the headers RabbitMQ itself adds to a delivery (quorum
// queue delivery counts, dead-lettering history); Decode leaves them out of
// the message's own headers.
var brokerHeaders = map[string]bool{
	"x-delivery-count": true, "x-death": true,
	"x-first-death-exchange": true, "x-first-death-queue": true, "x-first-death-reason": true,
	"x-last-death-exchange": true, "x-last-death-queue": true, "x-last-death-reason": true,
}

// publishing turns an outbox message into an AMQP message: the message id
// is the event id, the topic and key travel in headers next to the
// message's own, and the body is the payload unchanged.
func publishing(m *outbox.Message, mode uint8) amqp.Publishing {
	h := make(amqp.Table, len(m.Headers)+2)
	for k, v := range m.Headers {
		h[k] = v
	}
	h[HeaderTopic] = m.Topic
	if m.Key != "" {
		h[HeaderKey] = m.Key
	}
	return amqp.Publishing{
		MessageId:    m.ID,
		Headers:      h,
		Body:         m.Payload,
		DeliveryMode: mode,
		Timestamp:    m.CreatedAt,
	}
}

// Decode rebuilds the outbox message carried by a delivery: the id from the
// message-id property, topic and key from their headers (the routing key
// stands in for a missing topic), the payload from the body and every other
// string header, except those RabbitMQ adds, as a header. A delivery
// without a message id returns an error wrapping ErrMalformedMessage.
func Decode(d *amqp.Delivery) (outbox.Message, error) {
	m := outbox.Message{ID: d.MessageId, Payload: d.Body, CreatedAt: d.Timestamp}
	if m.ID == "" {
		return m, fmt.Errorf("%w: no message-id on a delivery with routing key %q", ErrMalformedMessage, d.RoutingKey)
	}
	if !d.Timestamp.IsZero() {
		m.CreatedAt = d.Timestamp.In(time.UTC)
	}
	for k, v := range d.Headers {
		s, ok := v.(string)
		switch {
		case k == HeaderTopic && ok:
			m.Topic = s
		case k == HeaderKey && ok:
			m.Key = s
		case ok && !brokerHeaders[k]:
			if m.Headers == nil {
				m.Headers = make(map[string]string, len(d.Headers))
			}
			m.Headers[k] = s
		}
	}
	if m.Topic == "" {
		m.Topic = d.RoutingKey
	}
	return m, nil
}
