package paginationobserve_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/observe/paginationobserve"
	"github.com/bedrock-go/bedrock/pagination"
)

func Example() {
	// The reader stands in for the exporter observe.Setup installs.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := paginationobserve.Hooks(mp)
	if err != nil {
		panic(err)
	}
	signer, err := pagination.NewSecretSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	pager, err := pagination.New(pagination.Config{
		Signer: signer,
		Sorts:  []pagination.Sort{{Name: "id", Spec: pagination.MustSpec(pagination.Column{Name: "id", Unique: true})}},
		Hooks:  hooks,
	})
	if err != nil {
		panic(err)
	}
	_, err = pager.Query(pagination.Request{Limit: 10, Cursor: "not-a-cursor"})
	fmt.Println(err != nil)

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		for _, dp := range md.Data.(metricdata.Sum[int64]).DataPoints {
			fmt.Println(md.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
		}
	}
	// Output:
	// true
	// bedrock.pagination.cursor_rejections bedrock.pagination.reason=malformed 1
}
