package outboxobserve_test

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/observe/outboxobserve"
	"github.com/bedrock-go/bedrock/outbox"
)

// A service sets the hooks in outbox.RelayConfig; the relay calls them.
// Here they are called as the relay would for one batch, to show what is
// recorded without a database.
func Example() {
	// The reader stands in for the exporter observe.Setup installs.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := outboxobserve.Hooks(mp, "orders")
	if err != nil {
		panic(err)
	}
	placed := outbox.Message{Topic: "orders.placed", Key: "order-41"}
	hooks.OnClaim(2)
	hooks.OnPublish(placed, 120*time.Millisecond) // committed 120ms before it was claimed
	hooks.OnFailure(outbox.Message{Topic: "orders.placed", Key: "order-42"}, context.DeadlineExceeded, time.Second)

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		if sum, ok := md.Data.(metricdata.Sum[int64]); ok {
			for _, dp := range sum.DataPoints {
				fmt.Println(md.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
			}
		}
	}
	// Unordered output:
	// bedrock.outbox.claimed bedrock.outbox.relay=orders 2
	// bedrock.outbox.published bedrock.outbox.relay=orders,messaging.destination.name=orders.placed 1
	// bedrock.outbox.failed bedrock.outbox.relay=orders,error.type=deadline_exceeded,messaging.destination.name=orders.placed 1
}
