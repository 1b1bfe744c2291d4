package natsjsobserve_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/observe/natsjsobserve"
	"github.com/bedrock-go/bedrock/outbox/natsjs"
)

// A service counts and logs its NATS connection's outages through the
// hooks of natsjs.ConnOptions. Here the hooks are called as nats.go would
// during an outage.
func Example() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	hooks, err := natsjsobserve.ConnHooks(mp, "events")
	if err != nil {
		fmt.Println(err)
		return
	}
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	hooks = natsjsobserve.Logged(hooks, log, "events")
	if _, err := natsjs.ConnOptions(natsjs.ConnConfig{Hooks: hooks}); err != nil {
		fmt.Println(err)
		return
	}
	hooks.OnDisconnect(nil)
	hooks.OnReconnect("nats://127.0.0.1:4222")

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		fmt.Println(md.Name, md.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
	}
	// Unordered output:
	// level=WARN msg="nats disconnected, reconnecting" connection=events error=<nil>
	// level=INFO msg="nats reconnected" connection=events url=nats://127.0.0.1:4222
	// bedrock.nats.disconnects 1
	// bedrock.nats.reconnects 1
}
