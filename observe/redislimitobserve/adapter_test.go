package redislimitobserve_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/redislimitobserve"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "redislimitobserve", map[string]func(metric.MeterProvider) error{
		"redislimit": func(mp metric.MeterProvider) error { _, err := redislimitobserve.Hooks(mp, "x"); return err },
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "redislimitobserve")
	hooks, err := redislimitobserve.Hooks(m.MP, "api")
	require.NoError(t, err)
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"unavailable": func() { hooks.OnUnavailable(context.DeadlineExceeded, redislimit.FailOpen) },
	})
}
