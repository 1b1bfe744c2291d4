package httpapiobserve_test

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/httpapiobserve"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "httpapiobserve", map[string]func(metric.MeterProvider) error{
		"httpapi": func(mp metric.MeterProvider) error { _, err := httpapiobserve.Hooks(mp); return err },
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "httpapiobserve")
	hooks, err := httpapiobserve.Hooks(m.MP)
	require.NoError(t, err)
	r := httptest.NewRequest("GET", "/v0/products", nil)
	hooks.OnDeprecatedCall(r, httpapi.DeprecatedCall{Name: "v0"}) // the set is built on first use
	hooks.OnDeprecatedCall(r, httpapi.DeprecatedCall{Name: "v0", Gone: true})
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"call":      func() { hooks.OnDeprecatedCall(r, httpapi.DeprecatedCall{Name: "v0"}) },
		"gone call": func() { hooks.OnDeprecatedCall(r, httpapi.DeprecatedCall{Name: "v0", Gone: true}) },
	})
}
