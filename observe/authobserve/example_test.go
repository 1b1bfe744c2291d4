package authobserve_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/token"
	"github.com/bedrock-go/bedrock/observe/authobserve"
)

func Example() {
	// The reader stands in for the exporter observe.Setup installs.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	onFailure, err := authobserve.FailureHook(mp)
	if err != nil {
		panic(err)
	}
	// An authenticator that finds an expired token, as token.Authenticator
	// would.
	expired := auth.AuthenticatorFunc(func(context.Context, *http.Request) (auth.Principal, error) {
		return auth.Principal{}, fmt.Errorf("kid k1: %w", token.ErrExpired)
	})
	authn, err := auth.NewMiddleware(auth.MiddlewareConfig{Authenticators: []auth.Authenticator{expired}, Hooks: auth.Hooks{OnFailure: onFailure}})
	if err != nil {
		panic(err)
	}
	w := httptest.NewRecorder()
	authn.Handler(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/me", nil))

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		for _, dp := range md.Data.(metricdata.Sum[int64]).DataPoints {
			fmt.Println(w.Code, md.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
		}
	}
	// Output: 401 bedrock.auth.failures bedrock.auth.reason=token_expired 1
}
