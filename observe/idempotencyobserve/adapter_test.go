package idempotencyobserve_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/idempotencyobserve"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "idempotencyobserve", map[string]func(metric.MeterProvider) error{
		"idempotency": func(mp metric.MeterProvider) error { _, err := idempotencyobserve.Hooks(mp); return err },
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "idempotencyobserve")
	hooks, err := idempotencyobserve.Hooks(m.MP)
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"replay":      func() { hooks.OnReplay(r) },
		"store error": func() { hooks.OnStoreError(r, errBoom) },
	})
}
