package rabbitmq_test

import (
	"context"
	"fmt"
	"log"

	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/rabbitmq"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Decode rebuilds the outbox event from a delivery: the message id is the
// event id, and the broker's own headers are left out.
func ExampleDecode() {
	d := amqp.Delivery{
		MessageId:  "0190f3a4-5b6c-7d8e-9f01-23456789abcd",
		RoutingKey: "orders.paid",
		Body:       []byte(`{"total":1999}`),
		Headers: amqp.Table{
			rabbitmq.HeaderTopic: "orders.paid",
			rabbitmq.HeaderKey:   "order-42",
			"traceparent":        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			"x-delivery-count":   int64(2),
		},
	}
	m, err := rabbitmq.Decode(&d)
	fmt.Println(err, m.ID[:8], m.Topic, m.Key, string(m.Payload), len(m.Headers))
	_, err = rabbitmq.Decode(&amqp.Delivery{RoutingKey: "orders.paid"})
	fmt.Println(err)
	// Output:
	// <nil> 0190f3a4 orders.paid order-42 {"total":1999} 1
	// rabbitmq: malformed message: no message-id on a delivery with routing key "orders.paid"
}

// A Topology declares a quorum queue whose poison messages the broker moves
// to a dead-letter exchange after DeliveryLimit returns.
func ExampleTopology_QueueArgs() {
	args, err := rabbitmq.Topology{Exchange: "events", Queue: "billing", DeliveryLimit: 3}.QueueArgs()
	fmt.Println(err)
	for _, k := range []string{"x-queue-type", "x-delivery-limit", "x-dead-letter-exchange", "x-dead-letter-strategy"} {
		fmt.Println(k, args[k])
	}
	_, err = rabbitmq.Topology{}.QueueArgs()
	fmt.Println(err)
	// Output:
	// <nil>
	// x-queue-type quorum
	// x-delivery-limit 3
	// x-dead-letter-exchange billing.dlx
	// x-dead-letter-strategy at-least-once
	// rabbitmq: invalid config: Topology.Queue is required
}

// A relay publishes the outbox to a topic exchange, with each event's topic
// as its routing key. (Not run: it needs a broker and a database.)
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	pub, err := rabbitmq.New("amqp://guest:guest@127.0.0.1:5672/", rabbitmq.Config{Exchange: "events"})
	if err != nil {
		log.Fatal(err)
	}
	defer pub.Close()
	relay, err := outbox.NewRelay(pool, pub, outbox.RelayConfig{})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(relay.Run(ctx))
}

// A consumer declares its queue (a quorum queue whose poison messages go to
// billing.dead after five returns), then applies each event once with the
// inbox. (Not run: it needs a broker and a database.)
func ExampleConsumer_Run() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	const url = "amqp://guest:guest@127.0.0.1:5672/"
	conn, err := amqp.Dial(url)
	if err != nil {
		log.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		log.Fatal(err)
	}
	topo := rabbitmq.Topology{Exchange: "events", Queue: "billing", BindingKeys: []string{"orders.#"},
		SingleActiveConsumer: true}
	if err := topo.Declare(ch); err != nil {
		log.Fatal(err)
	}
	_ = conn.Close()

	inbox, err := outbox.NewInbox(outbox.InboxConfig{})
	if err != nil {
		log.Fatal(err)
	}
	c, err := rabbitmq.NewConsumer(url, rabbitmq.ConsumerConfig{Queue: "billing"})
	if err != nil {
		log.Fatal(err)
	}
	err = c.Run(ctx, inbox.Handle(pool, func(ctx context.Context, tx pgx.Tx, m outbox.Message) error {
		_, err := tx.Exec(ctx, "UPDATE invoices SET status = 'due' WHERE order_id = $1", m.Key)
		return err
	}))
	log.Fatal(err)
}
