package natsjsobserve_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/natsjsobserve"
)

var errDown = errors.New("connection refused")

// An outage is counted and logged: the disconnect, the failed attempts
// (logged sampled), the reconnect (issue 23, item 2).
func TestConnHooks_CountAndLogAnOutage(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "natsjsobserve")
	hooks, err := natsjsobserve.ConnHooks(m.MP, "events")
	require.NoError(t, err)
	var buf bytes.Buffer
	hooks = natsjsobserve.Logged(hooks, slog.New(slog.NewTextHandler(&buf, nil)), "events")
	hooks.OnDisconnect(errDown)
	for range 70 {
		hooks.OnReconnectError(errDown)
	}
	hooks.OnReconnect("nats://127.0.0.1:4222")
	hooks.OnClosed()
	for name, unit := range map[string]string{
		"bedrock.nats.disconnects": "{disconnect}", "bedrock.nats.reconnects": "{reconnect}", "bedrock.nats.closed": "{close}",
	} {
		assert.Equal(t, map[string]int64{"bedrock.nats.connection=events": 1}, m.Counter(t, name, unit), name)
	}
	assert.Equal(t, map[string]int64{"bedrock.nats.connection=events": 70},
		m.Counter(t, "bedrock.nats.reconnect_errors", "{attempt}"))
	out := buf.String()
	assert.Contains(t, out, "nats disconnected")
	assert.Equal(t, 1, strings.Count(out, "nats still unreachable"), "sampled")
	assert.Contains(t, out, "nats reconnected")
	assert.Contains(t, out, "nats connection closed")
	assert.Contains(t, out, "connection=events")
}

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "natsjsobserve", map[string]func(metric.MeterProvider) error{
		"conn": func(mp metric.MeterProvider) error { _, err := natsjsobserve.ConnHooks(mp, "x"); return err },
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "natsjsobserve")
	hooks, err := natsjsobserve.ConnHooks(m.MP, "main")
	require.NoError(t, err)
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"disconnect":      func() { hooks.OnDisconnect(errDown) },
		"reconnect error": func() { hooks.OnReconnectError(errDown) },
	})
}
