package txnobserve_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/observe/txnobserve"
	"github.com/bedrock-go/bedrock/txn"
)

// A service sets the hooks in txn.Config; txn calls them. Here they are
// called as txn would for a transfer whose first attempt lost a
// serialization conflict, to show what is recorded without a database.
func Example() {
	// The reader stands in for the exporter observe.Setup installs.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := txnobserve.Hooks(mp)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	conflict := &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
	hooks.OnAttempt(ctx, txn.Attempt{Label: "transfer", Number: 1, Duration: 4 * time.Millisecond, Err: conflict})
	hooks.OnRetry(ctx, txn.Retry{Label: "transfer", Attempt: 1, Err: conflict, Delay: 2 * time.Millisecond})
	hooks.OnAttempt(ctx, txn.Attempt{Label: "transfer", Number: 2, Duration: 3 * time.Millisecond})

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(ctx, &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		if sum, ok := md.Data.(metricdata.Sum[int64]); ok {
			for _, dp := range sum.DataPoints {
				fmt.Println(md.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
			}
		}
	}
	// Unordered output:
	// bedrock.txn.attempts bedrock.txn.label=transfer,bedrock.txn.outcome=serialization_failure 1
	// bedrock.txn.attempts bedrock.txn.label=transfer,bedrock.txn.outcome=committed 1
	// bedrock.txn.retries bedrock.txn.label=transfer,bedrock.txn.retry.reason=serialization_failure 1
}
