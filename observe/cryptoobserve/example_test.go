package cryptoobserve_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/crypto"
	"github.com/bedrock-go/bedrock/observe/cryptoobserve"
)

func ExampleKeyRingHooks() {
	// The reader stands in for the exporter observe.Setup installs.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := cryptoobserve.KeyRingHooks(mp, "pii")
	if err != nil {
		panic(err)
	}
	ring, err := crypto.NewKeyRing(crypto.KeyRingConfig{Hooks: hooks})
	if err != nil {
		panic(err)
	}
	if _, err := ring.Rotate(); err != nil {
		panic(err)
	}
	sealed, err := ring.Seal([]byte("4111 1111 1111 1111"), []byte("card:42"))
	if err != nil {
		panic(err)
	}
	sealed[len(sealed)-1] ^= 1 // tampered with
	_, err = ring.Open(sealed, []byte("card:42"))
	fmt.Println(err != nil)

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		for _, dp := range md.Data.(metricdata.Sum[int64]).DataPoints {
			fmt.Println(md.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
		}
	}
	// Unordered output:
	// true
	// bedrock.crypto.keyring.rotations bedrock.crypto.keyring=pii 1
	// bedrock.crypto.open_failures bedrock.crypto.keyring=pii,bedrock.crypto.reason=decrypt 1
}
