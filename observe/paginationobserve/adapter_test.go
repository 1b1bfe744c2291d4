package paginationobserve_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/paginationobserve"
	"github.com/bedrock-go/bedrock/pagination"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "paginationobserve", map[string]func(metric.MeterProvider) error{
		"pagination": func(mp metric.MeterProvider) error { _, err := paginationobserve.Hooks(mp); return err },
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "paginationobserve")
	hooks, err := paginationobserve.Hooks(m.MP)
	require.NoError(t, err)
	rejected := &pagination.CursorError{Reason: pagination.ErrCursorSignature}
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"cursor rejected": func() { hooks.OnCursorRejected(rejected) },
	})
}
