package validateobserve_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/validateobserve"
	"github.com/bedrock-go/bedrock/validate"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "validateobserve", map[string]func(metric.MeterProvider) error{
		"validate": func(mp metric.MeterProvider) error { _, err := validateobserve.Hooks(mp); return err },
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "validateobserve")
	hooks, err := validateobserve.Hooks(m.MP)
	require.NoError(t, err)
	invalid := &validate.Errors{}
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"invalid": func() { hooks.OnInvalid(invalid) },
	})
}
