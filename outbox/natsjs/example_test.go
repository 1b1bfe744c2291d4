package natsjs_test

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/bedrock-go/bedrock/outbox/natsjs"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Decode rebuilds the outbox message from a JetStream message's subject,
// headers and body.
func ExampleDecode() {
	h := nats.Header{}
	h.Set("Nats-Msg-Id", "0190f3a4-5b6c-7d8e-9f01-23456789abcd")
	h.Set(natsjs.HeaderTopic, "orders.paid")
	h.Set(natsjs.HeaderKey, "order-42")
	h.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	m, err := natsjs.Decode("events.orders.paid", h, []byte(`{"total":1999}`))
	fmt.Println(err, m.ID[:8], m.Topic, m.Key, string(m.Payload), len(m.Headers))
	// Output: <nil> 0190f3a4 orders.paid order-42 {"total":1999} 1
}

// ConnOptions builds a connection that reconnects forever and reports its
// outages; Publisher.Check puts the connection's state into readiness.
func ExampleConnOptions() {
	opts, err := natsjs.ConnOptions(natsjs.ConnConfig{Hooks: natsjs.ConnHooks{
		OnDisconnect: func(err error) { slog.Warn("nats disconnected", "err", err) },
		OnReconnect:  func(url string) { slog.Info("nats reconnected", "url", url) },
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	url := os.Getenv("BEDROCK_NATS_URL")
	if url == "" {
		url = nats.DefaultURL
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		fmt.Println("NATS unreachable:", err)
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	pub, _ := natsjs.New(js, natsjs.Config{SubjectPrefix: "events."})
	// health.Register("nats", pub.Check, observe.CheckOptions{})
	_ = pub.Check
}
