package txnobserve_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/txnobserve"
	"github.com/bedrock-go/bedrock/txn"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "txnobserve", map[string]func(metric.MeterProvider) error{
		"txn": func(mp metric.MeterProvider) error { _, err := txnobserve.Hooks(mp); return err },
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "txnobserve")
	hooks, err := txnobserve.Hooks(m.MP)
	require.NoError(t, err)
	attempt := txn.Attempt{Label: "transfer", Number: 1, Duration: time.Millisecond}
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"attempt": func() { hooks.OnAttempt(context.Background(), attempt) },
	})
}
