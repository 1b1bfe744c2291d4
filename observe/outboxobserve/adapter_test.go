package outboxobserve_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/outboxobserve"
	"github.com/bedrock-go/bedrock/outbox"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "outboxobserve", map[string]func(metric.MeterProvider) error{
		"outbox": func(mp metric.MeterProvider) error { _, err := outboxobserve.Hooks(mp, "x"); return err },
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "outboxobserve")
	hooks, err := outboxobserve.Hooks(m.MP, "main")
	require.NoError(t, err)
	msg := outbox.Message{Topic: "orders.placed"}
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"published": func() { hooks.OnPublish(msg, time.Second) },
		"failed":    func() { hooks.OnFailure(msg, errBoom, time.Second) },
	})
}
