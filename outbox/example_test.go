package outbox_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/bedrock-go/bedrock/outbox"
)

// A MemoryPublisher stands in for a broker in tests; like a broker with
// de-duplication it keeps one copy per message id.
func ExampleMemoryPublisher() {
	pub := &outbox.MemoryPublisher{}
	m, _ := outbox.JSON("orders.created", "order-42", map[string]int{"total": 1999})
	m.ID = "0190f3a4-5b6c-7d8e-9f01-23456789abcd"
	ctx := context.Background()
	_ = pub.Publish(ctx, []outbox.Message{m})
	_ = pub.Publish(ctx, []outbox.Message{m}) // redelivered after a relay crash
	fmt.Println(pub.Len(), pub.Duplicates(), string(pub.Messages()[0].Payload))
	// Output: 1 1 {"total":1999}
}

// PublisherFunc adapts any client; returning a *PublishError tells the relay
// which messages of the batch to retry.
func ExamplePublisherFunc() {
	pub := outbox.PublisherFunc(func(ctx context.Context, msgs []outbox.Message) error {
		errs := make([]error, len(msgs))
		for i, m := range msgs {
			if m.Topic == "" {
				errs[i] = errors.New("no destination")
				continue
			}
			fmt.Println("sent", m.Topic)
		}
		return &outbox.PublishError{Errs: errs}
	})
	err := pub.Publish(context.Background(), []outbox.Message{{Topic: "a"}, {}})
	var pe *outbox.PublishError
	fmt.Println(errors.As(err, &pe), pe.Errs[0] == nil, pe.Errs[1])
	// Output:
	// sent a
	// true true no destination
}

// Invalid input is reported before anything reaches the database.
func ExampleEnqueue_invalid() {
	err := outbox.Enqueue(context.Background(), nil, outbox.Message{Payload: []byte("x")})
	var me *outbox.MessageError
	fmt.Println(errors.Is(err, outbox.ErrInvalidMessage), errors.As(err, &me), me.Field)
	// Output: true true Topic
}
