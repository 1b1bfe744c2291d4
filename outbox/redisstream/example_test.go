package redisstream_test

import (
	"fmt"

	"github.com/bedrock-go/bedrock/outbox/redisstream"
)

// Decode turns the fields of an entry read with XREADGROUP or XRANGE back
// into an outbox message.
func ExampleDecode() {
	m, err := redisstream.Decode(map[string]any{
		redisstream.FieldID:      "0190f3a4-5b6c-7d8e-9f01-23456789abcd",
		redisstream.FieldTopic:   "orders.paid",
		redisstream.FieldKey:     "order-42",
		redisstream.FieldPayload: `{"total":1999}`,
		redisstream.FieldHeaders: `{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`,
	})
	fmt.Println(err, m.Topic, m.Key, string(m.Payload), m.Headers["traceparent"][:5])
	_, err = redisstream.Decode(map[string]any{"foo": "bar"})
	fmt.Println(err)
	// Output:
	// <nil> orders.paid order-42 {"total":1999} 00-4b
	// redisstream: malformed entry: missing "id"
}
